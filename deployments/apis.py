"""Deployment endpoints: thin views over services and selectors."""
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

from accounts.permissions import HasWriteRole
from biatec.core.api import CreatedAtCursorPagination
from biatec.core.csv_export import csv_response
from biatec.core.errors import NotFound, ValidationFailed

from . import selectors, services
from .idempotency import StoredResponse, idempotent_call
from .presenters import deployment_detail, deployment_summary, event_row

IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeploymentErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    retryable = serializers.BooleanField()
    details = serializers.JSONField()


class DeploymentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    standard = serializers.CharField()
    network = serializers.CharField()
    correlation_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DeploymentDetailSerializer(DeploymentSummarySerializer):
    organization_id = serializers.UUIDField()
    creator_id = serializers.UUIDField()
    request = serializers.JSONField()
    compliance_metadata = serializers.JSONField(allow_null=True)
    results = serializers.JSONField(help_text="tx_ids, contract_address / asset_id / app_id, block or round, "
                                              "read-back values")
    links = serializers.DictField(child=serializers.URLField())
    error = DeploymentErrorSerializer(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)


class DeploymentEventSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    from_status = serializers.CharField(allow_null=True)
    to_status = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    reason = serializers.CharField()
    correlation_id = serializers.CharField()
    facts = serializers.JSONField()


HISTORY = inline_serializer("DeploymentHistory", {"results": DeploymentEventSerializer(many=True)})
DETAILS = inline_serializer("DeploymentDetailList", {"results": DeploymentDetailSerializer(many=True)})


def _location(request: Request, deployment_id: str) -> str:
    return request.build_absolute_uri(f"/api/v1/token/deployments/{deployment_id}")


class DeploymentCreateApi(APIView):
    """`POST /api/v1/token/{standard}/create` → 202 with the queued deployment."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False)],
        responses={202: DeploymentDetailSerializer},
        description="Body: `network`, the standard's fields (see tokens/standards.py) and optional "
                    "`compliance_metadata`.",
    )
    def post(self, request: Request, standard: str) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationFailed("The body must be a JSON object.")
        payload = dict(request.data)
        compliance_metadata = payload.pop("compliance_metadata", None)
        key = request.headers.get(IDEMPOTENCY_HEADER)

        def create() -> StoredResponse:
            deployment = services.deployment_create(
                user=request.user, standard=standard, payload=payload, compliance_metadata=compliance_metadata,
                idempotency_key=key,
            )
            body = deployment_detail(deployment)
            return StoredResponse(202, body, {"Location": _location(request, body["id"])})

        if key is None:
            result = create()
        else:
            result = idempotent_call(user=request.user, endpoint=f"token/{standard}/create", key=key,
                                     body=request.data, handler=create)
        response = Response(result.body, status=result.status, headers=result.headers)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class DeploymentListApi(APIView):
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False)
        standard = serializers.CharField(required=False)
        network = serializers.CharField(required=False)
        correlation_id = serializers.CharField(required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: inline_serializer("DeploymentPage", {
                       "next": serializers.URLField(allow_null=True), "previous": serializers.URLField(allow_null=True),
                       "results": DeploymentSummarySerializer(many=True)})},
                   operation_id="token_deployments_list")
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.deployment_list(user=request.user, filters=filters.validated_data)
        paginator = CreatedAtCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([deployment_summary(d) for d in page or []])


class DeploymentDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: DeploymentDetailSerializer})
    def get(self, request: Request, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        return Response(deployment_detail(deployment))


class DeploymentHistoryApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: HISTORY})
    def get(self, request: Request, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        return Response({"results": [event_row(e) for e in selectors.deployment_events(deployment=deployment)]})


class DeploymentCancelApi(APIView):
    permission_classes = [IsAuthenticated, HasWriteRole]  # viewers: 403 PERMISSION_DENIED

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses={200: DeploymentDetailSerializer})
    def post(self, request: Request, deployment_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        self.check_object_permissions(request, deployment)
        cancelled = services.deployment_cancel(deployment=deployment, user=request.user,
                                               reason=data.validated_data["reason"])
        return Response(deployment_detail(cancelled))


class DeploymentRetryApi(APIView):
    permission_classes = [IsAuthenticated, HasWriteRole]  # viewers: 403 PERMISSION_DENIED

    @extend_schema(request=None, responses={202: DeploymentDetailSerializer})
    def post(self, request: Request, deployment_id: str) -> Response:
        deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
        self.check_object_permissions(request, deployment)
        retried = services.deployment_retry(deployment=deployment, user=request.user)
        return Response(deployment_detail(retried), status=status.HTTP_202_ACCEPTED)


AUDIT_COLUMNS = ["sequence", "at", "from_status", "to_status", "actor", "reason", "correlation_id", "facts"]


class DeploymentAuditTrailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses={200: inline_serializer("DeploymentAuditTrail", {
                       "deployment": DeploymentDetailSerializer(), "events": DeploymentEventSerializer(many=True)})})
    def get(self, request: Request, deployment_id: str) -> Any:
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

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("correlation_id", str, required=True)],
                   responses={200: DETAILS})
    def get(self, request: Request) -> Response:
        if not selectors.is_support_staff(request.user):
            raise NotFound("No such resource.")
        correlation_id = request.query_params.get("correlation_id", "").strip()
        if not correlation_id:
            raise ValidationFailed(details={"fields": {"correlation_id": ["This parameter is required."]}})
        found = selectors.deployment_find_by_correlation_id(correlation_id=correlation_id)
        return Response({"results": [deployment_detail(d) for d in found]})
