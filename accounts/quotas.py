"""The quota check of every create (docs/plans-and-usage.md, "Quotas").

Called inside the transaction that creates the object, after the request's own checks and before
anything is queued or signed. It first locks the organization's row (`SELECT ... FOR NO KEY UPDATE`:
it blocks other quota checks of the organization, not the inserts that reference it), then counts:
concurrent creates of one organization are serialised, and the last one over the limit is refused,
whatever the concurrency (20 creates on Free: 3 accepted, 17 answered 402).

Refusals: 402 `QUOTA_EXCEEDED` with `details` {quota, limit, used, resets_at (monthly quotas, else
null), plan}; 402 `PLAN_NETWORK_NOT_ALLOWED` for a main network on a plan of test networks only.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from biatec.core.errors import ApplicationError

from .models import Organization
from .plans import limits_of
from .plans_models import DEPLOYMENTS, LIMITS, MONTHLY, OPERATIONS, UsageKind, UsageRecord

MONTHLY_KIND = {DEPLOYMENTS: UsageKind.DEPLOYMENT, OPERATIONS: UsageKind.OPERATION}


class QuotaExceeded(ApplicationError):
    code = "QUOTA_EXCEEDED"
    http_status = 402
    default_message = "Your plan's limit is reached."


class PlanNetworkNotAllowed(ApplicationError):
    code = "PLAN_NETWORK_NOT_ALLOWED"
    http_status = 402
    default_message = "Your plan allows test networks only."


def month_start(at: datetime | None = None) -> datetime:
    """The first instant of `at`'s calendar month, UTC (quotas and usage are per UTC month)."""
    at = (at or timezone.now()).astimezone(UTC)
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(at: datetime | None = None) -> datetime:
    start = month_start(at)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def organization_lock(organization_id: Any) -> Organization:
    """Lock the organization's row until the caller's transaction ends (quota checks serialise on it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quota checks run inside the transaction that creates the object")
    return Organization.objects.select_for_update(no_key=True).get(pk=organization_id)


def monthly_used(organization_id: Any, quota: str, *, at: datetime | None = None) -> int:
    """Accepted, not refunded usage records of the quota's kind in the month of `at` (default now)."""
    start = month_start(at)
    return UsageRecord.objects.filter(
        organization_id=organization_id, kind=MONTHLY_KIND[quota], occurred_at__gte=start,
        occurred_at__lt=next_month_start(start), refunded_at__isnull=True).count()


def quota_check(organization: Any, quota: str, *, used: int | Callable[[], int] | None = None,
                adding: int = 1, serialised_by_caller: bool = False) -> None:
    """QuotaExceeded unless `adding` more objects fit the organization's limit `quota` (an
    accounts.plans_models.LIMITS name). `used`: the count now, best as a callable (it is then
    counted after the lock, race-free); monthly quotas count their usage records themselves.

    The API-key helper calls `quota_check(organization, "api_keys", used=lambda: <active keys>.count())`
    in the transaction that creates the key. `serialised_by_caller`: the caller already holds a lock
    that serialises the count (the allow list's token row: its limit is per token), so the
    organization's row is not locked too (which could deadlock against that lock's order)."""
    if quota not in LIMITS:
        raise ValueError(f"unknown quota {quota!r}")
    limits = limits_of(organization)
    limit = limits.of(quota)
    if limit is None:
        return
    if not serialised_by_caller:
        organization_lock(organization.pk)
    if used is None:
        if quota not in MONTHLY:
            raise ValueError(f"quota {quota!r} needs `used`")
        count = monthly_used(organization.pk, quota)
    else:
        count = used() if callable(used) else used
    if count + adding > limit:
        resets_at = next_month_start().isoformat().replace("+00:00", "Z") if quota in MONTHLY else None
        raise QuotaExceeded(
            f"Your plan allows {limit} {quota.replace('_', ' ')}; {count} used.",
            details={"quota": quota, "limit": limit, "used": count, "resets_at": resets_at, "plan": limits.plan})
    # 80 % and 100 % of the limit: the owners and admins are e-mailed once per threshold and period,
    # in this transaction (nothing is sent if the create rolls back; docs/notifications.md).
    from .notifications_services import notify_quota_threshold

    notify_quota_threshold(organization_id=organization.pk, kind=quota, used=count + adding, limit=limit,
                           period=None if quota in MONTHLY else "")


def plan_network_check(organization: Any, network: Any) -> None:
    """PlanNetworkNotAllowed for a main network (`tokens.networks.Network.is_test` false) when the
    organization's plan (or override) allows test networks only."""
    if network.is_test:
        return
    limits = limits_of(organization)
    if not limits.mainnet_allowed:
        raise PlanNetworkNotAllowed(
            f"Your plan ({limits.plan}) allows test and local networks only, not {network.name}.",
            details={"network": network.slug, "plan": limits.plan})
