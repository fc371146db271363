"""Writes of metering (docs/plans-and-usage.md, "Metering"): one usage record per billable event,
its refund, and the chain fees of its transactions. Called by the deployment pipeline's code, in
the transaction of the event (accounts imports no deployments code).

Every write is idempotent: a record is unique per (kind, subject id) and a fee per (network,
transaction id), so a replayed request, a retried task or a re-confirmed transaction (after a
reorg) never counts twice. Changes of a record (refund, re-charge on retry) keep history rows.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from .plans_models import UsageFee, UsageRecord


@transaction.atomic
def usage_record(*, organization_id: Any, kind: str, subject_id: Any, network: str, standard: str = "",
                 operation_kind: str = "", occurred_at: datetime | None = None) -> UsageRecord:
    """The usage record of one billable event (created once; later calls return it)."""
    record, _ = UsageRecord.objects.get_or_create(
        kind=kind, subject_id=subject_id,
        defaults={"organization_id": organization_id, "network": network, "standard": standard,
                  "operation_kind": operation_kind, "occurred_at": occurred_at or timezone.now()})
    return record


@transaction.atomic
def usage_refund(*, kind: str, subject_id: Any, reason: str) -> UsageRecord | None:
    """Refund the event (nothing of it reached a chain): it stops counting towards the quota and the
    invoice, and stays listed as refunded. None when the subject has no record."""
    record = UsageRecord.objects.select_for_update().filter(kind=kind, subject_id=subject_id).first()
    if record is None or record.refunded_at is not None:
        return record
    record.refunded_at, record.refund_reason = timezone.now(), reason[:255]
    record.save(update_fields=["refunded_at", "refund_reason", "updated_at"])
    return record


@transaction.atomic
def usage_recharge(*, kind: str, subject_id: Any) -> UsageRecord | None:
    """A refunded event that is retried counts again (its history keeps the refund)."""
    record = UsageRecord.objects.select_for_update().filter(kind=kind, subject_id=subject_id).first()
    if record is None or record.refunded_at is None:
        return record
    record.refunded_at, record.refund_reason = None, ""
    record.save(update_fields=["refunded_at", "refund_reason", "updated_at"])
    return record


def usage_fee_record(*, kind: str, subject_id: Any, network: str, tx_id: str, amount: int, unit: str,
                     payer: str = "") -> bool:
    """The fee a chain charged for one transaction of the event, once per transaction (a second call,
    e.g. a re-confirmation after a reorg, changes nothing). Two statements, in the caller's
    transaction (the pipeline's, which marks the transaction confirmed). False when the subject has
    no usage record (jobs created before metering)."""
    record_id = UsageRecord.objects.filter(kind=kind, subject_id=subject_id).values_list("pk", flat=True).first()
    if record_id is None:
        return False
    UsageFee.objects.bulk_create([UsageFee(record_id=record_id, network=network, tx_id=tx_id, payer=payer[:64],
                                           amount=Decimal(int(amount)), unit=unit)], ignore_conflicts=True)
    return True
