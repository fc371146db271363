"""Back office for deployments: filters, search by id / correlation ID / tx id / address, inline
history and transactions (signed bytes never rendered), simple-history view, retry action."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from biatec.core.admin_mixins import ReadOnlyAdminMixin
from biatec.core.errors import ApplicationError

from .models import Deployment, DeploymentEvent, DeploymentTransaction
from .selectors import deployment_search_ids
from .services import deployment_retry


class DeploymentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeploymentEvent
    fields = ("id", "at", "from_status", "to_status", "actor", "reason", "correlation_id", "facts")
    readonly_fields = fields
    extra = 0
    ordering = ("id",)


class DeploymentTransactionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeploymentTransaction
    fields = ("step", "tx_id", "status", "sender", "nonce", "first_valid", "last_valid", "broadcast_attempts",
              "confirmed_in", "last_error")
    readonly_fields = fields
    extra = 0


@admin.register(Deployment)
class DeploymentAdmin(SimpleHistoryAdmin):
    list_display = ("id", "standard", "network", "status", "organization", "creator", "created_at", "correlation_id")
    list_filter = ("status", "network", "standard")
    search_fields = ("=id", "correlation_id")
    readonly_fields = [f.name for f in Deployment._meta.fields]
    inlines = (DeploymentEventInline, DeploymentTransactionInline)
    date_hierarchy = "created_at"
    list_select_related = ("organization", "creator")
    actions = ["retry_failed"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Exact matches only, each an index lookup (deployments.selectors.deployment_search_ids): the
        deployment id, any correlation ID that touched it, a transaction id, a sender or contract
        address, or the creator's address."""
        if not search_term.strip():
            return queryset, False
        ids, creators = deployment_search_ids(search_term)
        return queryset.filter(Q(pk__in=list(ids)) | Q(creator_id__in=list(creators))), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Retry the selected failed (retryable) deployments", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
        retried = 0
        for deployment in queryset:
            try:
                deployment_retry(deployment=deployment, user=request.user,  # type: ignore[arg-type]
                                 reason="retried by staff in the admin")
                retried += 1
            except ApplicationError as exc:
                messages.warning(request, f"{deployment.pk}: {exc.message}")
        messages.success(request, f"Re-queued {retried} deployment(s).")


@admin.register(DeploymentEvent)
class DeploymentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "deployment", "from_status", "to_status", "at", "actor", "correlation_id")
    list_filter = ("to_status",)
    search_fields = ("=deployment__id", "correlation_id")
    list_select_related = ("deployment",)
