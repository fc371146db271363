"""The active webhook subscriptions of an organization, as the outbox matches events against them,
cached in Redis: every job transition asks which subscriptions want its event, which cost one SELECT
per transition (five per deployment) although subscriptions change rarely (issue 13, item 2).

Correctness does not rest on timing. Each organization has a version key and an entry holding
(version, subscriptions). A reader takes both in one round trip and uses the entry only when its
version is the current one; otherwise it reads the table and stores the rows under the version it
read *before* reading them. Every save or delete of a subscription sets a new version at once and
again when its transaction commits. So a reader that read the table before a change committed stores
its rows under a version that the commit has already replaced, and no later reader uses them: a
change is seen by the first transition that starts after it committed, as with a direct SELECT.
A transaction that changed an organization's subscriptions reads that organization's from the table
and stores nothing (it sees rows that may still roll back). When Redis cannot be reached the table
is read, as before the cache existed; entries also expire (WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS).
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from redis.exceptions import RedisError

from .models import WebhookSubscription

logger = logging.getLogger(__name__)
_FIELDS = ("id", "event_types", "networks", "standards")


def _cache() -> Any:
    return caches[settings.WEBHOOK_SUBSCRIPTIONS_CACHE_ALIAS]


def _keys(organization_id: Any) -> tuple[str, str]:
    return f"version:{organization_id}", f"active:{organization_id}"


def _rows(organization_id: Any) -> list[dict[str, Any]]:
    return list(WebhookSubscription.objects.filter(organization_id=organization_id, is_active=True)
                .order_by("created_at", "id").values(*_FIELDS))


def _instances(organization_id: Any, rows: list[dict[str, Any]]) -> list[WebhookSubscription]:
    """Unsaved instances holding what matching and a delivery's foreign key need."""
    return [WebhookSubscription(organization_id=organization_id, is_active=True, **row) for row in rows]


def _changed_here() -> set[str]:
    """Organizations whose subscriptions this connection's open transaction changed."""
    if not connection.in_atomic_block:
        connection.__dict__.pop("_webhook_subscriptions_changed", None)  # any such transaction has ended
        return set()
    changed: set[str] = connection.__dict__.setdefault("_webhook_subscriptions_changed", set())
    return changed


def active_subscriptions(organization_id: Any) -> list[WebhookSubscription]:
    """The organization's active subscriptions (id, event types, network and standard filters)."""
    if str(organization_id) in _changed_here():
        return _instances(organization_id, _rows(organization_id))
    version_key, entry_key = _keys(organization_id)
    try:
        found = _cache().get_many([version_key, entry_key])
        version = found.get(version_key)
        if version is None:
            _cache().add(version_key, uuid.uuid4().hex, timeout=None)
            version = _cache().get(version_key)
        entry = found.get(entry_key)
        if entry is not None and version is not None and entry[0] == version:
            return _instances(organization_id, entry[1])
    except RedisError:
        logger.warning("webhook subscription cache unavailable; reading the table")
        return _instances(organization_id, _rows(organization_id))
    rows = _rows(organization_id)
    if version is not None:
        try:
            _cache().set(entry_key, (version, rows), timeout=settings.WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS)
        except RedisError:
            pass
    return _instances(organization_id, rows)


def subscriptions_changed(organization_id: Any) -> None:
    """A subscription of the organization was saved or deleted: a new version now and at commit."""
    version_key, _ = _keys(organization_id)

    def bump() -> None:
        try:
            _cache().set(version_key, uuid.uuid4().hex, timeout=None)
        except RedisError:
            logger.warning("webhook subscription cache unavailable; version not bumped",
                           extra={"organization_id": str(organization_id)})

    if connection.in_atomic_block:
        _changed_here().add(str(organization_id))
    bump()
    transaction.on_commit(bump)


def on_subscription_saved_or_deleted(sender: type, instance: WebhookSubscription, **kwargs: Any) -> None:
    """`post_save` / `post_delete` receiver of `WebhookSubscription` (connected in `WebhooksConfig`)."""
    subscriptions_changed(instance.organization_id)
