"""What the plan's request rate (accounts.throttles.PlanRateThrottle) needs on every request, cached
in the throttle Redis so that a warm request costs no SQL: which organization the request counts
under, and that organization's effective `requests_per_minute` (its plan's, or a staff override).

Two entries, each stored with the versions it was computed under and used only while those are
current (the scheme of webhooks/subscription_cache.py):

- `who`: (user, chosen organization or primary) -> the organization id, or "-" when the user is not
  a member of the chosen one (nobody's budget is spent: the view answers 404, or lists nothing) or
  belongs to none. Versioned per user; every save or delete of one of the user's memberships sets a new version.
- `rate`: organization -> its limit, or "-" for unlimited. Versioned per organization (a save or
  delete of the organization or of one of its overrides) and by its plan's version (a save of the
  plan: every organization on it, those on the default plan included, changes at once). The
  entry names its plan, so checking the plan's version costs one more Redis GET, no SQL.

A version is set anew at once and again when the changing transaction commits, and a reader stores
what it computed under the versions it read *before* computing; so a change is seen by the first
request that starts after it committed. Entries also expire after PLAN_RATE_CACHE_SECONDS (a safety
net for changes made without signals, such as a queryset `update()`: none exist today).

Redis errors reach the caller (the throttle decides: writes fail closed, reads open)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .models import Membership, Organization, Plan, PlanOverride
from .plans import limits_of, plan_default
from .plans_models import REQUESTS

PLAN_RATE_CACHE_SECONDS = 600
_UNLIMITED = "-"
_NONE = "-"


def _cache() -> Any:
    from .throttles import throttle_cache

    return throttle_cache()


def _timeout() -> int:
    return int(getattr(settings, "PLAN_RATE_CACHE_SECONDS", PLAN_RATE_CACHE_SECONDS))  # base.py sets it


def _version_timeout() -> int:
    """Versions expire too (no key per user for ever): a version started anew is random, so no entry
    computed under an expired one is used again."""
    return 2 * _timeout()


def _user_version(user_id: Any) -> str:
    return f"plan_rate:v:user:{user_id}"


def _organization_version(organization_id: Any) -> str:
    return f"plan_rate:v:org:{organization_id}"


def _plan_version(plan_id: Any) -> str:
    return f"plan_rate:v:plan:{plan_id}"


def _who_key(user_id: Any, chosen: uuid.UUID | None) -> str:
    return f"plan_rate:who:{user_id}:{chosen or 'primary'}"


def _rate_key(organization_id: Any) -> str:
    return f"plan_rate:rate:{organization_id}"


def _versions(found: dict[str, Any], keys: list[str]) -> list[str]:
    versions = []
    for key in keys:
        version = found.get(key)
        if version is None:  # first use (or evicted): start one; a concurrent start wins, we read it
            _cache().add(key, uuid.uuid4().hex, timeout=_version_timeout())
            version = _cache().get(key)
        versions.append(str(version))
    return versions


def _entry(found: dict[str, Any], version_keys: list[str], entry_key: str, compute: Callable[[], str]) -> str:
    versions = _versions(found, version_keys)
    entry = found.get(entry_key)
    if isinstance(entry, (list, tuple)) and len(entry) == 2 and list(entry[0]) == versions:
        return str(entry[1])
    value = compute()
    _cache().set(entry_key, (versions, value), timeout=_timeout())
    return value


def _who(user_id: Any, chosen: uuid.UUID | None) -> str:
    memberships = Membership.objects.filter(user_id=user_id)
    if chosen is None:
        organization_id = memberships.order_by("created_at").values_list("organization_id", flat=True).first()
    else:
        organization_id = chosen if memberships.filter(organization_id=chosen).exists() else None
    return str(organization_id) if organization_id is not None else _NONE


def _rate(organization_id: str) -> tuple[str, str | None, str | None]:
    """(limit or "-", plan id, the plan's version read before the plan row)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return _UNLIMITED, None, None
    plan_id = str(organization.plan_id if organization.plan_id is not None else plan_default().pk)
    plan_version = _versions({}, [_plan_version(plan_id)])[0]
    limit = limits_of(organization).of(REQUESTS)  # reads the plan row after its version
    return (_UNLIMITED if limit is None else str(limit)), plan_id, plan_version


def organization_rate(*, user_id: Any, chosen: uuid.UUID | None,
                      organization_id: uuid.UUID | None = None) -> tuple[str, int] | None:
    """(organization id, requests per minute) the request counts under, or None (unlimited, or no
    organization). `chosen`: the organization named by the header or the claim, None for the
    primary one. `organization_id`: already known to belong to the caller (an API key's), when no
    membership needs looking up."""
    cache = _cache()
    if organization_id is not None:
        counted = str(organization_id)
    else:
        who_key, user_version = _who_key(user_id, chosen), _user_version(user_id)
        # The organization, named or (for the primary one) as this process last found it: its
        # entries come in the same round trip. The `who` entry decides; a wrong hint costs one more.
        expected = str(chosen) if chosen is not None else _PRIMARY_HINTS.get(str(user_id))
        keys = [who_key, user_version]
        if expected is not None:
            keys += [_rate_key(expected), _organization_version(expected), *_plan_hint_keys(expected)]
        found = cache.get_many(keys)
        counted = _entry(found, [user_version], who_key, lambda: _who(user_id, chosen))
        if counted == _NONE:
            return None
        if chosen is None:
            _hint_keep(_PRIMARY_HINTS, str(user_id), counted)
        return _rate_of(counted, found if counted == expected else None)
    return _rate_of(counted, None)


def _rate_of(organization_id: str, found: dict[str, Any] | None) -> tuple[str, int] | None:
    rate_key, organization_version = _rate_key(organization_id), _organization_version(organization_id)
    cache = _cache()
    if found is None:
        found = cache.get_many([rate_key, organization_version, *_plan_hint_keys(organization_id)])
    version = _versions(found, [organization_version])[0]
    entry = found.get(rate_key)
    rate: str | None = None
    if isinstance(entry, (list, tuple)) and len(entry) == 4 and entry[0] == version:
        _, plan_id, plan_version, cached = entry
        if plan_id is not None:
            _hint_keep(_PLAN_HINTS, organization_id, plan_id)
        if plan_id is None or _plan_version_now(found, plan_id) == plan_version:
            rate = str(cached)
    if rate is None:
        rate, plan_id, plan_version = _rate(organization_id)
        cache.set(rate_key, (version, plan_id, plan_version, rate), timeout=_timeout())
    return None if rate == _UNLIMITED else (organization_id, int(rate))


# Hints, in this process, of which keys to fetch in one round trip: the plan each organization's
# rate entry named last, and the primary organization each user counted under last. Only the
# entries themselves decide (the rate entry's plan id, the `who` entry); a wrong or missing hint
# costs one more round trip, never a stale answer.
_PLAN_HINTS: dict[str, str] = {}
_PRIMARY_HINTS: dict[str, str] = {}
_HINTS_MAX = 10_000


def _plan_hint_keys(organization_id: str) -> list[str]:
    plan_id = _PLAN_HINTS.get(organization_id)
    return [_plan_version(plan_id)] if plan_id is not None else []


def _hint_keep(hints: dict[str, str], key: str, value: str) -> None:
    if hints.get(key) != value:
        if len(hints) >= _HINTS_MAX:
            hints.clear()
        hints[key] = value


def _plan_version_now(found: dict[str, Any], plan_id: str) -> Any:
    key = _plan_version(plan_id)
    return found[key] if key in found else _cache().get(key)


# --- invalidation -----------------------------------------------------------------------------

def _version_bump(key: str) -> None:
    def bump() -> None:
        from redis.exceptions import RedisError

        try:
            _cache().set(key, uuid.uuid4().hex, timeout=_version_timeout())
        except RedisError:  # the entries still expire (PLAN_RATE_CACHE_SECONDS)
            pass

    bump()
    transaction.on_commit(bump)


def _membership_changed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    _version_bump(_user_version(instance.user_id))


def _organization_changed(sender: Any, instance: Organization, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new organization has no entry yet
        _version_bump(_organization_version(instance.pk))


def _override_changed(sender: Any, instance: PlanOverride, **kwargs: Any) -> None:
    _version_bump(_organization_version(instance.organization_id))


def _plan_changed(sender: Any, instance: Plan, **kwargs: Any) -> None:
    _version_bump(_plan_version(instance.pk))


def connect() -> None:
    for model, receiver in ((Membership, _membership_changed), (Organization, _organization_changed),
                            (PlanOverride, _override_changed), (Plan, _plan_changed)):
        name = model.__name__.lower()
        post_save.connect(receiver, sender=model, dispatch_uid=f"accounts.plan_rate.{name}.save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"accounts.plan_rate.{name}.delete")
