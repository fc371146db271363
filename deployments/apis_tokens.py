"""Token registry and token-operation endpoints: thin views over `operation_services`,
`selectors_tokens` and `token_state`.

`POST /api/v1/tokens/{id}/operations/{kind}` is one path per kind, each with its own documented
body; a kind the token's standard does not support answers 409 OPERATION_NOT_SUPPORTED with the
supported list. `batch_transfer` also takes `text/csv` (columns `address|email,amount`).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.organization_context import ORGANIZATION_PARAMETER, organization_ids_active
from accounts.permissions import AuthenticatedRequest, RoleRequired
from biatec.core.api import cursor_page
from biatec.core.errors import ValidationFailed
from biatec.core.parsers import DepthLimitedJSONParser
from biatec.core.schema import cursor_parameters, paginated
from biatec.core.serializers import StrictSerializer, body_empty_check
from tokens.networks import NETWORKS
from tokens.standards import STANDARDS
from tokens.standards import operations as ops
from tokens.standards.fields import AlgorandAddressField, EvmAddressField

from . import operation_services, selectors_tokens
from .apis import IDEMPOTENCY_HEADER, IDEMPOTENCY_PARAMETER
from .approval_models import ApprovalRequest
from .approval_presenters import ApprovalRequestSerializer, approval_row
from .csv_transfers import CsvTransfersParser
from .idempotency import StoredResponse, idempotent_call
from .models import DeploymentStatus
from .presenters import DeploymentEventSerializer, DeploymentTransactionSerializer, event_row, transaction_row
from .presenters_tokens import (
    HolderStateSerializer,
    OperationDetailSerializer,
    OperationSummarySerializer,
    TokenDetailSerializer,
    TokenSummarySerializer,
    holder_row,
    operation_detail,
    operation_summary,
    token_detail,
    token_summary,
)
from .token_state import token_live_state

OPERATION_WITH_HISTORY = inline_serializer("OperationWithHistory", {
    **OperationDetailSerializer().get_fields(),
    "history": DeploymentEventSerializer(many=True),
    "transactions": DeploymentTransactionSerializer(many=True),
})


# What a create answers: the queued operation, or (the organization's approval policy gates the
# request) the approval request it became, `status: pending_approval` (docs/approvals.md).
OPERATION_OR_APPROVAL = PolymorphicProxySerializer(
    component_name="OperationOrApprovalRequest", serializers=[OperationDetailSerializer, ApprovalRequestSerializer],
    resource_type_field_name=None)


def _location(request: Request, token_id: Any, operation_id: Any) -> str:
    return request.build_absolute_uri(f"/api/v1/tokens/{token_id}/operations/{operation_id}")


class TokenListApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (404,)  # X-Organization-Id not a UUID

    class FilterSerializer(serializers.Serializer):
        standard = serializers.ChoiceField(choices=sorted(STANDARDS), required=False)
        network = serializers.ChoiceField(choices=sorted(NETWORKS), required=False)
        paused = serializers.BooleanField(required=False, allow_null=True, default=None)
        chain_id = serializers.CharField(required=False, max_length=64,
                                         help_text="Contract address, asset id or app id.")
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[FilterSerializer, *cursor_parameters(), ORGANIZATION_PARAMETER], tags=["tokens"],
                   operation_id="tokens_list",
                   responses={200: paginated("TokenPage", TokenSummarySerializer(many=True))})
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        given = {k: v for k, v in filters.validated_data.items() if v is not None}
        qs = selectors_tokens.token_list(user=request.user, filters=given,
                                         organization_ids=organization_ids_active(user=request.user, request=request))
        return cursor_page(qs, request=request, view=self, rows=lambda page: [token_summary(t) for t in page])


class TokenDetailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (503,)

    @extend_schema(responses={200: TokenDetailSerializer}, tags=["tokens"],
                   description="The registry row and the token's live state, read from its chain now.")
    def get(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = selectors_tokens.token_get(user=request.user, token_id=token_id)
        return Response(token_detail(token, token_live_state(token)))


class TokenHolderApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (503,)

    @extend_schema(responses={200: HolderStateSerializer}, tags=["tokens"],
                   description="One holder's balance, frozen state and opt-in state, read from the chain now.")
    def get(self, request: AuthenticatedRequest, token_id: str, address: str) -> Response:
        token = selectors_tokens.token_get(user=request.user, token_id=token_id)
        field = EvmAddressField() if token.family == "evm" else AlgorandAddressField()
        try:
            address = field.run_validation(address)
        except serializers.ValidationError as exc:
            raise ValidationFailed(details={"fields": {"address": exc.detail}}) from None
        live = token_live_state(token, holders=[address])
        return Response(holder_row(address, live["holders"][address]))


class OperationCreateApi(APIView):
    """`POST /api/v1/tokens/{id}/operations/{kind}` → 202 with the queued operation."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.operate("{kind}")}  # the view's kind
    parser_classes = [DepthLimitedJSONParser]
    error_statuses = (402, 403, 409, 422, 503)  # 402: the plan's operations per month
    kind = ""

    def post(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = selectors_tokens.token_get(user=request.user, token_id=token_id)  # not X's member: 404 first
        self.check_object_permissions(request, token)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        payload = request.data

        def create() -> StoredResponse:
            created = operation_services.operation_create(user=request.user, token_id=token_id, kind=self.kind,
                                                          payload=payload, idempotency_key=key)
            if isinstance(created, ApprovalRequest):  # the organization's policy gates it: nothing is queued
                return StoredResponse(202, approval_row(created),
                                      {"Location": request.build_absolute_uri(f"/api/v1/approvals/{created.pk}")})
            return StoredResponse(202, operation_detail(created),
                                  {"Location": _location(request, token_id, created.pk)})

        if key is None:
            result = create()
        else:
            result = idempotent_call(user=request.user, endpoint=f"tokens/{token_id}/operations/{self.kind}", key=key,
                                     body=payload, handler=create)
        response = Response(result.body, status=result.status, headers=result.headers)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def operation_view(kind: str) -> Any:
    """The create view of one kind, with its own documented body and operation id."""
    body = ops.operation_serializer(kind, family="any", asset=False)
    supported = ", ".join(f"`{slug}`" for slug, spec in STANDARDS.items() if kind in spec.operations)

    def post(self: OperationCreateApi, request: AuthenticatedRequest, token_id: str) -> Response:
        return OperationCreateApi.post(self, request, token_id)

    documented = extend_schema(
        operation_id=f"tokens_operations_{kind}", summary=f"Queue a `{kind}`", tags=["tokens"],
        description=f"Queues the operation (202, `Location`). Standards: {supported}. Everything that needs no "
                    "transaction is checked now (balances, cap, paused, opt-ins, duplicates): a refused request "
                    "queues and signs nothing. When the organization's approval policy gates the request, the "
                    "202 carries an approval request (`status: pending_approval`, `Location` /api/v1/approvals/"
                    "{id}) and nothing is queued until approvers approve it."
                    + (" Also accepts `text/csv` with columns `address` (or `email`) and `amount`, up to 1 MB / "
                       "10,000 rows." if kind == ops.BATCH_TRANSFER else ""),
        # The CSV form is described, not declared: generated clients know no text/csv request bodies.
        request={"application/json": body},
        parameters=[IDEMPOTENCY_PARAMETER], responses={202: OPERATION_OR_APPROVAL},
    )(post)
    parsers = [DepthLimitedJSONParser, CsvTransfersParser] if kind == ops.BATCH_TRANSFER else [DepthLimitedJSONParser]
    view: type[OperationCreateApi] = type(f"Operation{kind.title().replace('_', '')}Api", (OperationCreateApi,), {
        "kind": kind, "post": documented, "parser_classes": parsers, "__module__": __name__,
        "__doc__": f"Queue a `{kind}` operation."})
    return view.as_view()


class OperationListApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=DeploymentStatus.choices, required=False)
        kind = serializers.ChoiceField(choices=ops.ALL_KINDS, required=False)
        correlation_id = serializers.CharField(required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[FilterSerializer, *cursor_parameters()], tags=["tokens"],
                   operation_id="tokens_operations_list",
                   responses={200: paginated("OperationPage", OperationSummarySerializer(many=True))})
    def get(self, request: AuthenticatedRequest, token_id: str) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        token = selectors_tokens.token_get(user=request.user, token_id=token_id)
        qs = selectors_tokens.operation_list(token=token, filters=filters.validated_data)
        return cursor_page(qs, request=request, view=self, rows=lambda page: [operation_summary(o) for o in page])


def _operation_with_history(operation: Any) -> dict[str, Any]:
    return {**operation_detail(operation),
            "history": [event_row(e) for e in selectors_tokens.operation_events(operation=operation)],
            "transactions": [transaction_row(t) for t in selectors_tokens.operation_transactions(operation=operation)]}


class OperationDetailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    @extend_schema(responses={200: OPERATION_WITH_HISTORY}, tags=["tokens"])
    def get(self, request: AuthenticatedRequest, token_id: str, operation_id: str) -> Response:
        token = selectors_tokens.token_get(user=request.user, token_id=token_id)
        operation = selectors_tokens.operation_get(token=token, operation_id=operation_id)
        return Response(_operation_with_history(operation))


class OperationCancelApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.operate("{kind}")}  # the operation's kind
    error_statuses = (409,)

    class InputSerializer(StrictSerializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses={200: OperationDetailSerializer}, tags=["tokens"])
    def post(self, request: AuthenticatedRequest, token_id: str, operation_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = selectors_tokens.token_get(user=request.user, token_id=token_id)
        operation = selectors_tokens.operation_get(token=token, operation_id=operation_id)
        self.check_object_permissions(request, operation)
        cancelled = operation_services.operation_cancel(operation=operation, user=request.user,
                                                        reason=data.validated_data["reason"])
        return Response(operation_detail(cancelled))


class OperationRetryApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.operate("{kind}")}  # the operation's kind
    error_statuses = (409,)

    @extend_schema(request=None, responses={202: OperationDetailSerializer}, tags=["tokens"])
    def post(self, request: AuthenticatedRequest, token_id: str, operation_id: str) -> Response:
        token = selectors_tokens.token_get(user=request.user, token_id=token_id)
        operation = selectors_tokens.operation_get(token=token, operation_id=operation_id)
        self.check_object_permissions(request, operation)
        body_empty_check(request)
        retried = operation_services.operation_retry(operation=operation, user=request.user)
        return Response(operation_detail(retried), status=status.HTTP_202_ACCEPTED)


