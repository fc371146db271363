"""A real ERC-20 deployment on anvil, from `queued` to `completed`, produces one signed delivery per
transition to a subscribed loopback receiver, in order."""
import pytest

from webhooks.tests.conftest import signature_valid

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def test_chain_deployment_delivers_every_transition_in_order(anvil_node, member, receiver, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    subscription = member.subscribe(receiver.url, event_types=["*"])
    response = member.client.post("/api/v1/token/erc20-preminted/create",
                                   {"network": "evm-local", "name": "Hooked", "symbol": "HK", "decimals": 0,
                                    "initial_supply": "9"}, format="json")
    assert response.status_code == 202, response.content
    deployment_id = response.json()["id"]
    assert member.client.get(f"/api/v1/token/deployments/{deployment_id}").json()["status"] == "completed"
    from tests.celery_worker import wait_for

    assert wait_for(lambda: len(receiver.requests) >= 6, timeout=30), receiver.types()
    assert receiver.types() == ["deployment.queued", "deployment.submitted", "deployment.pending",
                                "deployment.confirmed", "deployment.indexed", "deployment.completed"]
    for request in receiver.requests:
        assert signature_valid(subscription["secret"], request)
        assert request.json["data"]["id"] == deployment_id
    assert len({r.event_id for r in receiver.requests}) == 6
    assert receiver.requests[-1].json["data"]["results"]["contract_address"]


def test_token_operation_delivers_operation_events_in_order(anvil_node, member, receiver, settings):
    """A mint on anvil: `operation.queued` ... `operation.completed`, signed, each carrying the
    operation and its token."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    created = member.client.post("/api/v1/token/erc20-mintable/create",
                                 {"network": "evm-local", "name": "Hooked Ops", "symbol": "HO", "decimals": 0,
                                  "initial_supply": "9", "cap": "100"}, format="json")
    assert created.status_code == 202, created.content
    token = member.client.get("/api/v1/tokens").json()["results"][0]
    states = ["queued", "submitted", "pending", "confirmed", "indexed", "completed"]
    subscription = member.subscribe(receiver.url, event_types=[f"operation.{s}" for s in states])
    response = member.client.post(f"/api/v1/tokens/{token['id']}/operations/mint",
                                  {"to": "0x000000000000000000000000000000000000dEaD", "amount": "5"}, format="json")
    assert response.status_code == 202, response.content
    from tests.celery_worker import wait_for

    assert wait_for(lambda: len(receiver.requests) >= 6, timeout=30), receiver.types()
    assert receiver.types() == ["operation.queued", "operation.submitted", "operation.pending",
                                "operation.confirmed", "operation.indexed", "operation.completed"]
    for request in receiver.requests:
        assert signature_valid(subscription["secret"], request)
        assert request.json["data"]["operation"]["id"] == response.json()["id"]
        assert request.json["data"]["token"]["id"] == token["id"]
    assert receiver.requests[-1].json["data"]["operation"]["status"] == "completed"
