"""Batched confirmation polling (docs/decisions/0013-batched-receipt-polling.md): one node query serves every deployment
waiting on a chain, instead of one receipt query per deployment per poll.

Beat runs `deployments_poll_pending` every DEPLOYMENT_POLL_SECONDS. For each network whose adapter
has the `BatchPolling` capability (EVM: one JSON-RPC batch of `eth_getTransactionReceipt`) it asks
once about every broadcast creation transaction of a `pending` deployment and wakes (queues) only the
deployments whose transaction was mined. Their own fallback poll (DEPLOYMENT_PENDING_FALLBACK_SECONDS)
stays as a safety net. Algorand has no batch lookup in algod and confirms within a round or two, so
its deployments keep their own polling.
"""
from __future__ import annotations

import logging

from django.conf import settings
from redis.exceptions import RedisError

from accounts.throttles import throttle_cache
from biatec.core.errors import ChainUnavailable
from tokens.networks import Network, all_networks

from .adapters import BatchPolling, adapter_for_family
from .models import DeploymentStatus, DeploymentTransaction, TransactionStatus
from .queueing import deployment_enqueue

logger = logging.getLogger(__name__)
BATCH_LIMIT = 500


def _waiting(network: Network) -> dict[str, str]:
    """tx hash -> deployment id of the creation transactions still waiting on `network`."""
    rows = (DeploymentTransaction.objects
            .filter(network=network.slug, status=TransactionStatus.BROADCAST,
                    deployment__status=DeploymentStatus.PENDING)
            .order_by("last_broadcast_at").values_list("tx_id", "deployment_id")[:BATCH_LIMIT])
    return {tx_id: str(deployment_id) for tx_id, deployment_id in rows}


def _batch_poller(network: Network) -> BatchPolling | None:
    adapter = adapter_for_family(network.family)
    return adapter if isinstance(adapter, BatchPolling) else None


def batch_polled(network: Network) -> bool:
    """Whether beat's batched poll wakes the pending deployments of `network`."""
    return _batch_poller(network) is not None


def pending_poll(*, network: Network) -> list[str]:
    """Ids of the deployments on `network` whose transaction was mined (one batch query)."""
    poller = _batch_poller(network)
    waiting = _waiting(network) if poller is not None else {}
    if poller is None or not waiting:
        return []
    try:
        mined = poller.poll_batch(network=network, tx_ids=list(waiting))
    except ChainUnavailable:
        logger.warning("batched receipt poll failed", extra={"network": network.slug, "waiting": len(waiting)})
        return []
    return sorted({waiting[tx_id] for tx_id in mined if tx_id in waiting})


def deployments_poll_pending() -> list[str]:
    """Poll every available network with batched polling once; queue the deployments that can move
    on and have no wake still waiting in the queue (`wake_taken` clears it when the task starts)."""
    ready: list[str] = []
    for network in all_networks():
        if network.available and batch_polled(network):
            ready += pending_poll(network=network)
    woken = _without_outstanding_wake(ready)
    for deployment_id in woken:
        deployment_enqueue(deployment_id, status=DeploymentStatus.PENDING)
    return woken


def _wake_key(deployment_id: str) -> str:
    return f"deployment-wake:{deployment_id}"


def _without_outstanding_wake(ids: list[str]) -> list[str]:
    """The ids not woken already by a message still in the queue. Without this, a backlog was woken
    on every poll (every second) until a worker took it: thousands of duplicate tasks per burst,
    which kept the workers from the jobs queued behind them. The marker expires after
    DEPLOYMENT_SWEEP_GRACE_SECONDS (a lost message is woken again then); without Redis every id is
    woken, as before."""
    cache = throttle_cache()  # the Redis of the shared short-lived counters and markers
    timeout = max(1, int(settings.DEPLOYMENT_SWEEP_GRACE_SECONDS))
    try:
        return [i for i in ids if cache.add(_wake_key(i), 1, timeout=timeout)]
    except RedisError:
        return ids


def wake_taken(deployment_id: str) -> None:
    """A woken deployment's task started: the next poll may wake it again."""
    try:
        throttle_cache().delete(_wake_key(deployment_id))
    except RedisError:
        pass
