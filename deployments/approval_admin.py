"""The approver queue in the admin (docs/approvals.md): approval requests (token operations, issuance
policy changes, allow-list bulk writes: filter by kind), pending ones by default,
with approve / reject actions that call the same services as the API (the staff member must hold
`approve` in the request's organization and must not be its requester, exactly as through the API).
The compliance staff group views and works it (deployments/migrations/0005_approvals.py)."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from biatec.core.actors import staff_actor
from biatec.core.admin_mixins import ReadOnlyAdminMixin
from biatec.core.errors import ApplicationError

from .approval_decisions import approval_approve, approval_reject
from .approval_models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, ApprovalStatus

ALL = "all"


class ApprovalStatusFilter(admin.SimpleListFilter):
    """Pending requests unless another status (or all) is chosen: the queue is what waits."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*ApprovalStatus.choices, (ALL, "All")]

    def choices(self, changelist: Any) -> Any:
        current = self.value() or ApprovalStatus.PENDING
        for value, label in self.lookup_choices:
            yield {"selected": current == value, "display": label,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest]) -> QuerySet[ApprovalRequest]:
        value = self.value() or ApprovalStatus.PENDING
        return queryset if value == ALL else queryset.filter(status=value)


class ApprovalDecisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApprovalDecision
    fields = ("at", "user", "decision", "comment", "via_api_key")
    readonly_fields = fields
    extra = 0


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "token", "status", "organization", "requested_by", "approvals_required",
                    "expires_at", "created_at")
    list_filter = (ApprovalStatusFilter, "kind")
    search_fields = ("=id", "=correlation_id", "=token__id", "=operation__id", "=organization__id")
    readonly_fields = [f.name for f in ApprovalRequest._meta.fields]
    inlines = (ApprovalDecisionInline,)
    list_select_related = ("organization", "requested_by", "token")
    date_hierarchy = "created_at"
    actions = ["approve_selected", "reject_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest], decide: Any, verb: str) -> None:
        done = 0
        for approval in queryset:
            try:
                decide(approval_id=approval.pk, user=request.user, comment=f"{verb} in the admin",
                       actor=staff_actor(request.user))
                done += 1
            except ApplicationError as exc:
                messages.warning(request, f"{approval.pk}: {exc.code}: {exc.message}")
        messages.success(request, f"{verb.capitalize()} {done} approval request(s).")

    @admin.action(description="Approve the selected requests (as yourself; queues those fully approved)",
                  permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest]) -> None:
        self._decide(request, queryset, approval_approve, "approved")

    @admin.action(description="Reject the selected requests", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest]) -> None:
        self._decide(request, queryset, approval_reject, "rejected")


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Read-only here: a policy changes through the API, where the change is audited."""

    list_display = ("organization", "enabled", "issuance_policy_changes", "allowlist_bulk_above", "approvals_required",
                    "expiry_hours", "api_keys_may_approve", "updated_at")
    list_filter = ("enabled", "approvals_required")
    list_select_related = ("organization",)
