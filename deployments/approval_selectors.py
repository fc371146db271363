"""Reads of four-eyes approvals: an organization's policy (its defaults until someone saves one),
which threshold gates a request, and approval requests scoped to the caller's organizations."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from accounts.selectors import organization_ids_of
from biatec.core.api import filter_given
from biatec.core.errors import NotFound
from tokens.standards import operations as ops

from .approval_models import ALLOWLIST_BULK, ISSUANCE_POLICY_CHANGE, ApprovalDecision, ApprovalPolicy, ApprovalRequest


def approval_policy_of(*, organization_id: Any) -> ApprovalPolicy:
    """The organization's policy; an unsaved default one (disabled) when none was saved yet."""
    policy = ApprovalPolicy.objects.filter(organization_id=organization_id).first()
    return policy if policy is not None else ApprovalPolicy(organization_id=organization_id)


def _total(kind: str, request: dict[str, Any]) -> int:
    if kind == ops.BATCH_TRANSFER:
        return sum(int(row["amount"]) for row in request["transfers"])
    return int(request.get("amount") or 0)


def approval_gate(*, policy: ApprovalPolicy, kind: str, request: dict[str, Any]) -> str | None:
    """Why the request waits for approval (`kind`, `mint_above`, `batch_transfer_above`), None when
    it does not: the policy is off, or the kind is not gated and no threshold applies."""
    if not policy.enabled:
        return None
    if kind in (policy.kinds or []):
        return "kind"
    if kind == ops.MINT and policy.mint_above is not None and _total(kind, request) > Decimal(policy.mint_above):
        return "mint_above"
    if (kind == ops.BATCH_TRANSFER and policy.batch_transfer_above is not None
            and _total(kind, request) > Decimal(policy.batch_transfer_above)):
        return "batch_transfer_above"
    return None


def approval_subject_gate(*, policy: ApprovalPolicy, kind: str, rows: int = 0) -> str | None:
    """Why a change that is no operation waits (`issuance_policy_changes`, `allowlist_bulk_above`),
    None when it does not: the policy is off, or its field for the subject does not gate it."""
    if not policy.enabled:
        return None
    if kind == ISSUANCE_POLICY_CHANGE and policy.issuance_policy_changes:
        return "issuance_policy_changes"
    if kind == ALLOWLIST_BULK and policy.allowlist_bulk_above is not None and rows > policy.allowlist_bulk_above:
        return "allowlist_bulk_above"
    return None


def _with_decisions(qs: QuerySet[ApprovalRequest]) -> QuerySet[ApprovalRequest]:
    return qs.prefetch_related(Prefetch("decisions", queryset=ApprovalDecision.objects.order_by("id")))


def approval_list(*, user: User, filters: dict[str, Any] | None = None,
                  organization_ids: QuerySet[Any, Any] | None = None) -> QuerySet[ApprovalRequest]:
    scope = organization_ids if organization_ids is not None else organization_ids_of(user=user)
    qs = ApprovalRequest.objects.filter(organization_id__in=scope)
    return _with_decisions(filter_given(qs, filters or {}, {
        "status": "status", "kind": "kind", "token_id": "token_id",
        "created_after": "created_at__gte", "created_before": "created_at__lt"}))


def approval_get(*, user: User, approval_id: Any) -> ApprovalRequest:
    """Another organization's (or an unknown) request answers 404."""
    found = _with_decisions(ApprovalRequest.objects.filter(
        pk=approval_id, organization_id__in=organization_ids_of(user=user))).first()
    if found is None:
        raise NotFound("No such approval request.")
    return found
