"""Compliance endpoints: thin views over services and selectors."""
from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.organization_context import organization_chosen
from accounts.permissions import AuthenticatedRequest, RoleRequired
from accounts.throttles import ComplianceEvaluateRateThrottle
from biatec.audit.chain import audit_entry_rows
from biatec.core.actors import actor_of
from biatec.core.api import ValidatedCursorMixin, cursor_page
from biatec.core.csv_export import csv_response
from biatec.core.errors import ValidationFailed
from biatec.core.schema import cursor_parameters
from biatec.core.serializers import StrictSerializer, body_empty_check
from deployments.apis import IDEMPOTENCY_PARAMETER
from deployments.approval_presenters import ApprovalRequestSerializer
from deployments.selectors import deployment_get
from tokens.networks import NETWORKS
from tokens.standards import STANDARDS

from . import api_schemas, selectors, services
from .api_approvals import idempotency_key_of, idempotent_response, written_or_waiting
from .approval_subjects import issuance_policy_change
from .attestation import attestation_key_ensure, attestation_key_public
from .gate import policy_snapshot
from .models import Attestation, IssuancePolicy


class CsvRenderer(BaseRenderer):
    """Lets `?format=csv` pass DRF's content negotiation; CSV bodies are built by the views, and
    errors on these endpoints still render as JSON bytes."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, (bytes, str)):
            return data.encode() if isinstance(data, str) else data
        return json.dumps(data).encode()


EXPORT_RENDERERS = [JSONRenderer, CsvRenderer]


class AuditCursorPagination(ValidatedCursorMixin, CursorPagination):
    ordering = "-id"  # insertion order across an organization's chains (its own and the legacy one)
    page_size = 100
    max_page_size = 500
    page_size_query_param = "page_size"


def _bound(value: Any, *, end: bool) -> datetime | None:
    """A `from`/`to` bound: a date means its whole day (`to` is exclusive: the next midnight)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    moment = datetime.combine(value, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeField(serializers.Field):
    def to_internal_value(self, data: Any) -> Any:
        text = str(data).strip()
        try:
            if len(text) == 10:
                return datetime.fromisoformat(text).date()
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise serializers.ValidationError("Use an ISO-8601 date or date-time.") from None

    def to_representation(self, value: Any) -> Any:
        return value.isoformat()


class ComplianceEvaluateApi(APIView):
    """`POST /api/v1/compliance/evaluate`: the create endpoint's checks (token request, profile, MiCA,
    policy) without deploying. 200 with `allowed` and, when refused, the same `violations` and
    `failing_rules` the create endpoint would answer in its 422."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.READ}  # a dry run: nothing is created
    throttle_classes = [ComplianceEvaluateRateThrottle]
    error_statuses = (403, 404)

    class InputSerializer(serializers.Serializer):
        standard = serializers.CharField(max_length=32)

    @extend_schema(request=api_schemas.evaluate_request(), responses={200: api_schemas.EvaluationSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationFailed("The body must be a JSON object.")
        payload = dict(request.data)
        data = self.InputSerializer(data={"standard": payload.pop("standard", None)})
        data.is_valid(raise_exception=True)
        compliance_metadata = payload.pop("compliance_metadata", None)
        decision, row = services.compliance_preflight(user=request.user, standard=data.validated_data["standard"],
                                                      payload=payload, compliance_metadata=compliance_metadata,
                                                      organization_id=organization_chosen(request))
        return Response({
            "allowed": decision.allowed,
            "code": None if decision.allowed else "COMPLIANCE_VIOLATION",
            **decision.error_details(),
            "mica": decision.mica,
            "profile_sha256": decision.profile_sha256 or None,
            "policy": decision.policy,
            "decision_id": str(row.pk),
        })


AUDIT_COLUMNS = ["chain", "sequence", "occurred_at", "organization_id", "actor", "action", "object_type", "object_id",
                 "correlation_id", "payload", "prev_hash", "entry_hash", "personal"]


class AuditLogApi(APIView):
    """`GET /api/v1/compliance/audit-log`: the organization's audit entries, newest first. Without
    `format`: paginated JSON; `format=json|csv`: the whole filtered export (audited)."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.COMPLIANCE_READ}
    error_statuses = (403, 404)
    renderer_classes = EXPORT_RENDERERS

    class FilterSerializer(serializers.Serializer):
        organization = serializers.UUIDField(required=False)
        action = serializers.CharField(required=False, max_length=64, help_text="Exact, or a prefix ending in *.")
        object_type = serializers.CharField(required=False, max_length=64)
        object_id = serializers.CharField(required=False, max_length=64)
        actor = serializers.CharField(required=False, max_length=128)
        correlation_id = serializers.CharField(required=False, max_length=64)
        since = DateOrDateTimeField(required=False, help_text="Query parameter `from`.")
        until = DateOrDateTimeField(required=False, help_text="Query parameter `to` (a date includes its day).")
        format = serializers.ChoiceField(choices=["json", "csv"], required=False)

    @extend_schema(parameters=[FilterSerializer, *cursor_parameters(), OpenApiParameter("from", str),
                               OpenApiParameter("to", str)],
                   responses={200: api_schemas.AuditLogPageSerializer, (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: AuthenticatedRequest) -> Any:
        params = request.query_params.dict()
        for public, internal in (("from", "since"), ("to", "until")):
            if public in params:
                params[internal] = params.pop(public)
        filters = self.FilterSerializer(data=params)
        filters.is_valid(raise_exception=True)
        values = dict(filters.validated_data)
        membership = selectors.compliance_membership(
            user=request.user, organization_id=values.get("organization") or organization_chosen(request))
        self.check_object_permissions(request, membership)
        query = {
            **{k: values.get(k) for k in ("action", "object_type", "object_id", "actor", "correlation_id")},
            "since": _bound(values.get("since"), end=False), "until": _bound(values.get("until"), end=True),
        }
        qs = selectors.audit_entry_list(organization=membership.organization, filters=query)
        export_format = values.get("format")
        if export_format is None:
            return cursor_page(qs, request=request, view=self, rows=audit_entry_rows,
                               pagination=AuditCursorPagination)
        limit = settings.COMPLIANCE_EXPORT_MAX_ROWS
        rows = audit_entry_rows(qs[:limit])
        services.export_record(kind="audit_log", actor=actor_of(request.user),
                               organization=membership.organization,
                               parameters={**{k: str(v) for k, v in request.query_params.items()}}, rows=len(rows))
        if export_format == "csv":
            table = [[json.dumps(r[c], sort_keys=True) if c in ("payload", "personal") else r[c] for c in AUDIT_COLUMNS]
                     for r in rows]
            return csv_response(AUDIT_COLUMNS, table, f"audit-log-{membership.organization_id}.csv")
        return Response({"organization_id": str(membership.organization_id), "count": len(rows),
                         "truncated": len(rows) == limit, "results": rows})


class ComplianceReportApi(APIView):
    """`GET /api/v1/compliance/report?from=&to=&format=json|csv`: deployments by status, network and
    standard, MiCA results and refused policy violations of the organization in [from, to)."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (403, 404)
    renderer_classes = EXPORT_RENDERERS

    class FilterSerializer(serializers.Serializer):
        organization = serializers.UUIDField(required=False)
        format = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")

    @extend_schema(parameters=[FilterSerializer, OpenApiParameter("from", str), OpenApiParameter("to", str)],
                   responses={200: api_schemas.ComplianceReportSerializer, (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: AuthenticatedRequest) -> Any:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        bounds = {}
        errors = {}
        for name in ("from", "to"):
            raw = request.query_params.get(name)
            if raw:
                try:
                    bounds[name] = DateOrDateTimeField().to_internal_value(raw)
                except serializers.ValidationError as exc:
                    errors[name] = exc.detail
        if errors:
            raise ValidationFailed(details={"fields": errors})
        end = _bound(bounds.get("to"), end=True) or timezone.now()
        start = _bound(bounds.get("from"), end=False) or end - timedelta(days=settings.COMPLIANCE_REPORT_DEFAULT_DAYS)
        if start >= end:
            raise ValidationFailed(details={"fields": {"from": ["Must be before 'to'."]}})
        chosen = filters.validated_data.get("organization") or organization_chosen(request)
        membership = selectors.compliance_membership(user=request.user, organization_id=chosen)
        report = selectors.compliance_report(organization=membership.organization, start=start, end=end)
        export_format = filters.validated_data["format"]
        services.export_record(kind="report", actor=actor_of(request.user),
                               organization=membership.organization,
                               parameters={"from": start.isoformat(), "to": end.isoformat(), "format": export_format})
        if export_format == "csv":
            rows = [list(row) for row in selectors.report_csv_rows(report)]
            filename = f"compliance-report-{membership.organization_id}.csv"
            return csv_response(["section", "key", "value"], rows, filename)
        return Response(report)


class AttestationIssueApi(APIView):
    """`POST /api/v1/compliance/deployments/{id}/attestation`: sign a statement about a completed
    deployment (201); `GET` lists its attestations."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "post": roles.ATTEST}
    error_statuses = (403, 409)

    @extend_schema(request=None, responses={201: api_schemas.AttestationIssuedSerializer})
    def post(self, request: AuthenticatedRequest, deployment_id: str) -> Response:
        deployment = deployment_get(user=request.user, deployment_id=deployment_id)
        self.check_object_permissions(request, deployment)
        body_empty_check(request)  # after the lookup and the role: 404 / 403 first
        attestation = services.attestation_issue(deployment=deployment, actor=actor_of(request.user))
        key = attestation_key_ensure()
        return Response({**selectors.attestation_row(attestation), "public_key": attestation_key_public(key)},
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: api_schemas.AttestationListSerializer})
    def get(self, request: AuthenticatedRequest, deployment_id: str) -> Response:
        deployment = deployment_get(user=request.user, deployment_id=deployment_id)
        rows = Attestation.objects.filter(deployment=deployment).order_by("created_at", "id")
        return Response({"results": [selectors.attestation_row(a) for a in rows]})


class EvidenceBundleApi(APIView):
    """`GET /api/v1/compliance/deployments/{id}/evidence-bundle`: the signed, deterministic ZIP."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: AuthenticatedRequest, deployment_id: str) -> HttpResponse:
        deployment = deployment_get(user=request.user, deployment_id=deployment_id)
        bundle = services.evidence_bundle_export(deployment=deployment, actor=actor_of(request.user))
        response = HttpResponse(bundle, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="evidence-{deployment.pk}.zip"'
        return response


class AttestationKeyApi(APIView):
    """`GET /api/v1/compliance/attestation-key`: the platform's Ed25519 public key (public)."""

    permission_classes = [AllowAny]
    role_actions = {"get": roles.PUBLIC}
    authentication_classes: list = []

    @extend_schema(responses={200: api_schemas.AttestationKeySerializer})
    def get(self, request: Request) -> Response:
        return Response(attestation_key_public(attestation_key_ensure()))


class IssuancePolicyApi(APIView):
    """`GET /api/v1/compliance/policy`: the organization's issuance policy; `PUT` changes the fields
    given (`manage_issuance_policy`: owner, admin, compliance), or, when the organization's approval
    policy gates issuance policy changes, answers 202 with the approval request (docs/approvals.md)."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "put": roles.MANAGE_ISSUANCE_POLICY}
    error_statuses = (403, 404, 409)  # 409: the Idempotency-Key

    class InputSerializer(StrictSerializer):
        """Fields not given keep their value; at least one is given."""

        allowed_networks = serializers.ListField(child=serializers.ChoiceField(choices=sorted(NETWORKS)),
                                                 required=False, max_length=len(NETWORKS),
                                                 help_text="Network slugs; empty allows all.")
        allowed_standards = serializers.ListField(child=serializers.ChoiceField(choices=sorted(STANDARDS)),
                                                  required=False, max_length=len(STANDARDS),
                                                  help_text="Standard slugs; empty allows all.")
        require_compliance_profile = serializers.BooleanField(required=False)
        require_mica_compliant = serializers.BooleanField(required=False)
        allow_out_of_scope = serializers.BooleanField(required=False)
        blocked_issuer_countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False,
                                                         max_length=300, help_text="ISO 3166-1 alpha-2 codes.")
        require_operation_reason = serializers.BooleanField(required=False)

    @extend_schema(parameters=[OpenApiParameter("organization", OpenApiTypes.UUID)],
                   responses={200: api_schemas.IssuancePolicySerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        chosen = request.query_params.get("organization") or organization_chosen(request)
        membership = selectors.compliance_membership(user=request.user, organization_id=chosen)
        policy = IssuancePolicy.objects.filter(organization=membership.organization).first()
        return Response({"organization_id": str(membership.organization_id),
                         "policy": policy_snapshot(policy) if policy else None})

    @extend_schema(parameters=[OpenApiParameter("organization", OpenApiTypes.UUID), IDEMPOTENCY_PARAMETER],
                   request=InputSerializer,
                   responses={200: api_schemas.IssuancePolicySerializer, 202: ApprovalRequestSerializer},
                   operation_id="compliance_policy_update",
                   description="Change the fields given of the organization's issuance policy (audited "
                               "`policy.changed`). When the organization's approval policy is on and gates issuance "
                               "policy changes (`issuance_policy_changes`), the answer is 202 with an approval "
                               "request (`status: pending_approval`, `Location` /api/v1/approvals/{id}) and the "
                               "policy changes only once approved.")
    def put(self, request: AuthenticatedRequest) -> Response:
        chosen = request.query_params.get("organization") or organization_chosen(request)
        membership = selectors.compliance_membership(user=request.user, organization_id=chosen)
        self.check_object_permissions(request, membership)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = membership.organization

        def change() -> Any:
            changed = issuance_policy_change(organization=organization, user=request.user,
                                             values=dict(data.validated_data),
                                             idempotency_key=idempotency_key_of(request))
            return written_or_waiting(request, changed, lambda policy: {
                "organization_id": str(organization.pk), "policy": policy_snapshot(policy)})

        return idempotent_response(request, endpoint=f"compliance/policy/{organization.pk}", body=request.data,
                                   handler=change)
