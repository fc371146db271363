"""Batched confirmation polling (docs/decisions/0013-batched-receipt-polling.md): one node query serves every deployment
waiting on a chain, instead of one receipt query per deployment per poll.

Beat runs `deployments_poll_pending` every DEPLOYMENT_POLL_SECONDS. For each EVM network it sends one
JSON-RPC batch of `eth_getTransactionReceipt` for every broadcast creation transaction of a `pending`
deployment and wakes (queues) only the deployments whose receipt arrived. Their own fallback poll
(DEPLOYMENT_PENDING_FALLBACK_SECONDS) stays as a safety net. Algorand has no batch lookup in algod
and confirms within a round or two, so its deployments keep their own polling.
"""
from __future__ import annotations

import logging

from biatec.core.errors import ChainUnavailable
from tokens.chains import evm
from tokens.networks import EVM, Network, all_networks

from .models import DeploymentStatus, DeploymentTransaction, TransactionStatus

logger = logging.getLogger(__name__)
BATCH_LIMIT = 500


def _waiting(network: Network) -> dict[str, str]:
    """tx hash -> deployment id of the creation transactions still waiting on `network`."""
    rows = (DeploymentTransaction.objects
            .filter(network=network.slug, status=TransactionStatus.BROADCAST,
                    deployment__status=DeploymentStatus.PENDING)
            .order_by("last_broadcast_at").values_list("tx_id", "deployment_id")[:BATCH_LIMIT])
    return {tx_id: str(deployment_id) for tx_id, deployment_id in rows}


def pending_poll(*, network: Network) -> list[str]:
    """Ids of the deployments on `network` whose transaction now has a receipt (one batch query)."""
    waiting = _waiting(network)
    if not waiting:
        return []
    try:
        receipts = evm.get_receipts(network=network, tx_hashes=list(waiting))
    except ChainUnavailable:
        logger.warning("batched receipt poll failed", extra={"network": network.slug, "waiting": len(waiting)})
        return []
    return sorted({waiting[tx_hash] for tx_hash, receipt in receipts.items() if receipt is not None})


def deployments_poll_pending() -> list[str]:
    """Poll every available EVM network once and queue the deployments that can move on."""
    from .tasks import deployment_confirm_task

    ready: list[str] = []
    for network in all_networks():
        if network.family == EVM and network.available:
            ready += pending_poll(network=network)
    for deployment_id in ready:
        deployment_confirm_task.delay(deployment_id)
    return ready
