"""The outbox's cache of each organization's active subscriptions (webhooks/subscription_cache.py):
a transition costs no subscription SELECT once cached, and every change is seen by the next event
that starts after it committed, whatever the order of the reads and the commit."""
from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from webhooks import subscription_cache
from webhooks.models import WebhookEvent
from webhooks.services import webhook_subscription_create, webhook_subscription_delete, webhook_subscription_update
from webhooks.subscription_cache import active_subscriptions

from .conftest import transition

URL = "http://127.0.0.1:9/hook"


def _subscribe(member, **fields):
    subscription, _ = webhook_subscription_create(organization=member.organization, url=URL,
                                                  event_types=fields.pop("event_types", ["*"]), actor=member.user,
                                                  **fields)
    return subscription


def _subscription_selects(queries) -> int:
    return sum('FROM "webhooks_webhooksubscription"' in q["sql"] for q in queries)


@pytest.mark.django_db(transaction=True)
def test_a_transition_reads_no_subscription_once_they_are_cached(member):
    deployment = member.deployment(status="queued")
    active_subscriptions(member.organization.pk)  # warm
    with CaptureQueriesContext(connection) as queries:
        transition(deployment, "submitted")
    assert _subscription_selects(queries) == 0
    assert not WebhookEvent.objects.filter(deployment=deployment).exists()  # none wanted: no rows


@pytest.mark.django_db(transaction=True)
def test_create_update_delete_are_seen_by_the_next_event(member):
    organization_id = member.organization.pk
    assert active_subscriptions(organization_id) == []  # cached: none
    subscription = _subscribe(member)
    assert [s.pk for s in active_subscriptions(organization_id)] == [subscription.pk]
    deployment = member.deployment(status="queued")
    transition(deployment, "submitted")
    assert WebhookEvent.objects.filter(deployment=deployment, type="deployment.submitted").count() == 1

    webhook_subscription_update(subscription=subscription, actor=member.user, event_types=["deployment.failed"])
    assert active_subscriptions(organization_id)[0].event_types == ["deployment.failed"]
    transition(deployment, "pending")
    assert not WebhookEvent.objects.filter(deployment=deployment, type="deployment.pending").exists()

    webhook_subscription_update(subscription=subscription, actor=member.user, is_active=False)
    assert active_subscriptions(organization_id) == []
    webhook_subscription_update(subscription=subscription, actor=member.user, is_active=True)
    assert len(active_subscriptions(organization_id)) == 1
    webhook_subscription_delete(subscription=subscription, actor=member.user)
    assert active_subscriptions(organization_id) == []


@pytest.mark.django_db(transaction=True)
def test_rows_read_before_a_change_committed_are_never_used_after_it(member):
    """A reader that read the table before the commit stores its rows under the version it read; the
    commit has set a new one, so the next reader reads the table again."""
    organization_id = member.organization.pk
    cache = caches[subscription_cache.settings.WEBHOOK_SUBSCRIPTIONS_CACHE_ALIAS]
    version_key, entry_key = subscription_cache._keys(organization_id)
    active_subscriptions(organization_id)
    stale_version = cache.get(version_key)
    subscription = _subscribe(member)  # commits: a new version
    cache.set(entry_key, (stale_version, []))  # what the slow reader stores after the commit
    assert [s.pk for s in active_subscriptions(organization_id)] == [subscription.pk]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_changed_subscriptions_caches_nothing_it_may_roll_back(member):
    organization_id = member.organization.pk
    active_subscriptions(organization_id)
    with pytest.raises(RuntimeError), transaction.atomic():
        subscription = _subscribe(member)
        assert [s.pk for s in active_subscriptions(organization_id)] == [subscription.pk]  # its own row
        raise RuntimeError("roll back")
    assert active_subscriptions(organization_id) == []  # no phantom subscription from the rolled-back one
    deployment = member.deployment(status="queued")
    transition(deployment, "submitted")  # a cached phantom would fail the delivery's foreign key
    assert not WebhookEvent.objects.filter(deployment=deployment).exists()


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_table_is_read(member, settings):
    settings.CACHES = {**settings.CACHES, "webhook-subscriptions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    subscription = _subscribe(member)  # the version cannot be set: logged, not raised
    assert [s.pk for s in active_subscriptions(member.organization.pk)] == [subscription.pk]
    deployment = member.deployment(status="queued")
    transition(deployment, "submitted")
    assert WebhookEvent.objects.filter(deployment=deployment).count() == 1
