"""Delivery end to end against loopback receivers: order, signatures, retries, final failures, dead
letters and redelivery, the sweep after a lost dispatch, tenant isolation, target safety, rotation.

Celery runs inline here (the test settings' default); `django_capture_on_commit_callbacks(execute=True)`
plays the commit, which is when dispatch is queued."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookSubscription,
)
from webhooks.services import _delivery_claim, webhook_delivery_attempt, webhooks_sweep
from webhooks.signing import webhook_signer

from .conftest import HAPPY_PATH, Receiver, free_port, parse_signature, signature_valid, transition

pytestmark = pytest.mark.django_db
INSTANT_RETRIES = [0.0] * 7  # 8 attempts, no waiting


@pytest.fixture
def instant_retries(settings):
    settings.WEBHOOKS_RETRY_DELAYS_SECONDS = INSTANT_RETRIES
    settings.WEBHOOKS_RETRY_JITTER = 0.0


def test_queued_to_completed_one_signed_delivery_per_transition_in_order(
        member, receiver, django_capture_on_commit_callbacks):
    subscription = member.subscribe(receiver.url)
    deployment = member.deployment()

    for status in HAPPY_PATH:
        with django_capture_on_commit_callbacks(execute=True):
            transition(deployment, status)

    assert receiver.types() == [f"deployment.{s}" for s in HAPPY_PATH]
    events = list(WebhookEvent.objects.filter(deployment=deployment).order_by("sequence"))
    assert [e.type for e in events] == receiver.types()
    for request, event, status in zip(receiver.requests, events, HAPPY_PATH, strict=True):
        assert signature_valid(subscription["secret"], request)
        _, signatures = parse_signature(request.headers["Biatec-Signature"])
        assert len(signatures) == 1
        body = request.json
        assert set(body) == {"id", "type", "created_at", "data"}
        assert body["id"] == request.event_id == str(event.id)
        assert body["type"] == request.headers["Biatec-Event-Type"] == f"deployment.{status}"
        assert body["data"]["id"] == str(deployment.pk)
        assert body["data"]["status"] == status
        assert request.headers["Content-Type"] == "application/json"
    assert [r.path for r in receiver.requests] == ["/hooks/biatec"] * 5
    deliveries = WebhookDelivery.objects.filter(subscription_id=subscription["id"])
    assert deliveries.count() == 5
    assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    # A tampered body no longer verifies (the test's check is not vacuous).
    request = receiver.requests[0]
    request.body = request.body.replace(b"submitted", b"completed")
    assert not signature_valid(subscription["secret"], request)


def test_subscription_filters_by_event_type_network_and_standard(
        member, make_receiver, django_capture_on_commit_callbacks):
    completed_only, other_network, other_standard, matching = (make_receiver() for _ in range(4))
    member.subscribe(completed_only.url, event_types=["deployment.completed"])
    member.subscribe(other_network.url, networks=["base-sepolia"])
    member.subscribe(other_standard.url, standards=["asa-ft"])
    member.subscribe(matching.url, event_types=["deployment.submitted", "deployment.completed"],
                     networks=["evm-local"], standards=["erc20-mintable"])
    deployment = member.deployment()
    for status in HAPPY_PATH:
        with django_capture_on_commit_callbacks(execute=True):
            transition(deployment, status)

    assert completed_only.types() == ["deployment.completed"]
    assert other_network.requests == [] and other_standard.requests == []
    assert matching.types() == ["deployment.submitted", "deployment.completed"]


def test_500_twice_then_200_is_delivered_on_the_third_attempt(
        member, make_receiver, instant_retries, django_capture_on_commit_callbacks):
    receiver = make_receiver([500, 500, 200])
    subscription = member.subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")

    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 3
    attempts = list(WebhookDeliveryAttempt.objects.filter(delivery=delivery))
    assert [(a.number, a.status_code, a.outcome) for a in attempts] == [
        (1, 500, "retry"), (2, 500, "retry"), (3, 200, "delivered")]
    assert all(a.duration_ms >= 0 for a in attempts)
    assert '"status": 500' in attempts[0].response_body
    assert len(receiver.requests) == 3
    assert {r.event_id for r in receiver.requests} == {str(delivery.event_id)}
    assert all(signature_valid(subscription["secret"], r) for r in receiver.requests)


def test_retry_waits_for_its_backoff(member, make_receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_RETRY_DELAYS_SECONDS = [600.0] * 7
    settings.WEBHOOKS_RETRY_JITTER = 0.1
    receiver = make_receiver([503])
    subscription = member.subscribe(receiver.url)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")

    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    assert delivery.status == DeliveryStatus.RETRYING
    assert before + timedelta(seconds=539) < delivery.next_attempt_at < timezone.now() + timedelta(seconds=661)
    assert webhooks_sweep() == []  # not due yet
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 502])
def test_408_429_and_5xx_are_retried(member, make_receiver, instant_retries, status,
                                     django_capture_on_commit_callbacks):
    receiver = make_receiver([status])
    subscription = member.subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == (DeliveryStatus.DELIVERED, 2, 2)


@pytest.mark.parametrize("status", [410, 400, 404, 301])
def test_other_4xx_and_redirects_are_final_failures_without_retry(
        member, make_receiver, instant_retries, status, django_capture_on_commit_callbacks):
    receiver = make_receiver([status])
    subscription = member.subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")

    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.last_status_code == status
    assert len(receiver.requests) == 1
    assert webhooks_sweep() == []
    assert len(receiver.requests) == 1


def test_receiver_down_for_the_whole_window_goes_dead_then_redeliver_delivers(
        member, make_receiver, instant_retries, django_capture_on_commit_callbacks):
    port = free_port()
    subscription = member.subscribe(f"http://127.0.0.1:{port}/hooks/biatec")
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")

    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == 8
    attempts = list(WebhookDeliveryAttempt.objects.filter(delivery=delivery))
    assert len(attempts) == 8
    assert all(a.status_code is None and "ConnectError" in a.error for a in attempts)
    assert [a.outcome for a in attempts] == ["retry"] * 7 + ["dead"]
    assert webhooks_sweep() == []  # dead stays dead until someone asks

    receiver = make_receiver(port=port)
    with django_capture_on_commit_callbacks(execute=True):
        response = member.client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 202, response.content

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1  # a fresh budget
    assert WebhookDeliveryAttempt.objects.filter(delivery=delivery).count() == 9
    assert [r.event_id for r in receiver.requests] == [str(delivery.event_id)]
    assert signature_valid(subscription["secret"], receiver.requests[0])


def test_lost_dispatch_after_commit_is_delivered_by_the_sweep(member, receiver):
    """The transition commits but its on-commit dispatch never runs (worker killed between commit
    and publish): nothing is sent until the sweep, which delivers it with the same event id."""
    subscription = member.subscribe(receiver.url)
    deployment = member.deployment()
    transition(deployment, "submitted")  # on-commit callbacks deliberately not executed
    transition(deployment, "pending")

    deliveries = WebhookDelivery.objects.filter(subscription_id=subscription["id"]).order_by("sequence")
    assert [d.status for d in deliveries] == [DeliveryStatus.PENDING] * 2
    assert receiver.requests == []

    # Each beat run sends what is first in line. (Normally the first one's success dispatches the
    # next on commit; on-commit callbacks are not played in this test, so a second run does.)
    assert len(webhooks_sweep()) == 1
    assert receiver.types() == ["deployment.submitted"]
    assert len(webhooks_sweep()) == 1

    assert receiver.types() == ["deployment.submitted", "deployment.pending"]
    events = list(WebhookEvent.objects.filter(deployment=deployment).order_by("sequence"))
    assert [r.event_id for r in receiver.requests] == [str(e.id) for e in events]
    assert [d.status for d in deliveries.all()] == [DeliveryStatus.DELIVERED] * 2
    assert webhooks_sweep() == []
    assert len(receiver.requests) == 2


def test_worker_dying_mid_send_leads_to_a_duplicate_with_the_same_event_id(member, receiver):
    """A worker claims and sends, then dies before recording: its claim lapses, the sweep sends
    again; the receiver deduplicates on Biatec-Event-Id."""
    from webhooks import delivery as http_delivery

    subscription = member.subscribe(receiver.url)
    transition(member.deployment(), "submitted")
    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])

    claimed = _delivery_claim(delivery_id=delivery.pk)
    assert claimed is not None
    assert _delivery_claim(delivery_id=delivery.pk) is None  # no second sender while the claim holds
    with webhook_signer(claimed.subscription) as signer:
        http_delivery.send(url=claimed.subscription.url, event_id=str(claimed.event_id),
                           event_type=claimed.event_type, payload=claimed.event.payload, signer=signer)
    # ... the worker dies here. Nothing is recorded; the claim holds until it lapses.
    assert webhooks_sweep() == []
    WebhookDelivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() - timedelta(seconds=1))

    assert webhooks_sweep() == [str(delivery.pk)]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [r.event_id for r in receiver.requests] == [str(delivery.event_id)] * 2
    assert receiver.requests[0].body == receiver.requests[1].body


def test_later_events_wait_while_an_earlier_one_is_undelivered(
        member, make_receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_RETRY_DELAYS_SECONDS = [3600.0] * 7
    receiver = make_receiver([503])
    subscription = member.subscribe(receiver.url)
    deployment = member.deployment()
    for status in ["submitted", "pending", "confirmed"]:
        with django_capture_on_commit_callbacks(execute=True):
            transition(deployment, status)

    assert receiver.types() == ["deployment.submitted"]  # failed once; the others wait behind it
    deliveries = WebhookDelivery.objects.filter(subscription_id=subscription["id"]).order_by("sequence")
    assert [d.status for d in deliveries] == [DeliveryStatus.RETRYING, DeliveryStatus.PENDING,
                                              DeliveryStatus.PENDING]
    assert webhooks_sweep() == []
    for later in deliveries[1:]:
        assert webhook_delivery_attempt(delivery_id=later.pk) is None
    assert len(receiver.requests) == 1

    first = deliveries[0]
    WebhookDelivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())  # its backoff is over
    with django_capture_on_commit_callbacks(execute=True):  # each success dispatches the next in line
        assert webhooks_sweep() == [str(first.pk)]

    assert receiver.types() == ["deployment.submitted", "deployment.submitted", "deployment.pending",
                                "deployment.confirmed"]
    assert [d.status for d in deliveries.all()] == [DeliveryStatus.DELIVERED] * 3


def test_a_dead_earlier_event_no_longer_holds_back_later_ones(
        member, make_receiver, instant_retries, django_capture_on_commit_callbacks):
    receiver = make_receiver([500] * 8)
    subscription = member.subscribe(receiver.url)
    deployment = member.deployment()
    with django_capture_on_commit_callbacks(execute=True):
        transition(deployment, "submitted")
        transition(deployment, "pending")
    statuses = list(WebhookDelivery.objects.filter(subscription_id=subscription["id"]).order_by("sequence")
                    .values_list("status", flat=True))
    assert statuses == [DeliveryStatus.DEAD, DeliveryStatus.DELIVERED]
    assert receiver.types() == ["deployment.submitted"] * 8 + ["deployment.pending"]


def test_organization_a_never_receives_organization_b_events(
        member, other_member, make_receiver, django_capture_on_commit_callbacks):
    receiver_a, receiver_b = make_receiver(), make_receiver()
    member.subscribe(receiver_a.url)
    other_member.subscribe(receiver_b.url)
    deployment_b = other_member.deployment()
    with django_capture_on_commit_callbacks(execute=True):
        transition(deployment_b, "submitted")
        transition(deployment_b, "pending")

    assert receiver_a.requests == []
    assert receiver_b.types() == ["deployment.submitted", "deployment.pending"]
    assert all(r.json["data"]["organization_id"] == str(other_member.organization.pk) for r in receiver_b.requests)


def test_inactive_subscription_gets_no_deliveries(member, receiver, django_capture_on_commit_callbacks):
    subscription = member.subscribe(receiver.url, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    assert not WebhookDelivery.objects.filter(subscription_id=subscription["id"]).exists()
    assert receiver.requests == []


def test_loopback_target_refused_at_delivery_time_when_no_longer_allowed(
        member, receiver, settings, django_capture_on_commit_callbacks):
    """Targets are checked again before every attempt (DNS or settings can change)."""
    subscription = member.subscribe(receiver.url)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")

    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    assert delivery.status == DeliveryStatus.FAILED
    assert "target refused" in delivery.last_error and "loopback" in delivery.last_error
    assert receiver.requests == []


def test_secret_rotation_signs_with_both_secrets_during_the_grace_period(
        member, receiver, django_capture_on_commit_callbacks):
    created = member.subscribe(receiver.url)
    response = member.client.post(f"/api/v1/webhooks/subscriptions/{created['id']}/rotate-secret")
    assert response.status_code == 200, response.content
    rotated = response.json()
    assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
    assert rotated["secret_version"] == 2 and rotated["previous_secret_expires_at"]
    deployment = member.deployment()
    with django_capture_on_commit_callbacks(execute=True):
        transition(deployment, "submitted")

    request = receiver.requests[0]
    timestamp, signatures = parse_signature(request.headers["Biatec-Signature"])
    assert len(signatures) == 2
    assert signature_valid(created["secret"], request)  # receivers still on the old secret
    assert signature_valid(rotated["secret"], request)  # receivers already on the new one
    assert not signature_valid("whsec_not-the-secret", request)

    # After the grace period only the new secret signs, and the sweep forgets the old one.
    WebhookSubscription.objects.filter(pk=created["id"]).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        transition(deployment, "pending")
    request = receiver.requests[1]
    _, signatures = parse_signature(request.headers["Biatec-Signature"])
    assert len(signatures) == 1
    assert signature_valid(rotated["secret"], request)
    assert not signature_valid(created["secret"], request)

    from webhooks.services import webhook_secrets_expire
    assert webhook_secrets_expire() == 1
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    assert subscription.previous_secret_id is None


def test_rotating_twice_drops_the_oldest_secret(member, receiver, django_capture_on_commit_callbacks):
    created = member.subscribe(receiver.url)
    url = f"/api/v1/webhooks/subscriptions/{created['id']}/rotate-secret"
    second = member.client.post(url).json()
    third = member.client.post(url).json()
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    request = receiver.requests[0]
    assert len(parse_signature(request.headers["Biatec-Signature"])[1]) == 2
    assert signature_valid(third["secret"], request) and signature_valid(second["secret"], request)
    assert not signature_valid(created["secret"], request)


def test_no_event_row_without_a_matching_subscription(member, receiver):
    """Performance issue: an organization without (matching) webhooks pays no outbox rows."""
    deployment = member.deployment()
    transition(deployment, "submitted")
    assert not WebhookEvent.objects.filter(deployment=deployment).exists()
    member.subscribe(receiver.url, event_types=["deployment.completed"])
    transition(deployment, "pending")  # subscribed, but not to this type
    assert not WebhookEvent.objects.filter(deployment=deployment).exists()
    assert not WebhookDelivery.objects.exists()


def test_an_event_a_subscription_wants_is_recorded(member, receiver):
    member.subscribe(receiver.url, event_types=["deployment.submitted"])
    deployment = member.deployment()
    transition(deployment, "submitted")
    event = WebhookEvent.objects.get(deployment=deployment)
    assert event.type == "deployment.submitted"
    assert event.organization_id == member.organization.pk
    assert event.payload["data"]["status"] == "submitted"
    assert event.sequence == deployment.events.get().pk
    assert WebhookDelivery.objects.filter(event=event).count() == 1


def test_outbox_rows_roll_back_with_the_transition(member, receiver):
    from deployments.state_machine import InvalidStateTransition

    subscription = member.subscribe(receiver.url)
    deployment = member.deployment()
    with pytest.raises(InvalidStateTransition):
        transition(deployment, "completed")
    assert not WebhookEvent.objects.filter(deployment=deployment).exists()
    assert not WebhookDelivery.objects.filter(subscription_id=subscription["id"]).exists()


def test_delivered_delivery_is_not_sent_again_by_the_task(member, receiver, django_capture_on_commit_callbacks):
    from webhooks.tasks import webhook_delivery_task

    subscription = member.subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    assert webhook_delivery_task.apply(args=[str(delivery.pk)]).get() is None
    assert len(receiver.requests) == 1


def test_response_body_is_read_up_to_the_limit(member, make_receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_MAX_RESPONSE_BYTES = 10
    receiver = make_receiver()
    subscription = member.subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    attempt = WebhookDeliveryAttempt.objects.get(delivery__subscription_id=subscription["id"])
    assert attempt.response_body == '{"received'


def test_receiver_helper_sanity():
    receiver = Receiver([201])
    try:
        import httpx

        assert httpx.post(receiver.url, content=b"{}").status_code == 201
        assert receiver.requests[0].body == b"{}"
    finally:
        receiver.close()
