"""Writes of the webhooks app: subscriptions (with secret rotation), test pings, redelivery, the
attempt of one delivery, and the sweep.

Delivery is at-least-once. A delivery is *claimed* (row lock + a lease of `timeout + margin`)
before it is sent, so two workers never send it at once; a worker that dies mid-send lets the
lease lapse and the sweep sends again, with the same event id. Ordering: a delivery is not
claimed while an earlier delivery of the same deployment to the same subscription is undelivered;
when one reaches a final state, the next one in line is dispatched.
"""
from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import EncryptedSecret, Organization, User
from accounts.plans_models import WEBHOOK_SUBSCRIPTIONS
from accounts.quotas import quota_check
from accounts.throttles import window_consume
from biatec.core.actors import actor_of
from biatec.core.errors import Conflict, ValidationFailed

from . import delivery as http_delivery
from .models import (
    PING,
    SUBSCRIBABLE_EVENT_TYPES,
    UNDELIVERED_STATUSES,
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookSubscription,
)
from .safety import check_target
from .signing import secret_generate, secret_seal, webhook_signer

logger = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 30.0
DELIVERY_TASK = "webhooks.tasks.webhook_delivery_task"
UPDATABLE_FIELDS = ("url", "event_types", "networks", "standards", "is_active", "description")


# --- dispatch -----------------------------------------------------------------------------------

def delivery_dispatch(delivery_id: Any, *, countdown: float | None = None) -> None:
    """Queue the attempt task. Never raises: a lost dispatch is found again by the sweep. The task is
    named, not imported (`webhooks.tasks` imports this module; `WebhooksConfig.ready` registers it)."""
    if settings.CELERY_TASK_ALWAYS_EAGER and countdown:
        return  # inline mode has no broker to hold a countdown; the sweep sends it when due
    try:
        current_app.tasks[DELIVERY_TASK].apply_async(args=[str(delivery_id)], countdown=countdown)
    except Exception:  # broker down, or an eager task failing: the row stays undelivered for the sweep
        logger.exception("webhook dispatch failed", extra={"delivery_id": str(delivery_id)})


def delivery_dispatch_on_commit(delivery_id: Any, *, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: delivery_dispatch(delivery_id, countdown=countdown))


# --- subscriptions ------------------------------------------------------------------------------

def _validate_event_types(event_types: list[str]) -> list[str]:
    unknown = [t for t in event_types if t not in SUBSCRIBABLE_EVENT_TYPES]
    if not event_types or unknown:
        raise ValidationFailed(details={"fields": {"event_types": [
            f"Choose one or more of {', '.join(SUBSCRIBABLE_EVENT_TYPES)}."
            + (f" Unknown: {', '.join(unknown)}." if unknown else "")
        ]}})
    return list(dict.fromkeys(event_types))


def _validate_filters(*, networks: list[str], standards: list[str]) -> None:
    from tokens.networks import NETWORKS
    from tokens.standards import STANDARDS

    errors: dict[str, list[str]] = {}
    if unknown := [n for n in networks if n not in NETWORKS]:
        errors["networks"] = [f"Unknown network(s): {', '.join(unknown)}."]
    if unknown := [s for s in standards if s not in STANDARDS]:
        errors["standards"] = [f"Unknown standard(s): {', '.join(unknown)}."]
    if errors:
        raise ValidationFailed(details={"fields": errors})


@transaction.atomic
def webhook_subscription_create(
    *,
    organization: Organization,
    url: str,
    event_types: list[str],
    networks: list[str] | None = None,
    standards: list[str] | None = None,
    is_active: bool = True,
    description: str = "",
    actor: User | None,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (returned once, to be shown once)."""
    event_types = _validate_event_types(event_types)
    networks, standards = list(dict.fromkeys(networks or [])), list(dict.fromkeys(standards or []))
    _validate_filters(networks=networks, standards=standards)
    check_target(url)
    quota_check(organization, WEBHOOK_SUBSCRIPTIONS,
                used=lambda: WebhookSubscription.objects.filter(organization=organization).count())
    subscription_id = uuid.uuid4()
    secret = secret_generate()
    subscription = WebhookSubscription.objects.create(
        id=subscription_id, organization=organization, url=url, event_types=event_types, networks=networks,
        standards=standards, is_active=is_active, description=description, created_by=actor,
        secret=secret_seal(secret, subscription_id=str(subscription_id), version=1), secret_version=1,
    )
    logger.info("webhook subscription created", extra={"subscription_id": str(subscription.pk),
                                                       "actor": actor_of(actor)})
    return subscription, secret


@transaction.atomic
def webhook_subscription_update(*, subscription: WebhookSubscription, actor: User | None,
                                **changes: Any) -> WebhookSubscription:
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationFailed(details={"fields": {f: ["This field cannot be changed."] for f in sorted(unknown)}})
    if "event_types" in changes:
        changes["event_types"] = _validate_event_types(changes["event_types"])
    for name in ("networks", "standards"):
        if name in changes:
            changes[name] = list(dict.fromkeys(changes[name] or []))
    _validate_filters(networks=changes.get("networks", []), standards=changes.get("standards", []))
    if "url" in changes and changes["url"] != locked.url:
        check_target(changes["url"])
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*changes, "updated_at"])
    if changes.get("is_active") and not subscription.is_active:
        # Resumed: what waited while it was paused goes out now (the sweep would, a little later).
        for delivery_id in WebhookDelivery.objects.filter(subscription=locked, status__in=UNDELIVERED_STATUSES) \
                .values_list("id", flat=True)[:settings.WEBHOOKS_SWEEP_BATCH]:
            delivery_dispatch_on_commit(delivery_id)
    logger.info("webhook subscription updated", extra={"subscription_id": str(locked.pk), "actor": actor_of(actor),
                                                       "fields": sorted(changes)})
    return locked


@transaction.atomic
def webhook_subscription_delete(*, subscription: WebhookSubscription, actor: User | None) -> None:
    """Deletes the subscription with its deliveries and sealed secrets (events stay)."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    secret_ids = [pk for pk in (locked.secret_id, locked.previous_secret_id) if pk]
    locked.delete()
    EncryptedSecret.objects.filter(pk__in=secret_ids).delete()
    logger.info("webhook subscription deleted", extra={"subscription_id": str(subscription.pk),
                                                       "actor": actor_of(actor)})


@transaction.atomic
def webhook_subscription_rotate_secret(*, subscription: WebhookSubscription,
                                       actor: User | None) -> tuple[WebhookSubscription, str]:
    """A new secret (returned once). The one it replaces keeps signing, alongside, for
    WEBHOOKS_SECRET_GRACE_SECONDS; an older previous secret is dropped now."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    dropped = locked.previous_secret_id
    secret = secret_generate()
    version = locked.secret_version + 1
    locked.previous_secret_id = locked.secret_id
    locked.previous_secret_expires_at = timezone.now() + timedelta(seconds=settings.WEBHOOKS_SECRET_GRACE_SECONDS)
    locked.secret = secret_seal(secret, subscription_id=str(locked.pk), version=version)
    locked.secret_version = version
    locked.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "secret_version",
                               "updated_at"])
    if dropped:
        EncryptedSecret.objects.filter(pk=dropped).delete()
    logger.info("webhook secret rotated", extra={"subscription_id": str(locked.pk), "actor": actor_of(actor),
                                                 "secret_version": version})
    return locked, secret


@transaction.atomic
def webhook_secrets_expire(*, now: datetime | None = None) -> int:
    """Forget previous secrets whose grace period is over."""
    now = now or timezone.now()
    expired = 0
    for subscription in WebhookSubscription.objects.select_for_update(skip_locked=True).filter(
            previous_secret__isnull=False, previous_secret_expires_at__lte=now):
        dropped = subscription.previous_secret_id
        subscription.previous_secret = None
        subscription.previous_secret_expires_at = None
        subscription.save(update_fields=["previous_secret", "previous_secret_expires_at", "updated_at"])
        if dropped is not None:
            EncryptedSecret.objects.filter(pk=dropped).delete()
        expired += 1
    return expired


@transaction.atomic
def webhook_subscription_test(*, subscription: WebhookSubscription, actor: User | None) -> WebhookDelivery:
    """Queue a `ping` event to this subscription only."""
    if not subscription.is_active:
        raise Conflict("The subscription is inactive; activate it to send a test event.")
    now = timezone.now()
    event_id = uuid.uuid4()
    event = WebhookEvent.objects.create(
        id=event_id, type=PING, organization_id=subscription.organization_id, created_at=now,
        payload={"id": str(event_id), "type": PING, "created_at": now.isoformat(),
                 "data": {"subscription_id": str(subscription.pk), "message": "Test event from Biatec Tokens."}},
    )
    delivery = WebhookDelivery.objects.create(event=event, subscription=subscription, event_type=PING,
                                              next_attempt_at=now)
    delivery_dispatch_on_commit(delivery.pk)
    logger.info("webhook ping queued", extra={"subscription_id": str(subscription.pk), "actor": actor_of(actor)})
    return delivery


# --- deliveries ---------------------------------------------------------------------------------

@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery, actor: User | None) -> WebhookDelivery:
    """Send again (same event id) with a fresh attempt budget, whatever the current state. A
    delivery being sent right now is left to finish."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    if locked.status in UNDELIVERED_STATUSES and locked.locked_until and locked.locked_until > now:
        return locked
    locked.status = DeliveryStatus.PENDING
    locked.attempts = 0
    locked.next_attempt_at = now
    locked.delivered_at = None
    locked.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at", "updated_at"])
    delivery_dispatch_on_commit(locked.pk)
    logger.info("webhook redelivery requested", extra={"delivery_id": str(locked.pk), "actor": actor_of(actor)})
    return locked


def _stream(delivery: WebhookDelivery) -> dict[str, Any] | None:
    """The ordered stream a delivery belongs to: its deployment's or its token operation's."""
    if delivery.sequence is None:
        return None
    if delivery.operation_id is not None:
        return {"operation_id": delivery.operation_id}
    if delivery.deployment_id is not None:
        return {"deployment_id": delivery.deployment_id}
    return None


def _blocking_predecessor(delivery: WebhookDelivery) -> bool:
    stream = _stream(delivery)
    if stream is None:
        return False
    return WebhookDelivery.objects.filter(
        subscription_id=delivery.subscription_id, **stream,
        sequence__lt=delivery.sequence, status__in=UNDELIVERED_STATUSES,
    ).exists()


def _organization_cap_resume_at(delivery: WebhookDelivery, now: datetime) -> datetime | None:
    """Count one attempt against the organization's WEBHOOKS_MAX_DELIVERIES_PER_MINUTE (a window
    in the shared throttle cache). None: go ahead; else when the next window opens."""
    cap = int(settings.WEBHOOKS_MAX_DELIVERIES_PER_MINUTE)
    if cap <= 0:
        return None
    wait = window_consume(f"webhooks_org:{delivery.subscription.organization_id}", limit=cap, period=60,
                          now=now.timestamp())
    return None if wait is None else now + timedelta(seconds=wait)


@transaction.atomic
def _delivery_claim(*, delivery_id: Any) -> WebhookDelivery | None:
    delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("event", "subscription", "subscription__secret", "subscription__previous_secret")
                .filter(pk=delivery_id).first())
    now = timezone.now()
    if (
        delivery is None  # gone, or another worker holds the row right now
        or delivery.status not in UNDELIVERED_STATUSES  # delivered ones are never sent again
        or (delivery.next_attempt_at is not None and delivery.next_attempt_at > now)
        or (delivery.locked_until is not None and delivery.locked_until > now)
        or not delivery.subscription.is_active
        or _blocking_predecessor(delivery)
    ):
        return None
    resume_at = _organization_cap_resume_at(delivery, now)
    if resume_at is not None:  # delayed to the next window, never dropped
        delivery.next_attempt_at = resume_at
        delivery.save(update_fields=["next_attempt_at", "updated_at"])
        delivery_dispatch_on_commit(delivery.pk, countdown=(resume_at - now).total_seconds())
        logger.info("webhook delivery delayed by the organization cap",
                    extra={"delivery_id": str(delivery.pk), "resume_at": resume_at.isoformat()})
        return None
    delivery.locked_until = now + timedelta(seconds=float(settings.WEBHOOKS_TIMEOUT_SECONDS) + LEASE_MARGIN_SECONDS)
    delivery.claim_token = uuid.uuid4()
    delivery.save(update_fields=["locked_until", "claim_token", "updated_at"])
    return delivery


def retry_delay(attempts: int) -> float | None:
    """Seconds before the next attempt after `attempts` failed ones, or None when none is left."""
    delays = list(settings.WEBHOOKS_RETRY_DELAYS_SECONDS)
    if attempts > len(delays):
        return None
    base = float(delays[attempts - 1])
    jitter = float(settings.WEBHOOKS_RETRY_JITTER)
    return max(0.0, base * (1 + random.uniform(-jitter, jitter)))  # noqa: S311 - scheduling jitter


@transaction.atomic
def _delivery_record(*, delivery_id: Any, claim_token: Any, started_at: datetime,
                     result: http_delivery.AttemptResult) -> WebhookDelivery | None:
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:  # the subscription was deleted while the request was in flight
        return None
    now = timezone.now()
    delivery.attempts += 1
    number = WebhookDeliveryAttempt.objects.filter(delivery=delivery).count() + 1
    countdown: float | None = None
    if delivery.status == DeliveryStatus.DELIVERED:
        outcome = result.outcome  # a duplicate after a lapsed lease: the delivery stays delivered
    elif result.outcome == "delivered":
        outcome, delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", \
            DeliveryStatus.DELIVERED, now, None
    elif result.outcome == "failed":
        outcome, delivery.status, delivery.next_attempt_at = "failed", DeliveryStatus.FAILED, None
    else:
        countdown = retry_delay(delivery.attempts)
        if countdown is None:
            outcome, delivery.status, delivery.next_attempt_at = "dead", DeliveryStatus.DEAD, None
        else:
            outcome, delivery.status = "retry", DeliveryStatus.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=countdown)
    if delivery.claim_token == claim_token:
        delivery.locked_until, delivery.claim_token = None, None
    delivery.last_attempt_at = started_at
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at", "locked_until",
                                 "claim_token", "last_attempt_at", "last_status_code", "last_error", "updated_at"])
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery, number=number, started_at=started_at, duration_ms=result.duration_ms,
        status_code=result.status_code, response_body=result.response_body, error=result.error, outcome=outcome,
    )
    if delivery.status == DeliveryStatus.RETRYING:
        delivery_dispatch_on_commit(delivery.pk, countdown=countdown)
    elif (stream := _stream(delivery)) is not None:
        following = (WebhookDelivery.objects.filter(
            subscription_id=delivery.subscription_id, **stream,
            sequence__gt=delivery.sequence, status__in=UNDELIVERED_STATUSES,
        ).order_by("sequence").values_list("id", flat=True).first())
        if following is not None:
            delivery_dispatch_on_commit(following)
    logger.info("webhook attempt", extra={"delivery_id": str(delivery.pk), "event_id": str(delivery.event_id),
                                          "status_code": result.status_code, "outcome": outcome,
                                          "attempt": number, "duration_ms": result.duration_ms})
    return delivery


def webhook_delivery_attempt(*, delivery_id: Any) -> WebhookDelivery | None:
    """Claim, send once, record. None when there was nothing to do (delivered, not due, claimed by
    another worker, paused, or waiting for an earlier event). Not atomic on purpose: the HTTP call
    happens between two short transactions, never inside one."""
    delivery = _delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    started_at = timezone.now()
    with webhook_signer(delivery.subscription) as signer:
        result = http_delivery.send(url=delivery.subscription.url, event_id=str(delivery.event_id),
                                    event_type=delivery.event_type, payload=delivery.event.payload, signer=signer)
    return _delivery_record(delivery_id=delivery.pk, claim_token=delivery.claim_token, started_at=started_at,
                            result=result)


def webhooks_sweep(*, now: datetime | None = None) -> list[str]:
    """Dispatch every due, unclaimed, undelivered delivery that is first in line for its
    (subscription, deployment). Covers lost dispatches, lapsed claims and timers in inline mode."""
    now = now or timezone.now()
    earlier_undelivered = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"), deployment_id=OuterRef("deployment_id"),
        sequence__lt=OuterRef("sequence"), status__in=UNDELIVERED_STATUSES,
    )
    earlier_of_operation = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"), operation_id=OuterRef("operation_id"),
        sequence__lt=OuterRef("sequence"), status__in=UNDELIVERED_STATUSES,
    )
    due = list(
        WebhookDelivery.objects.filter(status__in=UNDELIVERED_STATUSES, subscription__is_active=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .filter(~Exists(earlier_undelivered), ~Exists(earlier_of_operation))
        .order_by("next_attempt_at", "sequence")
        .values_list("id", flat=True)[: settings.WEBHOOKS_SWEEP_BATCH]
    )
    for delivery_id in due:
        delivery_dispatch(delivery_id)
    if due:
        logger.info("webhook sweep dispatched", extra={"count": len(due)})
    return [str(d) for d in due]
