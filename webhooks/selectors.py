"""Reads of the webhooks app, scoped to the user's organizations (others answer 404)."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from accounts.selectors import organization_ids_of
from biatec.core.api import filter_given
from biatec.core.errors import NotFound

from .models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription


def subscription_list(*, user: User, filters: dict[str, Any] | None = None,
                      organization_ids: QuerySet[Any, Any] | None = None) -> QuerySet[WebhookSubscription]:
    filters = filters or {}
    scope = organization_ids if organization_ids is not None else organization_ids_of(user=user)
    qs = WebhookSubscription.objects.filter(organization_id__in=scope)
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    return qs


def subscription_get(*, user: User, subscription_id: Any) -> WebhookSubscription:
    """A subscription of one of the user's organizations (else 404). Managing it needs the role the
    view checks (`RoleRequired`, action `manage_webhooks`)."""
    subscription = subscription_list(user=user).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("No such webhook subscription.")
    return subscription


def delivery_list(*, user: User, filters: dict[str, Any] | None = None,
                  organization_ids: QuerySet[Any, Any] | None = None) -> QuerySet[WebhookDelivery]:
    filters = filters or {}
    scope = organization_ids if organization_ids is not None else organization_ids_of(user=user)
    qs = (WebhookDelivery.objects.filter(subscription__organization_id__in=scope)
          .select_related("event"))
    return filter_given(qs, filters, {"subscription": "subscription_id", "event_type": "event_type",
                                      "status": "status", "deployment": "deployment_id"})


def delivery_get(*, user: User, delivery_id: Any) -> WebhookDelivery:
    delivery = delivery_list(user=user).select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    return delivery


def delivery_attempts(*, delivery: WebhookDelivery) -> QuerySet[WebhookDeliveryAttempt]:
    return WebhookDeliveryAttempt.objects.filter(delivery=delivery).order_by("id")
