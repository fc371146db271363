"""The holder registry against the chain: `GET /api/v1/tokens/{token_id}/allowlist/drift` (every
entry whose on-chain flag differs from what its status requires; kept as a report) and `POST
/allowlist/resync` (queue one `allowlist_sync` that fixes them). Both 409
ALLOWLIST_SYNC_NOT_POSSIBLE on a token that does not enforce its allow list on chain."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.permissions import AuthenticatedRequest, RoleRequired
from biatec.core.actors import actor_of
from biatec.core.serializers import JsonObjectField, body_empty_check
from deployments.presenters_tokens import OperationSummarySerializer, operation_summary
from deployments.selectors_tokens import token_get

from . import holder_sync


class DifferenceSerializer(serializers.Serializer):
    entry_id = serializers.UUIDField()
    address = serializers.CharField()
    status = serializers.CharField(help_text="The entry's status in the registry.")
    expected = JsonObjectField(help_text='{"allowed": true|false}: may the address hold and transfer.')
    on_chain = JsonObjectField(help_text="The flags read from the chain (eligible / whitelisted / opted_in, frozen).")
    fix = serializers.ChoiceField(choices=["resync", "opt_in"],
                                  help_text="`opt_in`: an outside holder of a regulated asset must opt in first.")


class DriftSerializer(serializers.Serializer):
    token_id = serializers.UUIDField()
    checked = serializers.IntegerField()
    in_sync = serializers.BooleanField()
    differences = DifferenceSerializer(many=True)


class ResyncSerializer(DriftSerializer):
    operation = OperationSummarySerializer(allow_null=True,
                                           help_text="The queued allowlist_sync; null when nothing to send.")


class AllowListDriftApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (409, 503)

    @extend_schema(responses={200: DriftSerializer}, tags=["holder registry"], operation_id="tokens_allowlist_drift",
                   description="Compare every entry with the chain now (and keep the report).")
    def get(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = token_get(user=request.user, token_id=token_id)
        report = holder_sync.allowlist_drift(token=token)
        holder_sync.allowlist_drift_keep(token=token, drift=report)
        return Response(report)


class AllowListResyncApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.MANAGE_ALLOWLIST}
    error_statuses = (409, 503)

    @extend_schema(request=None, responses={200: ResyncSerializer, 202: ResyncSerializer}, tags=["holder registry"],
                   operation_id="tokens_allowlist_resync",
                   description="Compare and queue one allowlist_sync that sets every differing entry as its status "
                               "requires: 202 with the operation, or 200 when there is nothing to send.")
    def post(self, request: AuthenticatedRequest, token_id: str) -> Response:
        token = token_get(user=request.user, token_id=token_id)
        self.check_object_permissions(request, token)
        body_empty_check(request)  # after the lookup and the role: 404 / 403 first
        drift, operation = holder_sync.allowlist_resync(token=token, actor=actor_of(request.user))
        body = {**drift, "operation": operation_summary(operation) if operation else None}
        return Response(body, status=status.HTTP_202_ACCEPTED if operation else status.HTTP_200_OK)
