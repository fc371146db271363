"""Token endpoints: thin views calling services and selectors."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from biatec.core.schema import results_of

from . import selectors


class NetworkListApi(APIView):
    """Public: the registry holds no secrets once non-local node URLs are left out (see the selector),
    and clients need it before sign-in to show where tokens can be deployed."""

    permission_classes = [AllowAny]
    role_actions = {"get": "public"}  # accounts.roles.PUBLIC (tokens sits below accounts: no import)
    authentication_classes: list = []

    class OutputSerializer(serializers.Serializer):
        slug = serializers.CharField()
        family = serializers.CharField()
        name = serializers.CharField()
        chain_id = serializers.IntegerField(allow_null=True)
        genesis_id = serializers.CharField(allow_null=True)
        genesis_hash = serializers.CharField(allow_null=True)
        confirmations = serializers.IntegerField()
        is_local = serializers.BooleanField()
        available = serializers.BooleanField()
        node_url = serializers.CharField(allow_null=True, help_text="Only for local networks.")
        explorer_tx_url = serializers.CharField(allow_null=True)
        explorer_address_url = serializers.CharField(allow_null=True)

    @extend_schema(responses={200: results_of("NetworkList", OutputSerializer(many=True))})
    def get(self, request: Request) -> Response:
        networks = selectors.network_list()
        return Response({"results": self.OutputSerializer(networks, many=True).data})
