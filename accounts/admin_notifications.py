"""Back office for the e-mail outbox: read-only (rows are written by the events they tell about and
by the sender), filtered by status and kind. The body is shown as a preview with every secret
masked (the invitation's accept link and token are never shown); the sealed secret is not."""
from __future__ import annotations

from django.contrib import admin

from biatec.core.admin_mixins import GrowingTableAdminMixin, ReadOnlyAdminMixin

from .notifications_models import EmailNotification, NotificationKind
from .notifications_render import email_preview

SECRET_NAMES = {NotificationKind.INVITATION: ("accept_url", "token")}


@admin.register(EmailNotification)
class EmailNotificationAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "to_email", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("to_email", "correlation_id", "id", "dedupe_key")
    fields = ("kind", "organization", "user", "to_email", "subject", "body_preview", "status", "attempts",
              "next_attempt_at", "last_attempt_at", "last_error", "sent_at", "dedupe_key", "correlation_id",
              "created_at")
    readonly_fields = fields
    raw_id_fields = ("organization", "user")

    @admin.display(description="Body (secrets masked)")
    def body_preview(self, obj: EmailNotification) -> str:
        return email_preview(obj.kind, obj.context, SECRET_NAMES.get(obj.kind, ()))  # type: ignore[call-overload]
