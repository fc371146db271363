"""`GET /api/v1/account/usage?month=YYYY-MM`: the active organization's usage of a month (owner:
`billing`), docs/plans-and-usage.md."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from biatec.core.errors import NotFound, ValidationFailed
from biatec.core.serializers import StrictSerializer

from . import roles
from .organization_context import ORGANIZATION_PARAMETER, membership_active
from .permissions import AuthenticatedRequest, RoleRequired
from .plans_models import UsageKind
from .quotas import month_start
from .usage_selectors import month_parse, usage_month

USAGE_KINDS = tuple(UsageKind.values)


class UsageCountSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=USAGE_KINDS)
    accepted = serializers.IntegerField(help_text="Events accepted in the month (refunded ones included).")
    refunded = serializers.IntegerField(help_text="Of those, refunded: nothing reached a chain.")
    billable = serializers.IntegerField(help_text="accepted - refunded.")


class UsageNetworkSerializer(UsageCountSerializer):
    network = serializers.CharField()


class UsageFeeSerializer(serializers.Serializer):
    network = serializers.CharField()
    unit = serializers.ChoiceField(choices=["wei", "microalgo"])
    amount = serializers.CharField(help_text="Total chain fees in `unit` (an integer, as a string).")
    transactions = serializers.IntegerField()


class UsageQuotaSerializer(serializers.Serializer):
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited.")
    used = serializers.IntegerField()
    resets_at = serializers.DateTimeField(allow_null=True, help_text="Set for the current month.")


class UsageQuotasSerializer(serializers.Serializer):
    deployments_per_month = UsageQuotaSerializer()
    operations_per_month = UsageQuotaSerializer()


class UsageSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM (UTC).")
    organization_id = serializers.UUIDField()
    plan = serializers.CharField(help_text="The plan's slug.")
    totals = UsageCountSerializer(many=True)
    by_network = UsageNetworkSerializer(many=True)
    fees = UsageFeeSerializer(many=True, help_text="Chain fees paid for the month's events, per network.")
    quotas = UsageQuotasSerializer()


class UsageApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.BILLING}
    error_statuses = (403, 404)  # 404: the X-Organization-Id of an organization the caller is not in

    class QuerySerializer(StrictSerializer):
        month = serializers.CharField(required=False, help_text="YYYY-MM (UTC); default: the current month.")

    @extend_schema(tags=["account"], parameters=[QuerySerializer, ORGANIZATION_PARAMETER],
                   responses={200: UsageSerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        month = query.validated_data.get("month")
        try:
            start = month_parse(month) if month else month_start()
        except ValueError:
            raise ValidationFailed(details={"fields": {"month": ["A month as YYYY-MM."]}}) from None
        membership = membership_active(user=request.user, request=request)
        if membership is None:
            raise NotFound("No such organization.")
        self.check_object_permissions(request, membership)
        return Response(UsageSerializer(usage_month(organization=membership.organization, start=start)).data)
