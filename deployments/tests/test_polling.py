"""Batched confirmation polling: one receipt batch per chain wakes every deployment that was mined."""
import pytest

from deployments import services
from deployments.models import Deployment
from deployments.pipeline import deployment_advance
from deployments.polling import deployments_poll_pending, pending_poll
from devchain.anvil import rpc
from tokens.networks import get_network

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def test_one_poll_wakes_every_mined_deployment(anvil_factory, user_factory, settings, monkeypatch):
    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    node = anvil_factory(chain_id=11155111, extra_args=["--no-mining"])
    settings.CHAIN_NODES = {**settings.CHAIN_NODES, "ethereum-sepolia": {"url": node.url}}
    settings.CHAIN_CONFIRMATIONS = {"ethereum-sepolia": 1}
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("poll.batch")
    from accounts.models import User
    from accounts.signing import evm_account_ensure

    address = evm_account_ensure(user=User.objects.get(pk=body["id"]), chain_id=11155111).address
    rpc(node.url, "anvil_setBalance", [address, hex(10**19)])
    ids = []
    for i in range(3):
        response = client.post("/api/v1/token/erc20-preminted/create",
                               {"network": "ethereum-sepolia", "name": f"Batch {i}", "symbol": "BT", "decimals": 0,
                                "initial_supply": "1"}, format="json")
        ids.append(response.json()["id"])
        deployment_advance(deployment_id=ids[-1])
    assert {d.status for d in Deployment.objects.filter(pk__in=ids)} == {"pending"}
    network = get_network("ethereum-sepolia")
    assert pending_poll(network=network) == []  # nothing mined yet: nobody is woken

    rpc(node.url, "evm_mine", [])
    assert pending_poll(network=network) == sorted(ids)
    woken = deployments_poll_pending()  # eager here: the woken confirm tasks run inline
    assert sorted(woken) == sorted(ids)
    assert {d.status for d in Deployment.objects.filter(pk__in=ids)} == {"completed"}
    addresses = {d.results["contract_address"] for d in Deployment.objects.filter(pk__in=ids)}
    assert len(addresses) == 3
    assert all(rpc(node.url, "eth_getCode", [a, "latest"]) not in ("0x", None) for a in addresses)  # on chain


def test_a_deployment_is_woken_once_while_its_wake_waits_in_the_queue(anvil_factory, user_factory, settings,
                                                                       monkeypatch):
    """A backlog is not woken on every poll: one message per deployment until its task starts."""
    from deployments import polling
    from deployments.tasks import deployment_confirm_task

    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    node = anvil_factory(chain_id=11155111, extra_args=["--no-mining"])
    settings.CHAIN_NODES = {**settings.CHAIN_NODES, "ethereum-sepolia": {"url": node.url}}
    settings.CHAIN_CONFIRMATIONS = {"ethereum-sepolia": 1}
    body, client = user_factory("poll.backlog")
    from accounts.models import User
    from accounts.signing import evm_account_ensure

    address = evm_account_ensure(user=User.objects.get(pk=body["id"]), chain_id=11155111).address
    rpc(node.url, "anvil_setBalance", [address, hex(10**19)])
    deployment_id = client.post("/api/v1/token/erc20-preminted/create", {
        "network": "ethereum-sepolia", "name": "Backlog", "symbol": "BL", "decimals": 0, "initial_supply": "1"},
        format="json").json()["id"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(polling, "deployment_enqueue", lambda *_a, **_k: None)  # the queue is backed up
    deployment_advance(deployment_id=deployment_id)
    rpc(node.url, "evm_mine", [])
    assert Deployment.objects.get(pk=deployment_id).status == "pending"  # mined, nobody took it yet
    assert deployments_poll_pending() == [deployment_id]
    assert deployments_poll_pending() == [] and deployments_poll_pending() == []  # its wake still waits
    deployment_confirm_task(deployment_id)  # the worker takes the message
    assert Deployment.objects.get(pk=deployment_id).status == "completed"
