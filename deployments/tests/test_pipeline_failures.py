"""Failure paths on real nodes: cancel before the chain, INSUFFICIENT_FUNDS then retry after funding,
node down while pending, two workers at once."""
import threading

import pytest
from django.db import connection

from deployments.models import Deployment, DeploymentTransaction
from deployments.pipeline import deployment_advance
from devchain.anvil import rpc
from tokens.chains.evm_reads import pending_nonce
from tokens.networks import get_network

from .conftest import evm_address, set_balance

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
PREMINTED = {"name": "Fail Path", "symbol": "FP", "decimals": 0, "initial_supply": "3"}


def _post(client, network="evm-local"):
    return client.post("/api/v1/token/erc20-preminted/create", {"network": network, **PREMINTED}, format="json")


def _create(client, network="evm-local"):
    response = _post(client, network)
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_cancel_from_queued_and_nothing_reaches_the_chain(anvil_node, user_factory, no_dispatch):
    _, client = user_factory("fail.paths")
    deployment_id = _create(client)
    assert client.post(f"/api/v1/token/deployments/{deployment_id}/cancel", {"reason": "not needed"},
                       format="json").json()["status"] == "cancelled"
    assert deployment_advance(deployment_id=deployment_id) is None  # a late worker does nothing
    assert Deployment.objects.get(pk=deployment_id).status == "cancelled"
    assert not DeploymentTransaction.objects.filter(deployment_id=deployment_id).exists()


def test_insufficient_funds_then_retry_after_funding(sepolia_like, user_factory, no_dispatch):
    body, client = user_factory("fail.paths")
    address = evm_address(body)
    refused = _post(client, "ethereum-sepolia")  # an empty account is refused at POST, nothing queued
    assert refused.status_code == 402 and refused.json()["code"] == "INSUFFICIENT_FUNDS"
    assert not Deployment.objects.exists()
    set_balance(sepolia_like, address, int(refused.json()["details"]["needed"]))
    deployment_id = _create(client, "ethereum-sepolia")
    set_balance(sepolia_like, address, 0)  # spent elsewhere before the worker gets to it
    deployment_advance(deployment_id=deployment_id)
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["status"] == "failed"
    assert detail["error"]["code"] == "INSUFFICIENT_FUNDS" and detail["error"]["retryable"] is True
    needed = int(detail["error"]["details"]["needed_wei"])
    assert detail["error"]["details"]["address"] == address
    assert needed > 0 and not DeploymentTransaction.objects.filter(deployment_id=deployment_id).exists()

    set_balance(sepolia_like, address, needed * 2)  # the customer funds the account
    assert client.post(f"/api/v1/token/deployments/{deployment_id}/retry").status_code == 202
    deployment_advance(deployment_id=deployment_id)  # signs, broadcasts: now pending (no automine)
    assert Deployment.objects.get(pk=deployment_id).status == "pending"
    rpc(sepolia_like.url, "evm_mine", [])
    deployment_advance(deployment_id=deployment_id)
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["status"] == "completed", detail
    history = [h["to_status"] for h in client.get(f"/api/v1/token/deployments/{deployment_id}/history")
               .json()["results"]]
    assert history == ["queued", "failed", "queued", "submitted", "pending", "confirmed", "indexed", "completed"]


def test_node_down_while_pending_stays_pending_then_completes(sepolia_like, user_factory, no_dispatch):
    body, client = user_factory("fail.paths")
    network = get_network("ethereum-sepolia")
    address = evm_address(body)
    set_balance(sepolia_like, address, 10**18)
    deployment_id = _create(client, "ethereum-sepolia")
    assert deployment_advance(deployment_id=deployment_id) is not None
    assert Deployment.objects.get(pk=deployment_id).status == "pending"

    sepolia_like.stop()
    for _ in range(3):
        assert deployment_advance(deployment_id=deployment_id) is not None  # keeps polling, never fails
    deployment = Deployment.objects.get(pk=deployment_id)
    assert deployment.status == "pending" and deployment.error_code == ""

    sepolia_like.restart()  # the node comes back without its mempool: the worker re-broadcasts
    deployment_advance(deployment_id=deployment_id)
    rpc(sepolia_like.url, "evm_mine", [])
    deployment_advance(deployment_id=deployment_id)
    assert Deployment.objects.get(pk=deployment_id).status == "completed"
    tx = DeploymentTransaction.objects.get(deployment_id=deployment_id)
    assert tx.broadcast_attempts >= 2
    assert pending_nonce(network=network, address=address) == tx.nonce + 1


def test_two_workers_at_once_deploy_once(anvil_node, user_factory, no_dispatch):
    _, client = user_factory("fail.paths")
    deployment_id = _create(client)
    barrier = threading.Barrier(2)

    def work():
        barrier.wait()
        try:
            for _ in range(3):
                deployment_advance(deployment_id=deployment_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deployment_advance(deployment_id=deployment_id)
    assert Deployment.objects.get(pk=deployment_id).status == "completed"
    assert DeploymentTransaction.objects.filter(deployment_id=deployment_id).count() == 1
