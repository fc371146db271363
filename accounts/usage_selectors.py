"""Reads of metering: an organization's month (the usage API) and its CSV export (the admin)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum

from biatec.core.csv_export import csv_text

from .models import Organization
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


def usage_per_plan(*, since: Any) -> list[dict[str, Any]]:
    """Staff's overview (the admin dashboard): per plan, the organizations on it and the usage records
    since `since` by kind, accepted and refunded (two grouped queries, whatever the number of rows).
    Organizations without a plan row are on the BIATEC_DEFAULT_PLAN setting's plan."""
    default = str(settings.BIATEC_DEFAULT_PLAN)
    plans: dict[str, dict[str, Any]] = {}

    def plan_row(slug: str | None) -> dict[str, Any]:
        slug = slug or default
        return plans.setdefault(slug, {"plan": slug, "organizations": 0, "deployments": 0, "operations": 0,
                                       "refunded": 0})

    for on_plan in Organization.objects.values("plan__slug").annotate(n=Count("id")):
        plan_row(on_plan["plan__slug"])["organizations"] += on_plan["n"]
    usage = (UsageRecord.objects.filter(occurred_at__gte=since).values("organization__plan__slug", "kind")
             .annotate(accepted=Count("id", filter=Q(refunded_at__isnull=True)),
                       refunded=Count("id", filter=Q(refunded_at__isnull=False))))
    for row in usage:
        target = plan_row(row["organization__plan__slug"])
        if row["kind"] in ("deployment", "operation"):
            target[f"{row['kind']}s"] += row["accepted"]
        target["refunded"] += row["refunded"]
    return sorted(plans.values(), key=lambda r: r["plan"])
