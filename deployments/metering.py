"""The pipeline's side of plans and metering (docs/plans-and-usage.md): the quota checks of the
creates, one usage record per accepted job, its refund when nothing reached a chain, and the chain
fee of every settled transaction. The records themselves are written by `accounts.usage_services`.
"""
from __future__ import annotations

from typing import Any

from accounts import quotas, usage_services
from accounts.plans_models import DEPLOYMENTS, OPERATIONS, UsageKind
from tokens.networks import get_network
from tokens.standards import operations as ops

from .adapters import ChainAdapter, ChainJob, StoredTx, TxState
from .models import ChainJobRow, ChainTransactionRow, Deployment, DeploymentStatus, TransactionStatus


def usage_kind_of(job: ChainJobRow) -> str:
    if isinstance(job, Deployment):
        return UsageKind.DEPLOYMENT
    return UsageKind.SYSTEM_OPERATION if getattr(job, "kind", "") in ops.SYSTEM_KINDS else UsageKind.OPERATION


def deployment_quota_check(*, organization: Any, network_slug: str) -> None:
    """In the create's transaction, before the row: the plan's networks, then the monthly count."""
    quotas.plan_network_check(organization, get_network(network_slug))
    quotas.quota_check(organization, DEPLOYMENTS)


def operation_quota_check(*, organization: Any) -> None:
    quotas.quota_check(organization, OPERATIONS)


def job_metered(job: ChainJobRow) -> None:
    """The usage record of a job just created (in its transaction; once per job)."""
    usage_services.usage_record(
        organization_id=job.organization_id, kind=usage_kind_of(job), subject_id=job.pk, network=job.network,
        standard=job.standard, operation_kind=getattr(job, "kind", ""), occurred_at=job.created_at)


def reached_chain(job: ChainJobRow) -> bool:
    """Whether any transaction of the job may have reached a chain: a node accepted it (broadcast,
    confirmed), it was included (a reverted one has its block), or it was replaced after being sent.
    Signed-only rows, and rows a node refused, never reached one."""
    txs = job.transactions  # type: ignore[attr-defined]
    return bool(txs.filter(status__in=[TransactionStatus.BROADCAST, TransactionStatus.CONFIRMED]).exists()
                or txs.filter(confirmed_in__isnull=False).exists()
                or txs.filter(status=TransactionStatus.SUPERSEDED, broadcast_attempts__gt=0).exists())


def job_transition_metered(job: ChainJobRow, *, previous: str, to: str, reason: str) -> None:
    """In the transition's transaction: cancelled or failed before anything reached a chain refunds
    the job's usage; a retry of a refunded job (failed -> queued) counts it again."""
    if to in (DeploymentStatus.CANCELLED, DeploymentStatus.FAILED):
        if not reached_chain(job):
            usage_services.usage_refund(kind=usage_kind_of(job), subject_id=job.pk,
                                        reason=f"{to} before reaching a chain: {reason}")
    elif to == DeploymentStatus.QUEUED and previous == DeploymentStatus.FAILED:
        usage_services.usage_recharge(kind=usage_kind_of(job), subject_id=job.pk)


def tx_fee_metered(adapter: ChainAdapter, chain_job: ChainJob, job: ChainJobRow, tx: ChainTransactionRow,
                   stored: StoredTx, state: TxState) -> None:
    """The fee a settled transaction paid (adapters with the `fee` capability), once per transaction."""
    fee_of = getattr(adapter, "fee", None)
    fee = fee_of(chain_job, stored, state) if fee_of is not None else None
    if fee is None:
        return
    amount, unit = fee
    usage_services.usage_fee_record(kind=usage_kind_of(job), subject_id=job.pk, network=job.network,
                                    tx_id=tx.tx_id, amount=amount, unit=unit, payer=tx.sender)
