"""The caller's e-mail notification preferences (docs/notifications.md):
GET and PUT /api/v1/account/notification-preferences. Thin views over the notification services."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from biatec.core.serializers import StrictSerializer

from . import roles
from .notifications_models import MANDATORY_KINDS, NotificationKind
from .notifications_selectors import notification_preferences
from .notifications_services import notification_preferences_update
from .permissions import AuthenticatedRequest, RoleRequired


def _kind_help(kind: str) -> str:
    return "Always on: cannot be turned off." if kind in MANDATORY_KINDS else "Whether you get these e-mails."


# One boolean field per kind, so that the schema names each kind and an unknown one is 400.
NotificationPreferencesSerializer: type[serializers.Serializer] = type(
    "NotificationPreferencesSerializer", (serializers.Serializer,),
    {kind: serializers.BooleanField(help_text=_kind_help(kind)) for kind in NotificationKind.values})
NotificationPreferencesInputSerializer: type[serializers.Serializer] = type(
    "NotificationPreferencesInputSerializer", (StrictSerializer,),
    {kind: serializers.BooleanField(required=False, help_text=_kind_help(kind))
     for kind in NotificationKind.values})


class NotificationPreferencesApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.SELF, "put": roles.SELF}

    class InputSerializer(StrictSerializer):
        preferences = NotificationPreferencesInputSerializer(
            help_text="The kinds to change; the others keep their setting.")

    class OutputSerializer(serializers.Serializer):
        preferences = NotificationPreferencesSerializer(help_text="Kind -> whether you get its e-mails.")
        mandatory = serializers.ListField(child=serializers.ChoiceField(choices=NotificationKind.values),
                                          help_text="The kinds that cannot be turned off (security, invitation).")

    @extend_schema(responses={200: OutputSerializer},
                   operation_id="account_notification_preferences_retrieve")
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(notification_preferences(user=request.user))

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer},
                   operation_id="account_notification_preferences_update",
                   description="Turn e-mail kinds on or off. Turning a mandatory kind (security, invitation) off "
                               "is 400 VALIDATION_ERROR.")
    def put(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notification_preferences_update(user=request.user, kinds=data.validated_data["preferences"])
        return Response(notification_preferences(user=request.user))
