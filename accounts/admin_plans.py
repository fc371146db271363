"""Back office for plans (editable), per-organization overrides (history-tracked) and usage
(read-only), with the monthly CSV export per organization that finance invoices from
(docs/plans-and-usage.md)."""
from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from simple_history.admin import SimpleHistoryAdmin

from biatec.core.admin_mixins import GrowingTableAdminMixin, ReadOnlyAdminMixin

from .models import Organization, Plan, PlanOverride, UsageFee, UsageRecord
from .quotas import month_start
from .usage_selectors import month_parse, usage_csv


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "deployments_per_month", "operations_per_month", "allowlist_entries_per_token",
                    "webhook_subscriptions", "api_keys", "members", "requests_per_minute", "mainnet_allowed")
    search_fields = ("name", "slug")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # organizations point at plans; a plan is edited, never removed


@admin.register(PlanOverride)
class PlanOverrideAdmin(SimpleHistoryAdmin):
    list_display = ("organization", "limit", "value", "reason", "updated_at")
    list_filter = ("limit",)
    search_fields = ("organization__name", "organization__id", "reason")
    autocomplete_fields = ("organization",)


class UsageFeeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = UsageFee
    fields = ("network", "tx_id", "payer", "amount", "unit", "created_at")
    readonly_fields = fields
    extra = 0


def csv_response(*, organization: Organization, month: str) -> HttpResponse:
    start = month_parse(month)
    response = HttpResponse(usage_csv(organization_id=organization.pk, start=start),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{organization.pk}-{month}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@admin.register(UsageRecord)
class UsageRecordAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("occurred_at", "organization", "kind", "network", "standard", "operation_kind", "refunded_at")
    list_filter = ("kind", "network", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("organization__name", "organization__id", "subject_id")
    fields = ("organization", "kind", "subject_id", "network", "standard", "operation_kind", "occurred_at",
              "refunded_at", "refund_reason")
    readonly_fields = fields
    inlines = (UsageFeeInline,)
    change_list_template = "admin/accounts/usagerecord/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        export = path("export/", self.admin_site.admin_view(self.export_view), name="accounts_usagerecord_export")
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """GET ?organization=<id>&month=YYYY-MM: the month's CSV; otherwise the form."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        organization_id, month = request.GET.get("organization", ""), request.GET.get("month", "")
        error = ""
        if organization_id or month:
            organization = Organization.objects.filter(pk=organization_id).first() if _uuid(organization_id) else None
            try:
                month_parse(month)
            except ValueError:
                error = "Give the month as YYYY-MM."
            else:
                if organization is None:
                    error = "No such organization."
                else:
                    return csv_response(organization=organization, month=month)
        context = {**self.admin_site.each_context(request), "title": "Monthly usage export", "error": error,
                   "organization_id": organization_id, "month": month or month_start().strftime("%Y-%m"),
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/accounts/usagerecord/export.html", context)


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@admin.action(description="Export this month's usage (CSV; one organization)")
def usage_export_this_month(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Organization]) -> Any:
    if queryset.count() != 1:
        messages.error(request, "Select exactly one organization (or use Usage records > Export for another month).")
        return None
    return csv_response(organization=queryset.get(), month=month_start().strftime("%Y-%m"))
