"""Back office for deployments, the token registry and token operations: filters, search by id /
correlation ID / tx id / address (asset / app id for tokens), inline history and transactions
(signed bytes never rendered), simple-history view, retry actions; a token's page shows its live
chain state."""
from __future__ import annotations

import contextlib
import json
import uuid

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from biatec.core.admin_mixins import GrowingTableAdminMixin, ReadOnlyAdminMixin, known_values_filter
from biatec.core.errors import ApplicationError
from tokens.networks import NETWORKS
from tokens.standards import STANDARD_CHOICES
from tokens.standards.operations import ALL_KINDS, NATIVE_SWEEP

from .models import (
    Deployment,
    DeploymentEvent,
    DeploymentStatus,
    DeploymentTransaction,
    Operation,
    OperationEvent,
    OperationTransaction,
    Token,
)
from .operation_services import operation_retry
from .selectors import deployment_search_ids
from .services import deployment_retry
from .token_state import token_live_state

NetworkFilter = known_values_filter("network", "network", lambda: sorted(NETWORKS))
StandardFilter = known_values_filter("standard", "standard", lambda: STANDARD_CHOICES)
KindFilter = known_values_filter("kind", "kind", lambda: sorted((*ALL_KINDS, NATIVE_SWEEP)))
ToStatusFilter = known_values_filter("to_status", "to status", lambda: DeploymentStatus.values)


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
class DeploymentAdmin(GrowingTableAdminMixin, SimpleHistoryAdmin):
    list_display = ("id", "standard", "network", "status", "organization", "creator", "created_at", "correlation_id")
    list_filter = ("status", NetworkFilter, StandardFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("=id", "correlation_id")
    readonly_fields = [f.name for f in Deployment._meta.fields]
    inlines = (DeploymentEventInline, DeploymentTransactionInline)
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
class DeploymentEventAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "deployment", "from_status", "to_status", "at", "actor", "correlation_id")
    list_filter = (ToStatusFilter,)
    search_fields = ("=deployment__id", "=correlation_id")
    exact_search_fields = ("deployment_id", "correlation_id")  # each an index lookup
    list_select_related = ("deployment",)


class OperationEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OperationEvent
    fields = ("id", "at", "from_status", "to_status", "actor", "reason", "correlation_id", "facts")
    readonly_fields = fields
    extra = 0
    ordering = ("id",)


class OperationTransactionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OperationTransaction
    fields = ("step", "part", "tx_id", "status", "sender", "nonce", "last_valid", "broadcast_attempts",
              "confirmed_in", "last_error")
    readonly_fields = fields
    extra = 0


class OperationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Operation
    fields = ("id", "kind", "status", "creator", "created_at", "correlation_id", "error_code")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    ordering = ("-created_at",)


@admin.register(Token)
class TokenAdmin(GrowingTableAdminMixin, SimpleHistoryAdmin):
    """The registry, with the token's live chain state on its page (read when the page is opened)."""

    list_display = ("name", "symbol", "standard", "network", "chain_id_display", "organization", "paused",
                    "destroyed", "created_at")
    list_filter = (StandardFilter, NetworkFilter, "paused", "destroyed", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=id", "contract_address", "=issuer_address", "name")
    readonly_fields = [*(f.name for f in Token._meta.fields), "live_state"]
    inlines = (OperationInline,)
    list_select_related = ("organization",)

    @admin.display(description="contract / asset / app")
    def chain_id_display(self, token: Token) -> str:
        return token.chain_id

    @admin.display(description="live chain state")
    def live_state(self, token: Token) -> str:
        try:
            live = token_live_state(token)
        except ApplicationError as exc:
            return f"unavailable: {exc.code}"
        return json.dumps({k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                           for k, v in live.items() if k != "holders"}, sort_keys=True)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Address (any case), asset or app id, token id, or an operation's id / correlation ID."""
        term = search_term.strip()
        if not term:
            return queryset, False
        by = Q(contract_address__iexact=term) | Q(issuer_address=term) | Q(name__icontains=term)
        if term.isdigit():
            by |= Q(asset_id=int(term)) | Q(app_id=int(term))
        by |= Q(pk__in=Operation.objects.filter(correlation_id=term).values("token_id"))
        with contextlib.suppress(ValueError):
            value = uuid.UUID(term)
            by |= Q(pk=value) | Q(pk__in=Operation.objects.filter(pk=value).values("token_id"))
        return queryset.filter(by), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Operation)
class OperationAdmin(GrowingTableAdminMixin, SimpleHistoryAdmin):
    list_display = ("id", "kind", "token", "status", "organization", "creator", "created_at", "correlation_id")
    list_filter = ("status", KindFilter, NetworkFilter, StandardFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("=id", "=correlation_id", "=token__id", "token__contract_address", "=transactions__tx_id")
    readonly_fields = [f.name for f in Operation._meta.fields]
    inlines = (OperationEventInline, OperationTransactionInline)
    list_select_related = ("organization", "creator", "token")
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Retry the selected failed (retryable) operations", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Operation]) -> None:
        retried = 0
        for operation in queryset:
            try:
                operation_retry(operation=operation, user=request.user)  # type: ignore[arg-type]
                retried += 1
            except ApplicationError as exc:
                messages.warning(request, f"{operation.pk}: {exc.message}")
        messages.success(request, f"Re-queued {retried} operation(s).")


from . import approval_admin  # noqa: E402, F401  (the approver queue registers itself)
