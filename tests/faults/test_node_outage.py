"""The chain node goes away under pending deployments (issue 15, fault suite): the test's own anvil on
its own port, stopped and started by the test, with a real worker (prefork, embedded beat) on a
private Redis.

- Down for FAULTS_NODE_DOWN_SECONDS (60) while every deployment is `pending`: none is marked failed
  while the node is away, all complete once it is back, one contract each, no nonce gap.
- Restarted with a wiped chain (a fresh anvil on the same port): what the node knew is gone, so the
  pipeline must broadcast the stored signed bytes again (docs/architecture.md, "The exactly-once rule",
  rule 3) and finish with exactly one contract per deployment on the new chain, never "completed"
  from a receipt that vanished.

The nodes do not mine on their own (`--no-mining`) until the test says so, so the deployments are
caught in the state the test wants; the sender is given ether with anvil's balance cheat (no mining
needed), on the new chain too (a reset devnet hands out its genesis funds again).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from deployments.models import Deployment
from devchain.anvil import free_port, rpc
from tests.celery_worker import WorkerProcess, wait_for
from tests.chain_settings import network_node
from tests.faults.conftest import broker_on
from tests.faults.deployment_jobs import deployment_statuses, evm_sender, evm_verify
from tests.faults.jobs import REGISTRY

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.faults, pytest.mark.django_db(transaction=True)]
JOBS = 3
KIND = REGISTRY["deployment:erc20-preminted"]
DOWN_SECONDS = float(os.environ.get("FAULTS_NODE_DOWN_SECONDS", "60"))
CONFIRMATIONS = 3
WIPED_WAIT_SECONDS = 30.0


@pytest.fixture(scope="module")
def node_port() -> Iterator[int]:
    """One port for the module: each test starts its own anvil there, registered as `evm-local` (the
    worker's environment names this URL)."""
    port = free_port()
    with network_node("evm-local", {"url": f"http://127.0.0.1:{port}"}):
        yield port


@pytest.fixture(scope="module")
def outage_worker(django_db_setup, node_port, private_redis) -> Iterator[tuple[WorkerProcess, str]]:
    broker = broker_on(private_redis)
    worker = WorkerProcess(broker, {
        "DEPLOYMENT_POLL_SECONDS": "0.3",
        "DEPLOYMENT_POLL_MAX_SECONDS": "3",  # the backoff while the node is away stays short
        "DEPLOYMENT_PENDING_FALLBACK_SECONDS": "1",
        "DEPLOYMENT_SWEEP_INTERVAL_SECONDS": "1",
        "DEPLOYMENT_SWEEP_GRACE_SECONDS": "10",
        "EVM_STUCK_TX_SECONDS": "3600",  # an unmined transaction here is the test's doing, not a stuck one
        "CHAIN_CONFIRMATIONS": f"evm-local={CONFIRMATIONS}",  # `confirmed` lasts until the test mines more
    }, pool="prefork", concurrency=2, beat=True)
    yield worker, broker
    worker.stop()


@pytest.fixture
def own_anvil(anvil_factory, node_port):
    """A fresh anvil that does not mine until told, on the module's port."""
    return anvil_factory(port=node_port, extra_args=["--no-mining"])


def _fund(url: str, address: str) -> None:
    rpc(url, "anvil_setBalance", [address, hex(10**21)])


def _start_jobs(user, node, broker: str) -> list[str]:
    _fund(node.url, evm_sender(user))
    ids = [KIND.create(user) for _ in range(JOBS)]
    for job_id in ids:
        KIND.enqueue(job_id, broker)
    return ids


def _all(ids: list[str], status: str) -> bool:
    return all(s == status for s in deployment_statuses(ids).values())


def _outcome(ids: list[str]) -> list[dict]:
    return list(Deployment.objects.filter(pk__in=ids).values("status", "error_code", "error_message"))


def test_node_down_while_pending_then_back(own_anvil, outage_worker, no_dispatch, chain_user):
    worker, broker = outage_worker
    user = chain_user("faults.node.down")
    before = KIND.baseline(user)
    ids = _start_jobs(user, own_anvil, broker)
    assert wait_for(lambda: _all(ids, "pending"), timeout=60), (_outcome(ids), worker.output()[-3000:])

    own_anvil.stop()  # SIGTERM: anvil saves its chain; its pool may or may not come back
    seen: set[str] = set()
    deadline = time.monotonic() + DOWN_SECONDS
    while time.monotonic() < deadline:
        statuses = deployment_statuses(ids)
        seen |= set(statuses.values())
        assert "failed" not in statuses.values(), _outcome(ids)
        time.sleep(1)
    assert seen == {"pending"}  # nothing moved on without a node, nothing failed

    own_anvil.extra_args = ("--block-time", "1")
    own_anvil.restart()  # same port, same chain (its state file), now mining
    assert wait_for(lambda: _all(ids, "completed"), timeout=90), (_outcome(ids), worker.output()[-3000:])
    verdict = evm_verify(user, before, ids)
    assert verdict.ok, verdict


def _wipe(node, anvil_factory, user) -> None:
    """The node comes back with an empty chain: a fresh anvil on the same port, mining a block a
    second; the sender gets its ether again (nothing of its old nonces or contracts remains)."""
    node.stop()
    fresh = anvil_factory(port=node.port, extra_args=["--block-time", "1"])
    assert int(rpc(fresh.url, "eth_blockNumber"), 16) == 0
    _fund(fresh.url, evm_sender(user))


def test_wiped_chain_rebroadcasts_pending_deployments(own_anvil, anvil_factory, outage_worker, no_dispatch,
                                                      chain_user):
    """Broadcast, never mined, then the chain is wiped: the node no longer knows the transactions and
    the pipeline sends the stored bytes again; exactly one contract per deployment on the new chain."""
    worker, broker = outage_worker
    user = chain_user("faults.node.wiped")
    ids = _start_jobs(user, own_anvil, broker)
    assert wait_for(lambda: _all(ids, "pending"), timeout=60), (_outcome(ids), worker.output()[-3000:])
    _wipe(own_anvil, anvil_factory, user)
    assert wait_for(lambda: _all(ids, "completed"), timeout=60), (_outcome(ids), worker.output()[-3000:])
    verdict = evm_verify(user, 0, ids)  # on the new chain: nonces 0..JOBS-1, a contract at each
    assert verdict.ok, verdict


def test_wiped_chain_after_receipt_rebroadcasts_instead_of_waiting(own_anvil, anvil_factory, outage_worker,
                                                                   no_dispatch, chain_user):
    """Mined (receipts seen, the deployments `confirmed`, waiting for depth), then the chain is wiped:
    the receipts vanished. The stored bytes must be broadcast again and land once each; success from
    the vanished receipt (`completed` without a contract on the new chain) would be a lie."""
    worker, broker = outage_worker
    user = chain_user("faults.node.reorged")
    ids = _start_jobs(user, own_anvil, broker)
    assert wait_for(lambda: _all(ids, "pending"), timeout=60), (_outcome(ids), worker.output()[-3000:])
    rpc(own_anvil.url, "evm_mine")
    assert wait_for(lambda: _all(ids, "confirmed"), timeout=30), (_outcome(ids), worker.output()[-3000:])
    _wipe(own_anvil, anvil_factory, user)
    completed = wait_for(lambda: _all(ids, "completed"), timeout=WIPED_WAIT_SECONDS)
    assert not any(s == "failed" for s in deployment_statuses(ids).values()), _outcome(ids)
    assert completed, _outcome(ids)
    verdict = evm_verify(user, 0, ids)  # a contract for each on the new chain, not the vanished one
    assert verdict.ok, verdict
