"""Back office for webhooks: subscriptions (the secret is never shown), events (read-only),
deliveries with their attempts, and an action that redelivers dead ones through the service."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from biatec.core.admin_mixins import GrowingTableAdminMixin, ReadOnlyAdminMixin

from .models import DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent, WebhookSubscription
from .services import webhook_delivery_redeliver


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SimpleHistoryAdmin):
    list_display = ("url", "organization", "is_active", "secret_version", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "organization__name", "id")
    # The sealed secrets are not fields here at all: staff can pause a subscription, not read its key.
    fields = ("organization", "url", "event_types", "networks", "standards", "is_active", "description",
              "secret_version", "previous_secret_expires_at", "created_by", "created_at", "updated_at")
    readonly_fields = ("organization", "url", "secret_version", "previous_secret_expires_at", "created_by",
                       "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through the API, which returns the secret once to the customer


@admin.register(WebhookEvent)
class WebhookEventAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "type", "organization", "deployment", "sequence", "id")
    list_filter = ("type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("id", "deployment__id", "organization__name")
    readonly_fields = ("id", "type", "organization", "deployment", "sequence", "payload", "created_at")


class WebhookDeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookDeliveryAttempt
    fields = ("number", "started_at", "duration_ms", "status_code", "outcome", "error", "response_body")
    readonly_fields = fields
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event_type", "subscription", "status", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at")
    list_filter = ("status", "event_type")
    search_fields = ("id", "event__id", "subscription__url", "deployment__id")
    readonly_fields = ("event", "subscription", "event_type", "deployment", "sequence", "status", "attempts",
                       "next_attempt_at", "locked_until", "last_attempt_at", "last_status_code", "last_error",
                       "delivered_at", "created_at", "updated_at")
    exclude = ("claim_token",)
    inlines = (WebhookDeliveryAttemptInline,)
    actions = ["redeliver_dead"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Redeliver selected dead deliveries")
    def redeliver_dead(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = 0
        for delivery in queryset.filter(status=DeliveryStatus.DEAD):
            webhook_delivery_redeliver(delivery=delivery, actor=request.user)  # type: ignore[arg-type]
            count += 1
        skipped = queryset.count() - count
        self.message_user(request, f"{count} dead deliveries queued again."
                          + (f" {skipped} not dead, left alone." if skipped else ""), messages.SUCCESS)
