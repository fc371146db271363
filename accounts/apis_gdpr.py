"""GDPR routes of the caller's own account (docs/gdpr.md): export (a background job, downloaded once
through a signed, expiring link) and erasure (pseudonymisation). Thin views over accounts.gdpr_export
and accounts.gdpr_erasure."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from biatec.core.errors import NotFound
from biatec.core.serializers import StrictSerializer, body_empty_check

from . import gdpr_erasure, gdpr_export, roles, throttles
from .apis import client_info
from .models import AccountExport
from .permissions import AuthenticatedRequest, RoleRequired


class AccountExportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=AccountExport.Status.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    downloaded_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField(help_text="SHA-256 of the ZIP (empty until it is built).")
    size = serializers.IntegerField()
    download_url = serializers.CharField(
        allow_null=True, help_text="The one-time download link (signed, expires at `expires_at`); null until the "
                                   "export is ready and after it was downloaded.")


def _export_row(request: Request, export: AccountExport) -> dict[str, Any]:
    url = None
    if export.status == AccountExport.Status.READY and export.downloaded_at is None:
        path = reverse("account-export-download", kwargs={"export_id": export.pk})
        url = request.build_absolute_uri(f"{path}?token={gdpr_export.export_link_token(export)}")
    return {"id": export.pk, "status": export.status, "created_at": export.created_at,
            "expires_at": export.expires_at, "downloaded_at": export.downloaded_at, "sha256": export.sha256,
            "size": export.size, "download_url": url}


class AccountExportApi(APIView):
    """`POST /api/v1/account/export`: queue the export of every personal datum held about the caller."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.SELF}
    error_statuses = (409,)  # EXPORT_IN_PROGRESS

    @extend_schema(request=None, responses={202: AccountExportSerializer},
                   description="Queues a background job that builds a ZIP of every personal datum held about "
                               "you (one JSON file per kind of data and a README). Poll "
                               "`GET /api/v1/account/export/{id}` for its `download_url`: downloadable once, until "
                               "`expires_at`. The request and the download are audited. One export at a time "
                               "(409 EXPORT_IN_PROGRESS).")
    def post(self, request: AuthenticatedRequest) -> Response:
        body_empty_check(request)
        export = gdpr_export.export_request(user=request.user)
        export.refresh_from_db()
        response = Response(_export_row(request, export), status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("account-export-detail", kwargs={"export_id": export.pk})
        return response


class AccountExportDetailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.SELF}

    @extend_schema(responses={200: AccountExportSerializer},
                   description="Your export's status and, once ready, its one-time download link.")
    def get(self, request: AuthenticatedRequest, export_id: str) -> Response:
        export = AccountExport.objects.filter(pk=export_id, user=request.user).first()
        if export is None:
            raise NotFound()
        return Response(_export_row(request, export))


class AccountExportDownloadApi(APIView):
    """The signed link is the credential (it names the export and its user, and expires with it), so
    that it opens in a browser; it works once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    role_actions = {"get": roles.PUBLIC}
    error_statuses = (409, 410)  # EXPORT_NOT_READY; EXPORT_EXPIRED, EXPORT_ALREADY_DOWNLOADED

    class QuerySerializer(StrictSerializer):
        token = serializers.CharField(max_length=512, help_text="The signed token of `download_url`.")

    @extend_schema(parameters=[OpenApiParameter("token", str, required=True,
                                                description="The signed token of `download_url`.")],
                   responses={(200, "application/zip"): OpenApiTypes.BINARY},
                   description="The export's ZIP, once: a second download is 410 EXPORT_ALREADY_DOWNLOADED, an "
                               "expired link 410 EXPORT_EXPIRED, a link that is not this export's 404.")
    def get(self, request: Request, export_id: str) -> HttpResponse:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export, data = gdpr_export.export_download(export_id=export_id, token=query.validated_data["token"])
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="personal-data-{export.pk}.zip"'
        response["Cache-Control"] = "no-store"
        return response


class AccountEraseApi(APIView):
    """`POST /api/v1/account/erase`: pseudonymise the caller's account (GDPR art. 17)."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.SELF}
    throttle_classes = [throttles.PasswordChangeRateThrottle]
    error_statuses = (409, 423)  # ACCOUNT_CONTROLS_TOKENS, ACCOUNT_HOLDS_ASSETS, LAST_OWNER; ACCOUNT_LOCKED

    class InputSerializer(StrictSerializer):
        password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)

    @extend_schema(request=InputSerializer, responses={204: None},
                   description="Needs the password (a wrong one is 401 INVALID_CREDENTIALS and counts on the login "
                               "lockout). Refused with 409 ACCOUNT_CONTROLS_TOKENS (`details.tokens`) while your "
                               "addresses still hold a role of a token (move it first), 409 ACCOUNT_HOLDS_ASSETS "
                               "(`details.holdings`) while they hold platform tokens, 409 LAST_OWNER while you are "
                               "the only owner of an organization with other members. Otherwise your e-mail and "
                               "personal fields are replaced by a pseudonym, every session and key revoked, your "
                               "sealed keys destroyed; records the regulation requires (audit log, deployments, "
                               "attestations) stay, pointing at the pseudonym. Irreversible.")
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gdpr_erasure.account_erase(user=request.user, password=data.validated_data["password"],
                                   client=client_info(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
