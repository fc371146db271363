"""Auth and account endpoints: thin views calling services and selectors."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from biatec.core.schema import results_of
from biatec.core.serializers import StrictSerializer

from . import key_rotation, roles, selectors, services, throttles
from .client import client_ip
from .organization_context import organization_claim
from .permissions import AuthenticatedRequest, RoleRequired


def client_info(request: Request) -> services.ClientInfo:
    """The caller's IP (see accounts.client: X-Forwarded-For only to the trusted proxy depth) and
    user agent, for the audit and the lockout."""
    return services.ClientInfo(
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:256],
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


def organization_id_field() -> serializers.UUIDField:
    return serializers.UUIDField(required=False, help_text=(
        "The organization the tokens act in (claim `org`; one you belong to, else 404 NOT_FOUND). Requests "
        "without the header X-Organization-Id then act in it; default: your primary organization."))


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    role_actions = {"post": roles.PUBLIC}
    authentication_classes: list = []
    throttle_classes = [throttles.RegisterRateThrottle]
    error_statuses = (409,)  # USER_ALREADY_EXISTS

    class InputSerializer(StrictSerializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        email = serializers.EmailField()
        algorand_address = serializers.CharField()
        tokens = TokenPairSerializer()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, tokens = services.user_register(**data.validated_data, client=client_info(request))
        body = {"id": str(user.pk), "email": user.email, "algorand_address": user.algorand_address,
                "tokens": tokens.as_dict()}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    permission_classes = [AllowAny]
    role_actions = {"post": roles.PUBLIC}
    authentication_classes: list = []
    throttle_classes = [throttles.LoginRateThrottle]
    error_statuses = (401, 404, 423)  # INVALID_CREDENTIALS; NOT_FOUND (organization_id); ACCOUNT_LOCKED

    class InputSerializer(StrictSerializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)
        organization_id = organization_id_field()

    @extend_schema(request=InputSerializer, responses={200: TokenPairSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, tokens = services.user_login(**data.validated_data, client=client_info(request))
        return Response(tokens.as_dict())


class RefreshApi(APIView):
    permission_classes = [AllowAny]
    role_actions = {"post": roles.PUBLIC}
    authentication_classes: list = []
    throttle_classes = [throttles.RefreshRateThrottle]
    error_statuses = (401, 404)  # an invalid, expired or reused refresh token; NOT_FOUND (organization_id)

    class InputSerializer(StrictSerializer):
        refresh = serializers.CharField()
        organization_id = serializers.UUIDField(required=False, help_text=(
            "Switch: the new tokens act in this organization (one you belong to, else 404 NOT_FOUND and the "
            "refresh token stays usable). Without it they keep the old tokens' organization claim."))

    @extend_schema(request=InputSerializer, responses={200: TokenPairSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.token_refresh(**data.validated_data).as_dict())


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.SELF}

    class InputSerializer(StrictSerializer):
        refresh = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_logout(user=request.user, refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileOrganizationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class EvmNetworkAddressSerializer(serializers.Serializer):
    network = serializers.CharField()
    chain_id = serializers.IntegerField()
    address = serializers.CharField(allow_null=True, help_text="Null only until the key is derived (seconds "
                                                               "after sign-up).")
    available = serializers.BooleanField(help_text="Whether this platform has a node for the network.")


class ProfileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    organization = ProfileOrganizationSerializer(allow_null=True)
    role = serializers.CharField(allow_null=True)
    algorand_address = serializers.CharField(allow_null=True)
    evm_addresses = serializers.DictField(child=serializers.CharField(), help_text="chain id -> address")
    evm_networks = EvmNetworkAddressSerializer(many=True, help_text="Every EVM network of the registry.")


class AccountAddressSerializer(serializers.Serializer):
    network = serializers.CharField()
    family = serializers.ChoiceField(choices=["evm", "algorand"])
    chain_id = serializers.IntegerField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    available = serializers.BooleanField(help_text="Whether this platform has a node for the network.")
    balance = serializers.CharField(allow_null=True, help_text="Base units, as a decimal string.")
    unit = serializers.ChoiceField(choices=["wei", "microalgo"])
    balance_error = serializers.CharField(allow_null=True)


class ProfileApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.SELF}

    @extend_schema(responses={200: ProfileOutputSerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(selectors.user_profile(user=request.user))


class ChangePasswordApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.SELF}
    throttle_classes = [throttles.PasswordChangeRateThrottle]
    error_statuses = (409, 423)  # KEY_ROTATION_IN_PROGRESS; wrong current passwords count towards the lockout

    class InputSerializer(StrictSerializer):
        current_password = serializers.CharField(max_length=256, trim_whitespace=False)
        new_password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={200: TokenPairSerializer}, description=(
        "Sets the new password and gives the account the ARC-76 addresses of the new password: what the old "
        "addresses hold and control is moved by the platform, then their keys are destroyed (GET "
        "/api/v1/account/key-rotation). 409 KEY_ROTATION_IN_PROGRESS while the previous change's move runs."))
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.user_change_password(user=request.user, **data.validated_data,
                                               client=client_info(request),
                                               organization_claim=organization_claim(request))
        return Response(tokens.as_dict())


class RetiredKeySerializer(serializers.Serializer):
    family = serializers.ChoiceField(choices=["algorand", "evm"])
    chain_id = serializers.IntegerField(allow_null=True)
    address = serializers.CharField()
    destroyed = serializers.BooleanField(help_text="Whether the old key's sealed secret is gone.")
    destroyed_at = serializers.DateTimeField(allow_null=True)


class KeyRotationMoveSerializer(serializers.Serializer):
    token_id = serializers.UUIDField()
    kind = serializers.CharField(help_text="transfer, set_roles, transfer_ownership, or issuer_switch (no chain job).")
    status = serializers.CharField(help_text="planned, queued (then the operation's status), completed, skipped, "
                                             "left.")
    operation_id = serializers.UUIDField(allow_null=True, required=False)


class KeyRotationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["planning", "moving", "completed"])
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    old_algorand_address = serializers.CharField(allow_null=True)
    new_algorand_address = serializers.CharField(allow_null=True)
    retired_keys = RetiredKeySerializer(many=True)
    moves = KeyRotationMoveSerializer(many=True)
    left_behind = serializers.ListField(child=serializers.DictField(), help_text=(
        "What the old accounts still hold that no move took: native coin (not moved), or a token the move "
        "could not reach (`blocking`: that old key is kept)."))


class KeyRotationStatusSerializer(serializers.Serializer):
    rotation = KeyRotationSerializer(allow_null=True, help_text="The latest password change's rotation; null if none.")


class KeyRotationApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.SELF}

    @extend_schema(responses={200: KeyRotationStatusSerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response({"rotation": key_rotation.key_rotation_status(user=request.user)})


class AddressesApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.SELF}

    @extend_schema(responses={200: results_of("AccountAddressList", AccountAddressSerializer(many=True))})
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response({"results": selectors.account_addresses(user=request.user)})


class OrganizationDetailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        name = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        organization = selectors.organization_get(user=request.user, organization_id=organization_id)
        return Response(self.OutputSerializer(organization).data)
