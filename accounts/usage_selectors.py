"""Reads of metering: an organization's month (the usage API) and its CSV export (the admin)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum

from biatec.core.csv_export import csv_text

from .plans import limits_of
from .plans_models import MONTHLY, UsageFee, UsageRecord
from .quotas import month_start, monthly_used, next_month_start


def month_parse(value: str) -> datetime:
    """"YYYY-MM" -> the month's first instant (UTC); ValueError when it is no such month."""
    if len(value) != 7 or value[4] != "-":
        raise ValueError("expected YYYY-MM")
    year, month = int(value[:4]), int(value[5:])
    if not (1 <= month <= 12 and 2000 <= year <= 9999):
        raise ValueError("expected YYYY-MM")
    return month_start(datetime(year, month, 15, tzinfo=month_start().tzinfo))


def _records(organization_id: Any, start: datetime) -> Any:
    return UsageRecord.objects.filter(organization_id=organization_id, occurred_at__gte=start,
                                      occurred_at__lt=next_month_start(start))


def _counts(rows: Any) -> Any:
    return rows.annotate(accepted=Count("id"), refunded=Count("id", filter=Q(refunded_at__isnull=False)))


def usage_month(*, organization: Any, start: datetime) -> dict[str, Any]:
    """Totals per kind and per (kind, network), the chain fees per network and unit, and the
    monthly quotas (used this month, when `start` is the current month)."""
    records = _records(organization.pk, start)
    totals = [{"kind": r["kind"], "accepted": r["accepted"], "refunded": r["refunded"],
               "billable": r["accepted"] - r["refunded"]}
              for r in _counts(records.values("kind")).order_by("kind")]
    by_network = [{"kind": r["kind"], "network": r["network"], "accepted": r["accepted"], "refunded": r["refunded"],
                   "billable": r["accepted"] - r["refunded"]}
                  for r in _counts(records.values("kind", "network")).order_by("kind", "network")]
    fees = [{"network": r["network"], "unit": r["unit"], "amount": str(r["amount"]), "transactions": r["transactions"]}
            for r in UsageFee.objects.filter(record__in=records).values("network", "unit")
            .annotate(amount=Sum("amount"), transactions=Count("id")).order_by("network", "unit")]
    limits = limits_of(organization)
    current = start == month_start()
    quotas = {name: {"limit": limits.of(name),
                     "used": monthly_used(organization.pk, name, at=start),
                     "resets_at": next_month_start(start) if current else None} for name in MONTHLY}
    return {"month": start.strftime("%Y-%m"), "organization_id": organization.pk, "plan": limits.plan,
            "totals": totals, "by_network": by_network, "fees": fees, "quotas": quotas}


CSV_COLUMNS = ("occurred_at", "kind", "subject_id", "network", "standard", "operation_kind", "refunded_at",
               "refund_reason", "fee_amount", "fee_unit", "fee_transactions")


def usage_csv(*, organization_id: Any, start: datetime) -> str:
    """One line per usage record of the month (refunds included, marked), with its chain fees; every
    cell through `biatec.core.csv_export` (never a formula)."""
    records = (_records(organization_id, start).order_by("occurred_at", "id")
               .annotate(fee_amount=Sum("fees__amount"), fee_transactions=Count("fees")))
    units = dict(UsageFee.objects.filter(record__in=_records(organization_id, start))
                 .values_list("record_id", "unit").distinct())
    rows = ([r.occurred_at.isoformat(), r.kind, str(r.subject_id), r.network, r.standard, r.operation_kind,
             r.refunded_at.isoformat() if r.refunded_at else "", r.refund_reason,
             r.fee_amount if r.fee_amount is not None else 0, units.get(r.pk, ""), r.fee_transactions]
            for r in records)
    return csv_text(CSV_COLUMNS, rows)
