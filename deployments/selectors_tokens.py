"""Reads of the token registry and of token operations, always scoped to the user's organizations
(another organization's token or operation answers 404)."""
from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import organization_ids_of
from biatec.core.api import filter_given
from biatec.core.errors import NotFound

from .token_models import Operation, OperationEvent, OperationTransaction, Token


def token_list(*, user: User, filters: dict[str, Any] | None = None,
               organization_ids: QuerySet[Any, Any] | None = None) -> QuerySet[Token]:
    filters = dict(filters or {})
    scope = organization_ids if organization_ids is not None else organization_ids_of(user=user)
    qs = Token.objects.filter(organization_id__in=scope)
    lookup = filters.pop("chain_id", None)
    if lookup:
        by = Q(contract_address__iexact=lookup)
        if str(lookup).isdigit():
            by |= Q(asset_id=int(lookup)) | Q(app_id=int(lookup))
        qs = qs.filter(by)
    return filter_given(qs, filters, {"standard": "standard", "network": "network", "paused": "paused",
                                      "created_after": "created_at__gte", "created_before": "created_at__lt"})


def token_get(*, user: User, token_id: Any) -> Token:
    token = Token.objects.filter(pk=token_id, organization_id__in=organization_ids_of(user=user)).first()
    if token is None:
        raise NotFound("No such token.")
    return token


def operation_list(*, token: Token, filters: dict[str, Any] | None = None) -> QuerySet[Operation]:
    # The token's organization's operations: a holder's key rotation moving another organization's
    # token off a retired address is the holder's organization's (deployments/key_rotation.py).
    return filter_given(Operation.objects.filter(token=token, organization_id=token.organization_id), filters or {}, {
        "status": "status", "kind": "kind", "correlation_id": "correlation_id",
        "created_after": "created_at__gte", "created_before": "created_at__lt"})


def operation_get(*, token: Token, operation_id: Any) -> Operation:
    operation = Operation.objects.filter(pk=operation_id, token=token, organization_id=token.organization_id).first()
    if operation is None:
        raise NotFound("No such operation.")
    return operation


def operation_events(*, operation: Operation) -> QuerySet[OperationEvent]:
    return OperationEvent.objects.filter(operation=operation).order_by("id")


def operation_transactions(*, operation: Operation) -> QuerySet[OperationTransaction]:
    return OperationTransaction.objects.filter(operation=operation).defer("signed_bytes").order_by("created_at")
