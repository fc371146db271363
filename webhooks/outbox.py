"""Transactional outbox of deployment events (docs/decisions/0007-transactional-webhook-outbox.md).

`WebhooksConfig.ready` subscribes `outbox_record_deployment_event` to `DeploymentTransitioned`: it runs
inside the transition's transaction, so the event row and one delivery row per matching subscription
commit (or roll back) with the transition itself, and dispatch is queued only on commit. An event no
subscription wants is not stored. If the
dispatch is lost (worker or broker down between commit and publish), the beat sweep finds the
undelivered rows.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from biatec.core.events import (
    AllowListChanged,
    ApprovalChanged,
    DeploymentTransitioned,
    MembershipChanged,
    OperationTransitioned,
    TransferDenied,
)
from deployments.models import Deployment, Operation
from deployments.presenters import deployment_detail
from deployments.presenters_tokens import operation_detail, token_summary

from .models import APPROVAL_EVENT_TYPES, WebhookDelivery, WebhookEvent, WebhookSubscription
from .services import delivery_dispatch_on_commit
from .subscription_cache import active_subscriptions


def event_type_of(to_status: str) -> str:
    return f"deployment.{to_status}"


def outbox_record_deployment_event(event: DeploymentTransitioned) -> WebhookEvent | None:
    """Write the event and its deliveries (same transaction as the transition); dispatch on commit.
    Nothing is written when no active subscription of the organization wants this event: an
    organization without webhooks costs one cache read per transition (`subscription_cache`), no rows."""
    event_type = event_type_of(event.to_status)
    subscriptions = _subscriptions_wanting(event.organization_id, event_type, event.network, event.standard)
    if not subscriptions:
        return None
    deployment = Deployment.objects.get(pk=event.deployment_id)
    event_id = uuid.uuid4()
    created_at = timezone.now()
    webhook_event = WebhookEvent.objects.create(
        id=event_id, type=event_type, organization_id=deployment.organization_id, deployment=deployment,
        sequence=event.event_id, created_at=created_at,
        payload={"id": str(event_id), "type": event_type, "created_at": created_at.isoformat(),
                 "data": deployment_detail(deployment)},
    )
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(event=webhook_event, subscription=s, event_type=event_type, deployment=deployment,
                        sequence=event.event_id, next_attempt_at=created_at)
        for s in subscriptions
    ])
    for delivery in deliveries:
        delivery_dispatch_on_commit(delivery.pk)
    return webhook_event


def _subscriptions_wanting(organization_id: str, event_type: str, network: str,
                           standard: str) -> list[WebhookSubscription]:
    # Few subscriptions per organization: matching in Python keeps it portable (SQLite in local dev).
    return [s for s in active_subscriptions(organization_id)
            if s.wants(event_type=event_type, network=network, standard=standard)]


def outbox_record_operation_event(event: OperationTransitioned) -> WebhookEvent | None:
    """`operation.<state>` carrying the operation and its token, like the deployment events: written
    with the transition, ordered per operation (its history row ids), dispatched on commit."""
    if not event.token_id:
        return None  # a key rotation's native sweep: the user's own account, no token of the organization's
    event_type = f"operation.{event.to_status}"
    subscriptions = _subscriptions_wanting(event.organization_id, event_type, event.network, event.standard)
    if not subscriptions:
        return None
    operation = Operation.objects.select_related("token").get(pk=event.operation_id)
    assert operation.token is not None
    event_id = uuid.uuid4()
    created_at = timezone.now()
    webhook_event = WebhookEvent.objects.create(
        id=event_id, type=event_type, organization_id=operation.organization_id, operation=operation,
        sequence=event.event_id, created_at=created_at,
        payload={"id": str(event_id), "type": event_type, "created_at": created_at.isoformat(),
                 "data": {"operation": operation_detail(operation), "token": token_summary(operation.token)}},
    )
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(event=webhook_event, subscription=s, event_type=event_type, operation=operation,
                        sequence=event.event_id, next_attempt_at=created_at)
        for s in subscriptions
    ])
    for delivery in deliveries:
        delivery_dispatch_on_commit(delivery.pk)
    return webhook_event


def _data_event_write(*, organization_id: str, event_type: str, data: Mapping[str, Any],
                      subscriptions: list[WebhookSubscription]) -> WebhookEvent:
    """An event whose payload is `data` as given, one delivery per subscription, dispatched on commit."""
    event_id = uuid.uuid4()
    created_at = timezone.now()
    webhook_event = WebhookEvent.objects.create(
        id=event_id, type=event_type, organization_id=organization_id, created_at=created_at,
        payload={"id": str(event_id), "type": event_type, "created_at": created_at.isoformat(), "data": dict(data)},
    )
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(event=webhook_event, subscription=s, event_type=event_type, next_attempt_at=created_at)
        for s in subscriptions
    ])
    for delivery in deliveries:
        delivery_dispatch_on_commit(delivery.pk)
    return webhook_event


def outbox_record_allowlist_event(event: AllowListChanged) -> WebhookEvent | None:
    """`allowlist.added` / `.updated` / `.removed` carrying the entry and its token id, written in the
    change's transaction (nothing when no subscription wants it). Not ordered per entry: each event
    carries the whole entry as it is after the change."""
    event_type = f"allowlist.{event.change}"
    subscriptions = _subscriptions_wanting(event.organization_id, event_type, event.network, event.standard)
    if not subscriptions:
        return None
    return _data_event_write(organization_id=event.organization_id, event_type=event_type, data=event.data,
                             subscriptions=subscriptions)


def outbox_record_member_event(event: MembershipChanged) -> WebhookEvent | None:
    """`member.added|role_changed|removed|left` carrying the membership, written in the change's
    transaction. Organization-level: every active subscription asking for the type (or `*`) gets it,
    whatever its network and standard filters."""
    event_type = f"member.{event.change}"
    subscriptions = [s for s in active_subscriptions(event.organization_id) if s.wants_type(event_type)]
    if not subscriptions:
        return None
    return _data_event_write(organization_id=event.organization_id, event_type=event_type, data=event.data,
                             subscriptions=subscriptions)


def outbox_record_transfer_denied(event: TransferDenied) -> WebhookEvent | None:
    """`transfer.denied`: an operation the token's holder registry refused at `POST`, carrying the token
    id, the kind, the failed rules and the refused recipients. Written with the event's own transaction
    (the refused request's was rolled back; nothing of the operation exists to link to)."""
    event_type = "transfer.denied"
    subscriptions = _subscriptions_wanting(event.organization_id, event_type, event.network, event.standard)
    if not subscriptions:
        return None
    return _data_event_write(organization_id=event.organization_id, event_type=event_type, data=event.data,
                             subscriptions=subscriptions)


def outbox_record_approval_event(event: ApprovalChanged) -> WebhookEvent | None:
    """`approval.requested|approved|rejected|expired` carrying the approval request as the API shows it,
    written in the change's transaction (an approval recorded short of the count is no event). About a
    token, the subscription's network and standard filters apply; about no token (an issuance policy
    change), every subscription asking for the type gets it."""
    event_type = f"approval.{event.change}"
    if event_type not in APPROVAL_EVENT_TYPES:
        return None
    if event.token_id:
        subscriptions = _subscriptions_wanting(event.organization_id, event_type, event.network, event.standard)
    else:  # about the organization (an issuance policy change): like member events, whatever the filters
        subscriptions = [s for s in active_subscriptions(event.organization_id) if s.wants_type(event_type)]
    if not subscriptions:
        return None
    return _data_event_write(organization_id=event.organization_id, event_type=event_type, data=event.data,
                             subscriptions=subscriptions)
