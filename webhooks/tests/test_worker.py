"""The same flows through a real Celery worker (subprocess, its own Redis database, the test
database): retries are real countdowns held by Redis, dispatches are real messages."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.celery_worker import WorkerProcess, fresh_broker_url, publish, wait_for
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent
from webhooks.tasks import webhook_delivery_task, webhooks_sweep_task

from .conftest import HAPPY_PATH, signature_valid, transition

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(transactional_db) -> str:
    return fresh_broker_url()


@pytest.fixture
def worker(broker):
    process = WorkerProcess(broker, {"WEBHOOKS_RETRY_DELAYS_SECONDS": ",".join(["0.5"] * 7),
                                     "WEBHOOKS_RETRY_JITTER": "0", "WEBHOOKS_ALLOW_HTTP": "true",
                                     "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"})
    yield process
    process.stop()


@pytest.fixture
def dispatch_to_worker(monkeypatch, broker):
    """This process publishes for real (it otherwise runs tasks inline); the worker does the rest."""
    monkeypatch.setattr(services, "delivery_dispatch",
                        lambda delivery_id, countdown=None: publish(webhook_delivery_task, broker, str(delivery_id)))


def wait_with_beat(predicate, broker: str, timeout: float) -> bool:
    """Wait as production does: beat publishes the sweep now and then (every 5 s here), which
    also covers a message lost to another session sharing the Redis database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wait_for(predicate, timeout=min(5.0, max(0.0, deadline - time.monotonic()))):
            return True
        publish(webhooks_sweep_task, broker)
    return bool(predicate())


def _statuses(subscription_id: str) -> list[str]:
    return list(WebhookDelivery.objects.filter(subscription_id=subscription_id).order_by("sequence")
                .values_list("status", flat=True))


def test_worker_delivers_every_transition_in_order_through_retries(
        member, make_receiver, worker, dispatch_to_worker):
    receiver = make_receiver([500, 500])  # the first event needs three attempts; the rest wait behind it
    subscription = member.subscribe(receiver.url)
    deployment = member.deployment()
    for status in HAPPY_PATH:
        transition(deployment, status)  # committed; dispatch published on commit

    assert wait_with_beat(lambda: _statuses(subscription["id"]) == [DeliveryStatus.DELIVERED] * 5, worker.broker_url,
                          timeout=60), \
        (_statuses(subscription["id"]), worker.output()[-3000:])
    assert receiver.types() == ["deployment.submitted"] * 3 + [f"deployment.{s}" for s in HAPPY_PATH[1:]]
    assert all(signature_valid(subscription["secret"], r) for r in receiver.requests)
    first = WebhookDelivery.objects.get(subscription_id=subscription["id"], event_type="deployment.submitted")
    assert list(WebhookDeliveryAttempt.objects.filter(delivery=first).values_list("status_code", flat=True)) == [
        500, 500, 200]


def test_worker_410_is_final(member, make_receiver, worker, dispatch_to_worker):
    receiver = make_receiver([410])
    subscription = member.subscribe(receiver.url)
    transition(member.deployment(), "submitted")
    assert wait_for(lambda: _statuses(subscription["id"]) == [DeliveryStatus.FAILED], timeout=30), worker.output()
    # What beat's sweep does (the worker delivers whatever it dispatches): a 410 is never sent again.
    assert services.webhooks_sweep(now=timezone.now() + timedelta(days=30)) == []
    assert _statuses(subscription["id"]) == [DeliveryStatus.FAILED]
    assert len(receiver.requests) == 1


def test_dispatch_lost_between_commit_and_publish_is_recovered_by_the_sweep(
        member, receiver, worker, monkeypatch):
    monkeypatch.setattr(services, "delivery_dispatch", lambda delivery_id, countdown=None: None)  # lost
    subscription = member.subscribe(receiver.url)
    deployment = member.deployment()
    transition(deployment, "submitted")
    transition(deployment, "pending")
    assert _statuses(subscription["id"]) == [DeliveryStatus.PENDING] * 2

    publish(webhooks_sweep_task, worker.broker_url)  # what beat does every WEBHOOKS_SWEEP_INTERVAL_SECONDS

    assert wait_for(lambda: _statuses(subscription["id"]) == [DeliveryStatus.DELIVERED] * 2, timeout=30), \
        worker.output()[-3000:]
    events = WebhookEvent.objects.filter(deployment=deployment).order_by("sequence")
    assert [r.event_id for r in receiver.requests] == [str(e.id) for e in events]
