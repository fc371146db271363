"""Abuse limits of webhooks (issue 14): manual sends (`test`, `redeliver`) are throttled per user,
and deliveries are capped per organization per minute: the ones over the cap wait for the next
minute, none is dropped."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.throttling import throttle_sandbox  # noqa: F401 - fixture
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import webhooks_sweep

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhooks"


def test_test_and_redeliver_are_throttled_per_user(member, receiver, throttle_sandbox,  # noqa: F811
                                                   django_capture_on_commit_callbacks):
    created = member.subscribe(receiver.url)
    throttle_sandbox(webhooks_manual="2/minute")
    with django_capture_on_commit_callbacks(execute=True):
        first = member.client.post(f"{BASE}/subscriptions/{created['id']}/test")
    assert first.status_code == 202
    assert member.client.post(f"{BASE}/deliveries/{first.json()['id']}/redeliver").status_code == 202
    refused = member.client.post(f"{BASE}/subscriptions/{created['id']}/test")
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED" and refused["Retry-After"]
    refused = member.client.post(f"{BASE}/deliveries/{first.json()['id']}/redeliver")
    assert refused.status_code == 429
    assert WebhookDelivery.objects.filter(subscription_id=created["id"]).count() == 1


def _minute_start(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def test_deliveries_over_the_organization_cap_are_delayed_not_dropped(
        member, receiver, throttle_sandbox, settings, django_capture_on_commit_callbacks):  # noqa: F811
    throttle_sandbox()
    settings.WEBHOOKS_MAX_DELIVERIES_PER_MINUTE = 2
    created = member.subscribe(receiver.url)
    start = _minute_start(timezone.now()) + timedelta(minutes=1, seconds=5)
    with time_machine.travel(start, tick=True):
        ids = []
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                response = member.client.post(f"{BASE}/subscriptions/{created['id']}/test")
            assert response.status_code == 202
            ids.append(response.json()["id"])
        assert len(receiver.requests) == 2
        waiting = WebhookDelivery.objects.get(pk=ids[2])
        assert waiting.status == DeliveryStatus.PENDING and waiting.attempts == 0
        assert waiting.next_attempt_at >= _minute_start(start) + timedelta(minutes=1)
        # The sweep leaves it alone while it is not due.
        with django_capture_on_commit_callbacks(execute=True):
            assert str(waiting.pk) not in webhooks_sweep()
        assert len(receiver.requests) == 2

    with time_machine.travel(waiting.next_attempt_at + timedelta(seconds=1), tick=True):
        with django_capture_on_commit_callbacks(execute=True):
            assert str(waiting.pk) in webhooks_sweep()
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 3
    assert {r.headers["Biatec-Event-Type"] for r in receiver.requests} == {"ping"}


def test_the_cap_counts_per_organization(member, other_member, make_receiver, throttle_sandbox,  # noqa: F811
                                         settings, django_capture_on_commit_callbacks):
    throttle_sandbox()
    settings.WEBHOOKS_MAX_DELIVERIES_PER_MINUTE = 1
    mine, theirs = make_receiver(), make_receiver()
    my_subscription, their_subscription = member.subscribe(mine.url), other_member.subscribe(theirs.url)
    with time_machine.travel(_minute_start(timezone.now()) + timedelta(minutes=1, seconds=5), tick=True):
        for party, subscription in ((member, my_subscription), (other_member, their_subscription)):
            with django_capture_on_commit_callbacks(execute=True):
                assert party.client.post(f"{BASE}/subscriptions/{subscription['id']}/test").status_code == 202
    assert len(mine.requests) == len(theirs.requests) == 1
