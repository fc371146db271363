"""Back office for users, organizations, memberships and security events. No password hash or
key material is ever shown: sealed secrets are not registered and user forms exclude them."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from biatec.core.admin_mixins import GrowingTableAdminMixin, ReadOnlyAdminMixin

from . import admin_invitations, admin_notifications  # noqa: F401  (their admins register themselves)
from .admin_plans import usage_export_this_month
from .models import (
    ApiKey,
    EvmAccount,
    LoginThrottle,
    Membership,
    Organization,
    OrganizationAccount,
    SecurityEvent,
    User,
)
from .services import login_unlock


class EvmAccountInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EvmAccount
    fields = ("chain_id", "address", "created_at")
    readonly_fields = fields
    extra = 0


class OrganizationAccountInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The organization's treasury accounts (docs/treasury.md): the address only, never the sealed key."""

    model = OrganizationAccount
    fields = ("family", "chain_id", "address", "created_at")
    readonly_fields = fields
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("organization", "role")
    extra = 0
    autocomplete_fields = ("organization",)


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin):
    list_display = ("email", "algorand_address", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff")
    search_fields = ("email", "algorand_address", "evm_accounts__address")
    ordering = ("-date_joined",)
    fields = ("email", "algorand_address", "is_active", "is_staff", "is_superuser", "groups",
              "date_joined", "last_login")
    readonly_fields = ("email", "algorand_address", "date_joined", "last_login")
    filter_horizontal = ("groups",)
    inlines = (MembershipInline, EvmAccountInline)
    history_list_display = ("is_active", "is_staff")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers sign up through the API; staff via `createsuperuser`


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "id", "plan", "created_at")
    list_filter = ("plan",)
    search_fields = ("name", "id", "treasury_accounts__address")
    inlines = (OrganizationAccountInline,)
    actions = [usage_export_this_month]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organization__name")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("user",)


@admin.register(SecurityEvent)
class SecurityEventAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event_type", "email", "ip_address", "correlation_id")
    list_filter = ("event_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("email", "correlation_id", "user__algorand_address")
    readonly_fields = ("event_type", "user", "email", "ip_address", "user_agent", "correlation_id", "details",
                       "created_at")


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ("email", "source", "failures", "lock_count", "locked_until", "updated_at")
    search_fields = ("email", "source")
    readonly_fields = ("email", "source", "failures", "lock_count", "locked_until", "updated_at")
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Unlock the selected e-mails")
    def unlock(self, request: HttpRequest, queryset: QuerySet[LoginThrottle]) -> None:
        for throttle in queryset:
            login_unlock(email=throttle.email, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, f"Unlocked {queryset.count()} e-mail(s).")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: keys are made and revoked by their organization's owners and admins through the
    API. Never the hash (nor the key, which is not stored)."""

    list_display = ("prefix", "name", "role", "organization", "last_used_at", "revoked_at", "created_at")
    list_filter = ("role",)
    search_fields = ("prefix", "name", "organization__name")
    fields = ("id", "prefix", "name", "role", "organization", "allowed_ips", "expires_at", "created_by",
              "created_at", "last_used_at", "last_used_ip", "revoked_at", "revoked_by")
    readonly_fields = fields
