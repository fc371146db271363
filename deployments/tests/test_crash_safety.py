"""Kill a real Celery worker (SIGKILL) right after the signed transaction is stored (after_store_signed),
and right after it was broadcast; a new worker finishes the deployment with exactly one token on chain."""
import pytest

from deployments import services
from deployments.models import Deployment, DeploymentTransaction
from deployments.tasks import deployment_submit_task
from tests.celery_worker import WorkerProcess, fresh_broker_url, publish, wait_for
from tokens.chains.evm_reads import pending_nonce
from tokens.networks import get_network

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("fault_point", ["after_store_signed", "after_broadcast"])
def test_worker_killed_mid_deployment_deploys_exactly_once(anvil_node, user_factory, monkeypatch, fault_point):
    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    _, client = user_factory("crash.safety")
    response = client.post("/api/v1/token/erc20-preminted/create",
                           {"network": "evm-local", "name": "Crash", "symbol": "CR", "decimals": 0,
                            "initial_supply": "5"}, format="json")
    deployment_id = response.json()["id"]
    broker = fresh_broker_url()
    publish(deployment_submit_task, broker, deployment_id)

    doomed = WorkerProcess(broker, {"FAULT_INJECTION": fault_point})
    try:
        assert doomed.wait_exit(timeout=60) == -9, doomed.output()  # killed by its own fault hook
    finally:
        doomed.stop()
    deployment = Deployment.objects.get(pk=deployment_id)
    assert deployment.status == "submitted"
    tx = DeploymentTransaction.objects.get(deployment_id=deployment_id)
    network = get_network("evm-local")
    nonce_after_crash = pending_nonce(network=network, address=tx.sender)
    assert nonce_after_crash == tx.nonce + (1 if fault_point == "after_broadcast" else 0)

    survivor = WorkerProcess(broker)  # the unacknowledged message is redelivered to it
    try:
        done = wait_for(lambda: Deployment.objects.get(pk=deployment_id).status == "completed", timeout=60)
        assert done, survivor.output()
    finally:
        survivor.stop()
    assert DeploymentTransaction.objects.filter(deployment_id=deployment_id).count() == 1
    assert pending_nonce(network=network, address=tx.sender) == tx.nonce + 1  # one creation, no second
    deployment = Deployment.objects.get(pk=deployment_id)
    assert deployment.results["tx_ids"] == [tx.tx_id]


@pytest.mark.parametrize("fault_point", ["after_store_signed", "after_broadcast"])
def test_worker_killed_mid_algorand_deployment_creates_one_asset(algod_devnet_node, user_factory, monkeypatch,
                                                                 fault_point):
    from algosdk.v2client.algod import AlgodClient

    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    body, client = user_factory("crash.safety")
    algod = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)

    def created_assets() -> int:  # read with plain algosdk, not the product's code
        return int(algod.account_info(body["algorand_address"]).get("total-created-assets", 0))

    before = created_assets()
    response = client.post("/api/v1/token/asa-ft/create",
                           {"network": "algorand-localnet", "name": "Crash ASA", "unit_name": "CRA",
                            "total": "100", "decimals": 0}, format="json")
    deployment_id = response.json()["id"]
    broker = fresh_broker_url()
    publish(deployment_submit_task, broker, deployment_id)
    doomed = WorkerProcess(broker, {"FAULT_INJECTION": fault_point})
    try:
        assert doomed.wait_exit(timeout=60) == -9, doomed.output()
    finally:
        doomed.stop()
    assert Deployment.objects.get(pk=deployment_id).status == "submitted"
    assert created_assets() == before + (1 if fault_point == "after_broadcast" else 0)

    survivor = WorkerProcess(broker)
    try:
        assert wait_for(lambda: Deployment.objects.get(pk=deployment_id).status == "completed", timeout=60), \
            survivor.output()
    finally:
        survivor.stop()
    assert created_assets() == before + 1
    assert DeploymentTransaction.objects.filter(deployment_id=deployment_id).count() == 1
