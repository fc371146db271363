"""Local funding in bursts: one dispenser payment for several Algorand deployments of one account
(the payment goes through the real devnet dispenser, counted by a thin wrapper named in LOCAL_FAUCET)."""
import pytest

from devchain import faucet

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
CALLS: list[dict] = []


def counting_fund(**kwargs) -> None:
    CALLS.append(kwargs)
    faucet.fund(**kwargs)


def test_a_burst_of_algorand_deployments_costs_one_dispenser_payment(algod_devnet_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.LOCAL_FAUCET = "tests.perf.test_funding.counting_fund"
    settings.LOCAL_FUNDING_BUFFER_STEPS = 10
    CALLS.clear()
    body, client = user_factory("burst.funding")
    for n in range(3):
        response = client.post("/api/v1/token/asa-ft/create", {
            "network": "algorand-localnet", "name": f"Burst {n}", "unit_name": f"BU{n}", "total": "10",
            "decimals": 0}, format="json")
        assert response.status_code == 202, response.content
        assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    assert [c["address"] for c in CALLS] == [body["algorand_address"]]
