"""Organization API keys (docs/api-keys.md): `/api/v1/organizations/{id}/api-keys` lists and creates
(the key's text is in the 201 answer, once), `/api/v1/organizations/{id}/api-keys/{key_id}` reads and
revokes (DELETE; the key stays listed as `revoked`). All need `manage_api_keys` (owner, admin) and a
person: a request made with a key answers 403 API_KEY_ROUTE_NOT_ALLOWED."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from biatec.core.schema import results_of
from biatec.core.serializers import StrictSerializer

from . import api_key_selectors as selectors
from . import api_key_services as services
from . import roles
from .api_key_services import MAX_ALLOWED_NETWORKS
from .apis_organizations import OrganizationApi
from .permissions import AuthenticatedRequest

API_KEY_STATUSES = ("active", "expired", "revoked")


class ApiKeySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The key's id: the actor `api_key:<id>` of what it does.")
    organization_id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters (before the dot), to recognise it.")
    role = serializers.ChoiceField(choices=roles.ROLES)
    status = serializers.ChoiceField(choices=API_KEY_STATUSES)
    allowed_ips = serializers.ListField(child=serializers.CharField(), help_text="CIDR networks; empty: any.")
    expires_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="Updated at most once a minute.")
    last_used_ip = serializers.IPAddressField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_by = serializers.UUIDField(allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="Shown once: send it as `Authorization: Api-Key <key>` (or `X-Api-Key`). "
                                          "Only its hash is stored; it cannot be shown again.")


class ApiKeyListCreateApi(OrganizationApi):
    role_actions = {"get": roles.MANAGE_API_KEYS, "post": roles.MANAGE_API_KEYS}

    class InputSerializer(StrictSerializer):
        name = serializers.CharField(max_length=100)
        role = serializers.ChoiceField(choices=roles.ROLES)
        expires_at = serializers.DateTimeField(required=False, allow_null=True,
                                               help_text="Optional; in the future. None: no expiry.")
        allowed_ips = serializers.ListField(child=serializers.CharField(max_length=64), required=False,
                                            max_length=MAX_ALLOWED_NETWORKS,
                                            help_text="Optional CIDR networks (or addresses) the key may be used "
                                                      "from; empty or absent: any address.")

    @extend_schema(tags=["organizations"], operation_id="organizations_api_keys_list",
                   responses={200: results_of("ApiKeyList", ApiKeySerializer(many=True))})
    def get(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        caller = self.caller(request, organization_id)
        rows = [selectors.api_key_row(k) for k in selectors.api_key_list(organization_id=caller.organization_id)]
        return Response({"results": rows})

    @extend_schema(tags=["organizations"], operation_id="organizations_api_keys_create", request=InputSerializer,
                   responses={201: ApiKeyCreatedSerializer},
                   description="Create a key acting in this organization with `role` (not above yours: 403 "
                               "ROLE_NOT_GRANTABLE). The answer holds the key's text, once.")
    def post(self, request: AuthenticatedRequest, organization_id: str) -> Response:
        caller = self.caller(request, organization_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, text = services.api_key_create(actor=caller, **data.validated_data)
        return Response({**selectors.api_key_row(key), "key": text}, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(OrganizationApi):
    role_actions = {"get": roles.MANAGE_API_KEYS, "delete": roles.MANAGE_API_KEYS}

    @extend_schema(tags=["organizations"], responses={200: ApiKeySerializer})
    def get(self, request: AuthenticatedRequest, organization_id: str, key_id: str) -> Response:
        caller = self.caller(request, organization_id)
        return Response(selectors.api_key_row(selectors.api_key_get(organization_id=caller.organization_id,
                                                                    key_id=key_id)))

    @extend_schema(tags=["organizations"], request=None, responses={204: None},
                   description="Revoke the key: its next request answers 401 API_KEY_REVOKED. Not a key whose "
                               "role is above yours (403 ROLE_NOT_GRANTABLE); a revoked key: 204 again.")
    def delete(self, request: AuthenticatedRequest, organization_id: str, key_id: str) -> Response:
        caller = self.caller(request, organization_id)
        key = selectors.api_key_get(organization_id=caller.organization_id, key_id=key_id)
        services.api_key_revoke(actor=caller, key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)
