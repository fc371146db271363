"""Two-factor of the API login (docs/mfa.md): the second login step, and a user's own TOTP device
(status, enrol, confirm, disable). Thin views over accounts.services and accounts.mfa."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from biatec.core.serializers import StrictSerializer, body_empty_check

from . import mfa, services, throttles
from .apis import TokenPairSerializer, client_info, organization_id_field
from .permissions import AuthenticatedRequest


class LoginMfaApi(APIView):
    """POST /api/v1/auth/login answers 401 `MFA_REQUIRED` with `details.challenge` (and
    `details.expires_in`, seconds) for a user with TOTP on: no tokens for the password alone."""

    permission_classes = [AllowAny]
    role_actions = {"post": "public"}
    authentication_classes: list = []
    throttle_classes = [throttles.MfaLoginRateThrottle]
    error_statuses = (401, 404, 423)  # MFA_CODE_INVALID, MFA_CHALLENGE_INVALID; NOT_FOUND; ACCOUNT_LOCKED

    class InputSerializer(StrictSerializer):
        challenge = serializers.CharField(max_length=2048, help_text="`details.challenge` of MFA_REQUIRED.")
        code = serializers.CharField(max_length=64, help_text="The authenticator's code, or a recovery code.")
        organization_id = organization_id_field()  # default: the one the login's first step named

    @extend_schema(request=InputSerializer, responses={200: TokenPairSerializer},
                   description="The second step of a login that answered 401 MFA_REQUIRED. The challenge is "
                               "valid for MFA_CHALLENGE_SECONDS and works once; a wrong code counts as a failed "
                               "login (lockout) and the challenge stays usable until it expires.")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, tokens = services.user_login_mfa(**data.validated_data, client=client_info(request))
        return Response(tokens.as_dict())


class MfaStatusApi(APIView):
    permission_classes = [IsAuthenticated]
    role_actions = {"get": "self"}

    class OutputSerializer(serializers.Serializer):
        enabled = serializers.BooleanField()
        recovery_codes_left = serializers.IntegerField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response({"enabled": mfa.mfa_enabled(request.user),
                         "recovery_codes_left": mfa.recovery_codes_left(request.user)})


class MfaTotpEnrolApi(APIView):
    permission_classes = [IsAuthenticated]
    role_actions = {"post": "self"}
    throttle_classes = [throttles.MfaManageRateThrottle]
    error_statuses = (409,)  # MFA_ALREADY_ENABLED

    class OutputSerializer(serializers.Serializer):
        provisioning_uri = serializers.CharField(help_text="otpauth://totp/... for a QR code; shown once.")
        secret = serializers.CharField(help_text="The same secret in base32, for manual entry; shown once.")

    @extend_schema(request=None, responses={201: OutputSerializer},
                   description="Starts an enrolment (a new secret each call; the login is unchanged until "
                               "confirmed). Confirm with a first code at `mfa/totp/confirm`.")
    def post(self, request: AuthenticatedRequest) -> Response:
        body_empty_check(request)
        enrolment = mfa.totp_enrol_start(user=request.user)
        return Response({"provisioning_uri": enrolment.provisioning_uri, "secret": enrolment.secret},
                        status=status.HTTP_201_CREATED)


class MfaTotpConfirmApi(APIView):
    permission_classes = [IsAuthenticated]
    role_actions = {"post": "self"}
    throttle_classes = [throttles.MfaManageRateThrottle]
    error_statuses = (409,)  # MFA_ALREADY_ENABLED, MFA_NOT_ENABLED (no enrolment started)

    class InputSerializer(StrictSerializer):
        code = serializers.CharField(max_length=64)

    class OutputSerializer(serializers.Serializer):
        enabled = serializers.BooleanField()
        recovery_codes = serializers.ListField(child=serializers.CharField(),
                                               help_text="Each logs in once instead of a code; shown once.")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer},
                   description="Turns TOTP on with the first code of the authenticator: from now on the login "
                               "answers MFA_REQUIRED. A wrong code is 401 MFA_CODE_INVALID.")
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, codes = mfa.totp_enrol_confirm(user=request.user, code=data.validated_data["code"])
        return Response({"enabled": True, "recovery_codes": codes})


class MfaDisableApi(APIView):
    permission_classes = [IsAuthenticated]
    role_actions = {"post": "self"}
    throttle_classes = [throttles.MfaManageRateThrottle]
    error_statuses = (409, 423)  # MFA_NOT_ENABLED, MFA_REQUIRED_FOR_STAFF; ACCOUNT_LOCKED

    class InputSerializer(StrictSerializer):
        password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)
        code = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={204: None},
                   description="Needs the password and a current code (or a recovery code); a wrong one is "
                               "401 (INVALID_CREDENTIALS or MFA_CODE_INVALID) and counts on the login lockout.")
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.mfa_disable(user=request.user, **data.validated_data, client=client_info(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
