"""Back office for invitations: read-only for every staff member (the compliance group views them,
granted by migration 0004); they are created, accepted and revoked through the API only, so each
step is audited. The token's hash is never shown."""
from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from biatec.core.admin_mixins import ReadOnlyAdminMixin

from .models import Invitation


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("email", "organization", "role", "status", "expires_at", "accepted_at", "revoked_at",
                    "created_at")
    list_filter = ("role",)
    search_fields = ("email", "organization__name", "organization__id")
    fields = ("organization", "email", "role", "invited_by", "expires_at", "accepted_at", "accepted_by",
              "revoked_at", "created_at")
    readonly_fields = fields
    date_hierarchy = "created_at"
