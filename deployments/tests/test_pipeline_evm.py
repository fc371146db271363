"""ERC-20 deployments through the API and the pipeline, on a real anvil node."""
import pytest
from web3 import Web3

from deployments.models import Deployment, DeploymentTransaction
from deployments.pipeline import deployment_advance
from tokens.chains.evm_artifacts import load_artifact

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def _independent_read(node_url: str, address: str, standard: str) -> dict:
    w3 = Web3(Web3.HTTPProvider(node_url))
    contract = w3.eth.contract(address=address, abi=load_artifact(standard).abi)
    return {"name": contract.functions.name().call(), "symbol": contract.functions.symbol().call(),
            "decimals": contract.functions.decimals().call(), "supply": contract.functions.totalSupply().call()}


@pytest.mark.parametrize("standard", ["erc20-mintable", "erc20-preminted"])
def test_erc20_from_create_to_completed(anvil_node, user_factory, standard, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("pipe.evm")
    request = {"network": "evm-local", "name": f"Pipe {standard}", "symbol": "PIPE", "decimals": 6,
               "initial_supply": "1000000"}
    if standard == "erc20-mintable":
        request["cap"] = "5000000"
    response = client.post(f"/api/v1/token/{standard}/create", request, format="json")
    assert response.status_code == 202, response.content
    deployment_id = response.json()["id"]
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["status"] == "completed", detail
    address = detail["results"]["contract_address"]
    assert _independent_read(anvil_node.url, address, standard) == {
        "name": f"Pipe {standard}", "symbol": "PIPE", "decimals": 6, "supply": 1_000_000}
    history = client.get(f"/api/v1/token/deployments/{deployment_id}/history").json()["results"]
    assert [h["to_status"] for h in history] == ["queued", "submitted", "pending", "confirmed", "indexed",
                                                  "completed"]
    tx = DeploymentTransaction.objects.get(deployment_id=deployment_id)
    assert detail["results"]["tx_ids"] == [tx.tx_id] and tx.status == "confirmed"


def test_running_the_worker_twice_deploys_once(anvil_node, user_factory, monkeypatch):
    from deployments import services

    _, client = user_factory("pipe.evm")
    # as if the broker lost the message: nothing is dispatched on commit
    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    response = client.post("/api/v1/token/erc20-preminted/create",
                           {"network": "evm-local", "name": "Twice", "symbol": "TW", "decimals": 0,
                            "initial_supply": "7"}, format="json")
    deployment_id = response.json()["id"]
    assert Deployment.objects.get(pk=deployment_id).status == "queued"
    for _ in range(3):
        deployment_advance(deployment_id=deployment_id)
    deployment = Deployment.objects.get(pk=deployment_id)
    assert deployment.status == "completed"
    assert DeploymentTransaction.objects.filter(deployment_id=deployment_id).count() == 1
