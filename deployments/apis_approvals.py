"""Four-eyes approval endpoints (docs/approvals.md): thin views over `approval_selectors`,
`approval_services` and `approval_decisions`.

- `GET|PUT /api/v1/organizations/{id}/approval-policy`: every member reads it; owner and admin
  change it (`manage_members`: who may change the approvers may change what they approve).
- `GET /api/v1/approvals` (the active organization's, filters), `GET /api/v1/approvals/{id}`.
- `POST /api/v1/approvals/{id}/approve|reject` (`approve`: owner, compliance, approver).
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.members_selectors import membership_of
from accounts.organization_context import ORGANIZATION_PARAMETER, organization_ids_active
from accounts.permissions import AuthenticatedRequest, RoleRequired
from biatec.core.api import cursor_page
from biatec.core.schema import cursor_parameters, paginated
from biatec.core.serializers import StrictSerializer
from tokens.standards import operations as ops
from tokens.standards.fields import BigIntegerStringField

from . import approval_decisions, approval_selectors, approval_services
from .approval_models import SUBJECT_KINDS, ApprovalStatus
from .approval_presenters import (
    ApprovalPolicySerializer,
    ApprovalRequestSerializer,
    approval_policy_row,
    approval_row,
)

MAX_EXPIRY_HOURS = 24 * 30
MAX_BULK_ROWS = 1000  # the allow list's bulk limit (compliance.holder_services.MAX_BULK_ROWS)


class ApprovalPolicyApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "put": roles.MANAGE_MEMBERS}

    class InputSerializer(StrictSerializer):
        """Fields not given keep their value."""

        enabled = serializers.BooleanField(required=False)
        kinds = serializers.ListField(child=serializers.ChoiceField(choices=ops.KINDS), required=False,
                                      max_length=len(ops.KINDS), help_text="Kinds that always wait for approval.")
        mint_above = BigIntegerStringField(required=False, allow_null=True,
                                           help_text="A mint of more than this (base units) waits; null: none.")
        batch_transfer_above = BigIntegerStringField(
            required=False, allow_null=True, help_text="A batch transfer of more than this in total waits; null: none.")
        issuance_policy_changes = serializers.BooleanField(
            required=False, help_text="Changes of the organization's issuance policy wait for approval.")
        allowlist_bulk_above = serializers.IntegerField(
            required=False, allow_null=True, min_value=0, max_value=MAX_BULK_ROWS,
            help_text="An allow-list bulk write or CSV import of more rows than this waits; null: never.")
        approvals_required = serializers.IntegerField(required=False, min_value=1, max_value=2)
        expiry_hours = serializers.IntegerField(required=False, min_value=1, max_value=MAX_EXPIRY_HOURS)
        api_keys_may_approve = serializers.BooleanField(required=False)

    @extend_schema(tags=["approvals"], operation_id="organizations_approval_policy_read",
                   responses={200: ApprovalPolicySerializer})
    def get(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        membership = membership_of(user=request.user, organization_id=organization_id)
        self.check_object_permissions(request, membership)
        return Response(approval_policy_row(approval_selectors.approval_policy_of(
            organization_id=membership.organization_id)))

    @extend_schema(tags=["approvals"], operation_id="organizations_approval_policy_update",
                   request=InputSerializer, responses={200: ApprovalPolicySerializer})
    def put(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        membership = membership_of(user=request.user, organization_id=organization_id)
        self.check_object_permissions(request, membership)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = approval_services.approval_policy_update(organization_id=membership.organization_id,
                                                          user=request.user, changes=dict(data.validated_data))
        return Response(approval_policy_row(policy))


class ApprovalListApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (404,)  # X-Organization-Id not a UUID

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ApprovalStatus.choices, required=False)
        kind = serializers.ChoiceField(choices=[*ops.KINDS, *SUBJECT_KINDS], required=False)
        token_id = serializers.UUIDField(required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

    @extend_schema(parameters=[FilterSerializer, *cursor_parameters(), ORGANIZATION_PARAMETER], tags=["approvals"],
                   operation_id="approvals_list",
                   description="The active organization's approval requests, newest first; "
                               "`status=pending_approval` is the approver queue.",
                   responses={200: paginated("ApprovalRequestPage", ApprovalRequestSerializer(many=True))})
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = approval_selectors.approval_list(
            user=request.user, filters=filters.validated_data,
            organization_ids=organization_ids_active(user=request.user, request=request))
        return cursor_page(qs, request=request, view=self, rows=lambda page: [approval_row(a) for a in page])


class ApprovalDetailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    @extend_schema(tags=["approvals"], operation_id="approvals_read", responses={200: ApprovalRequestSerializer})
    def get(self, request: AuthenticatedRequest, approval_id: str) -> Response:
        return Response(approval_row(approval_selectors.approval_get(user=request.user, approval_id=approval_id)))


class ApprovalApproveApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.APPROVE}
    error_statuses = (402, 409, 422)  # 402: the plan's quota, checked again when the change is made

    class InputSerializer(StrictSerializer):
        comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        tags=["approvals"], operation_id="approvals_approve", request=InputSerializer,
        responses={200: ApprovalRequestSerializer},
        description="Approve (never your own request). The approval completing the count re-checks the request "
                    "against the chain's state now and queues the operation (`operation_id`), or, for an issuance "
                    "policy change or an allow-list bulk write, re-validates and applies the change (`result`); a "
                    "check refusing it answers with that check's error, and the request stays pending.")
    def post(self, request: AuthenticatedRequest, approval_id: str) -> Response:
        approval = approval_selectors.approval_get(user=request.user, approval_id=approval_id)
        self.check_object_permissions(request, approval)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = approval_decisions.approval_approve(
            approval_id=approval.pk, user=request.user, comment=data.validated_data["comment"],
            via_api_key=approval_decisions.request_is_api_key(request))
        return Response(approval_row(approval_selectors.approval_get(user=request.user, approval_id=decided.pk)))


class ApprovalRejectApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.APPROVE}
    error_statuses = (409,)

    class InputSerializer(StrictSerializer):
        comment = serializers.CharField(max_length=2000)

    @extend_schema(tags=["approvals"], operation_id="approvals_reject", request=InputSerializer,
                   responses={200: ApprovalRequestSerializer},
                   description="Reject with a comment (never your own request): nothing is queued or changed.")
    def post(self, request: AuthenticatedRequest, approval_id: str) -> Response:
        approval = approval_selectors.approval_get(user=request.user, approval_id=approval_id)
        self.check_object_permissions(request, approval)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = approval_decisions.approval_reject(
            approval_id=approval.pk, user=request.user, comment=data.validated_data["comment"],
            via_api_key=approval_decisions.request_is_api_key(request))
        return Response(approval_row(approval_selectors.approval_get(user=request.user, approval_id=decided.pk)))
