"""Reads of the webhooks app, scoped to the user's organizations (others answer 404)."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Membership, Organization, User
from accounts.selectors import membership_primary, organization_ids_of
from biatec.core.api import filter_given
from biatec.core.errors import NotFound, PermissionDenied

from .models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription

MANAGING_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _require_manager(*, user: User, organization_id: Any) -> None:
    if not Membership.objects.filter(user=user, organization_id=organization_id, role__in=MANAGING_ROLES).exists():
        raise PermissionDenied("Only owners and admins of the organization manage webhooks.")


def webhook_organization_for_create(*, user: User) -> Organization:
    """The organization a new subscription belongs to: the user's primary one, if they manage it."""
    membership = membership_primary(user=user)
    if membership is None:
        raise PermissionDenied("You do not belong to an organization.")
    _require_manager(user=user, organization_id=membership.organization_id)
    return membership.organization


def subscription_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[WebhookSubscription]:
    filters = filters or {}
    qs = WebhookSubscription.objects.filter(organization_id__in=organization_ids_of(user=user))
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    return qs


def subscription_get(*, user: User, subscription_id: Any, manage: bool = False) -> WebhookSubscription:
    """A subscription of one of the user's organizations (else 404); `manage` also requires the
    owner or admin role there (else 403)."""
    subscription = subscription_list(user=user).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("No such webhook subscription.")
    if manage:
        _require_manager(user=user, organization_id=subscription.organization_id)
    return subscription


def delivery_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[WebhookDelivery]:
    filters = filters or {}
    qs = (WebhookDelivery.objects.filter(subscription__organization_id__in=organization_ids_of(user=user))
          .select_related("event"))
    return filter_given(qs, filters, {"subscription": "subscription_id", "event_type": "event_type",
                                      "status": "status", "deployment": "deployment_id"})


def delivery_get(*, user: User, delivery_id: Any, manage: bool = False) -> WebhookDelivery:
    delivery = delivery_list(user=user).select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    if manage:
        _require_manager(user=user, organization_id=delivery.subscription.organization_id)
    return delivery


def delivery_attempts(*, delivery: WebhookDelivery) -> QuerySet[WebhookDeliveryAttempt]:
    return WebhookDeliveryAttempt.objects.filter(delivery=delivery).order_by("id")
