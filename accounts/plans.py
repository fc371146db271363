"""An organization's plan and effective limits (its plan's, replaced by staff overrides).

`SEED` is the four plans of the issue; migration 0009 seeds the same rows, and `plan_by_slug`
recreates a missing seeded plan from it (a flushed test database, a fresh install without data).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .plans_models import LIMITS, MAINNET, Plan, PlanOverride

# None: unlimited.
SEED: tuple[dict[str, Any], ...] = (
    {"slug": "free", "name": "Free", "deployments_per_month": 3, "operations_per_month": 50,
     "allowlist_entries_per_token": 25, "webhook_subscriptions": 1, "api_keys": 1, "members": 3,
     "requests_per_minute": 60, "mainnet_allowed": False},
    {"slug": "basic", "name": "Basic", "deployments_per_month": 10, "operations_per_month": 1000,
     "allowlist_entries_per_token": 500, "webhook_subscriptions": 5, "api_keys": 5, "members": 10,
     "requests_per_minute": 300, "mainnet_allowed": True},
    {"slug": "premium", "name": "Premium", "deployments_per_month": 50, "operations_per_month": 10000,
     "allowlist_entries_per_token": 10000, "webhook_subscriptions": 20, "api_keys": 20, "members": 50,
     "requests_per_minute": 1200, "mainnet_allowed": True},
    {"slug": "enterprise", "name": "Enterprise", "deployments_per_month": None, "operations_per_month": None,
     "allowlist_entries_per_token": None, "webhook_subscriptions": None, "api_keys": None, "members": None,
     "requests_per_minute": None, "mainnet_allowed": True},
)
SEED_BY_SLUG = {row["slug"]: row for row in SEED}


@dataclass(frozen=True)
class Limits:
    plan: str
    values: dict[str, int | None]
    mainnet_allowed: bool

    def of(self, name: str) -> int | None:
        return self.values[name]


def plan_by_slug(slug: str) -> Plan:
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        seed = SEED_BY_SLUG[slug]  # an unknown slug in BIATEC_DEFAULT_PLAN is a configuration error
        plan, _ = Plan.objects.get_or_create(slug=slug, defaults={k: v for k, v in seed.items() if k != "slug"})
    return plan


def plan_default() -> Plan:
    return plan_by_slug(settings.BIATEC_DEFAULT_PLAN)


def plan_of(organization: Any) -> Plan:
    plan: Plan | None = organization.plan if organization.plan_id is not None else None
    return plan if plan is not None else plan_default()


def limits_of(organization: Any) -> Limits:
    """The plan's limits with the organization's overrides applied (one query for the overrides)."""
    plan = plan_of(organization)
    values: dict[str, int | None] = {name: getattr(plan, name) for name in LIMITS}
    mainnet = plan.mainnet_allowed
    for limit, value in PlanOverride.objects.filter(organization_id=organization.pk).values_list("limit", "value"):
        if limit == MAINNET:
            mainnet = bool(value)
        else:
            values[limit] = value
    return Limits(plan=plan.slug, values=values, mainnet_allowed=mainnet)
