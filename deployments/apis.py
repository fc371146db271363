"""Deployment endpoints: thin views over services and selectors.

The create endpoint is one path per standard (`POST /api/v1/token/<slug>/create`), generated from the
standards table, each with its own request schema: that is what a client generated from the OpenAPI
schema needs to build a valid request. An unknown slug answers 404 `UNSUPPORTED_STANDARD`.
"""
from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.organization_context import ORGANIZATION_PARAMETER, membership_active, organization_ids_active
from accounts.permissions import AuthenticatedRequest, RoleRequired
from biatec.core.api import cursor_page
from biatec.core.csv_export import csv_response
from biatec.core.errors import NotFound, PermissionDenied, ValidationFailed
from biatec.core.schema import cursor_parameters, paginated
from biatec.core.serializers import StrictSerializer, body_empty_check
from tokens.networks import NETWORKS
from tokens.standards import STANDARDS, Standard
from tokens.standards.validation import standard_require

from . import selectors, services
from .idempotency import StoredResponse, idempotent_call
from .issuance_gates import compliance_metadata_field
from .models import DeploymentStatus
from .presenters import (
    DeploymentDetailSerializer,
    DeploymentEventSerializer,
    DeploymentSummarySerializer,
    DeploymentTransactionSerializer,
    deployment_detail,
    deployment_summary,
    event_row,
    transaction_row,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
    description="1 to 255 characters. Repeating a request with the same key and body replays its answer "
                "(header `Idempotent-Replayed: true`); another body answers 409 IDEMPOTENCY_KEY_MISMATCH.")

HISTORY = inline_serializer("DeploymentHistory", {
    "results": DeploymentEventSerializer(many=True),
    "transactions": DeploymentTransactionSerializer(many=True, help_text="Every chain step's transactions, "
                                                    "replacements and superseded ones included, oldest first."),
})
DETAILS = inline_serializer("DeploymentDetailList", {"results": DeploymentDetailSerializer(many=True)})


def _location(request: Request, deployment_id: str) -> str:
    return request.build_absolute_uri(f"/api/v1/token/deployments/{deployment_id}")


def create_request_serializer(spec: Standard) -> type[serializers.Serializer]:
    """The body of `POST /token/<slug>/create`: the standard's fields plus `compliance_metadata`."""
    name = "".join(part.capitalize() for part in spec.slug.split("-")) + "CreateSerializer"
    return type(name, (spec.serializer,), {
        "__doc__": f"Create a token of standard `{spec.slug}`: {spec.title}.",
        "__module__": __name__,
        "compliance_metadata": compliance_metadata_field(),
    })


class DeploymentCreateApi(APIView):
    """`POST /api/v1/token/{standard}/create` → 202 with the queued deployment."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.DEPLOY}
    error_statuses = (402, 403, 404, 409, 422, 503)  # 404: X-Organization-Id not one of yours
    standard = ""  # set per standard by `create_view`

    def post(self, request: AuthenticatedRequest, standard: str | None = None) -> Response:
        slug = standard or self.standard
        standard_require(slug)
        membership = membership_active(user=request.user, request=request)
        if membership is None:
            raise PermissionDenied("You do not belong to an organization.")
        self.check_object_permissions(request, membership)
        if not isinstance(request.data, dict):
            raise ValidationFailed("The body must be a JSON object.")
        payload = dict(request.data)
        compliance_metadata = payload.pop("compliance_metadata", None)
        key = request.headers.get(IDEMPOTENCY_HEADER)

        def create() -> StoredResponse:
            deployment = services.deployment_create(
                user=request.user, standard=slug, payload=payload, compliance_metadata=compliance_metadata,
                idempotency_key=key, membership=membership,
            )
            body = deployment_detail(deployment)
            return StoredResponse(202, body, {"Location": _location(request, body["id"])})

        if key is None:
            result = create()
        else:
            result = idempotent_call(user=request.user, endpoint=f"token/{slug}/create", key=key,
                                     body=request.data, handler=create)
        response = Response(result.body, status=result.status, headers=result.headers)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def create_view(spec: Standard) -> Any:
    """The create view of one standard, with its own request schema and operation id."""
    networks = ", ".join(f"`{n.slug}`" for n in spec.networks())

    def post(self: DeploymentCreateApi, request: AuthenticatedRequest, standard: str | None = None) -> Response:
        return DeploymentCreateApi.post(self, request, standard)

    documented = extend_schema(
        operation_id=f"token_{spec.slug.replace('-', '_')}_create",
        summary=f"Create {spec.slug}: {spec.title}",
        description=f"Queues the deployment (202) and answers it with `Location`. Networks: {networks}. "
                    "Everything that needs no chain transaction is checked now: a refused request "
                    "creates nothing.",
        tags=["token"],
        request=create_request_serializer(spec),
        parameters=[IDEMPOTENCY_PARAMETER, ORGANIZATION_PARAMETER],
        responses={202: DeploymentDetailSerializer},
    )(post)
    name = f"{create_request_serializer(spec).__name__.removesuffix('Serializer')}Api"
    view: type[DeploymentCreateApi] = type(name, (DeploymentCreateApi,), {
        "standard": spec.slug, "post": documented, "__module__": __name__, "__doc__": f"Create a `{spec.slug}` token."})
    return view.as_view()


class UnknownStandardCreateApi(DeploymentCreateApi):
    """Any other `<slug>/create`: 404 UNSUPPORTED_STANDARD (not an operation of the schema)."""

    schema = None
    role_actions = {"post": roles.SELF}  # the same 404 for every role: no organization is touched


class DeploymentListApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (404,)  # X-Organization-Id not a UUID

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=DeploymentStatus.choices, required=False)
        standard = serializers.ChoiceField(choices=sorted(STANDARDS), required=False)
        network = serializers.ChoiceField(choices=sorted(NETWORKS), required=False)
        correlation_id = serializers.CharField(required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[FilterSerializer, *cursor_parameters(), ORGANIZATION_PARAMETER],
                   responses={200: paginated("DeploymentPage", DeploymentSummarySerializer(many=True))},
                   operation_id="token_deployments_list")
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.deployment_list(user=request.user, filters=filters.validated_data,
                                       organization_ids=organization_ids_active(user=request.user, request=request))
        return cursor_page(qs, request=request, view=self, rows=lambda page: [deployment_summary(d) for d in page])


class DeploymentDetailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    @extend_schema(responses={200: DeploymentDetailSerializer})
    def get(self, request: AuthenticatedRequest, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        return Response(deployment_detail(deployment))


class DeploymentHistoryApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    @extend_schema(responses={200: HISTORY})
    def get(self, request: AuthenticatedRequest, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        return Response({"results": [event_row(e) for e in selectors.deployment_events(deployment=deployment)],
                         "transactions": [transaction_row(t) for t in
                                          selectors.deployment_transactions(deployment=deployment)]})


class DeploymentCancelApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]  # no deploy role: 403 PERMISSION_DENIED
    role_actions = {"post": roles.DEPLOY}
    error_statuses = (409,)

    class InputSerializer(StrictSerializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses={200: DeploymentDetailSerializer})
    def post(self, request: AuthenticatedRequest, deployment_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        self.check_object_permissions(request, deployment)
        cancelled = services.deployment_cancel(deployment=deployment, user=request.user,
                                               reason=data.validated_data["reason"])
        return Response(deployment_detail(cancelled))


class DeploymentRetryApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]  # no deploy role: 403 PERMISSION_DENIED
    role_actions = {"post": roles.DEPLOY}
    error_statuses = (409,)

    @extend_schema(request=None, responses={202: DeploymentDetailSerializer})
    def post(self, request: AuthenticatedRequest, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        self.check_object_permissions(request, deployment)
        body_empty_check(request)  # after the lookup: another organization's id stays a plain 404
        retried = services.deployment_retry(deployment=deployment, user=request.user)
        return Response(deployment_detail(retried), status=status.HTTP_202_ACCEPTED)


AUDIT_COLUMNS = ["sequence", "at", "from_status", "to_status", "actor", "reason", "correlation_id", "facts"]


class DeploymentAuditTrailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses={200: inline_serializer("DeploymentAuditTrail", {
                       "deployment": DeploymentDetailSerializer(), "events": DeploymentEventSerializer(many=True)}),
                              (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: AuthenticatedRequest, deployment_id: str) -> Any:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        rows = [event_row(e) for e in selectors.deployment_events(deployment=deployment)]
        export_format = request.query_params.get("format", "json")
        if export_format == "csv":
            table = [[json.dumps(row["facts"], sort_keys=True) if column == "facts" else row.get(column)
                      for column in AUDIT_COLUMNS] for row in rows]
            return csv_response(AUDIT_COLUMNS, table, f"deployment-{deployment.pk}-audit.csv")
        if export_format != "json":
            raise ValidationFailed(details={"fields": {"format": ["Use json or csv."]}})
        return Response({"deployment": deployment_detail(deployment), "events": rows})


class SupportDeploymentLookupApi(APIView):
    """Staff (`is_staff` or the `support` group) find any organization's deployment by correlation ID."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.STAFF}
    error_statuses = (404,)  # not staff: the endpoint does not exist for you

    @extend_schema(parameters=[OpenApiParameter("correlation_id", str, required=True)],
                   responses={200: DETAILS})
    def get(self, request: AuthenticatedRequest) -> Response:
        if not selectors.is_support_staff(request.user):
            raise NotFound("No such resource.")
        correlation_id = request.query_params.get("correlation_id", "").strip()
        if not correlation_id:
            raise ValidationFailed(details={"fields": {"correlation_id": ["This parameter is required."]}})
        found = selectors.deployment_find_by_correlation_id(correlation_id=correlation_id)
        return Response({"results": [deployment_detail(d) for d in found]})
