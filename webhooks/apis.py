"""Webhook endpoints: thin views over services and selectors. Reads are open to every member of
the organization; writes need the owner or admin role. Secrets appear only in the answers of
create and rotate-secret."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.organization_context import ORGANIZATION_PARAMETER, membership_active, organization_ids_active
from accounts.permissions import AuthenticatedRequest, RoleRequired
from accounts.throttles import WebhookManualSendRateThrottle
from biatec.core.api import cursor_page
from biatec.core.errors import PermissionDenied
from biatec.core.schema import cursor_parameters, paginated
from biatec.core.serializers import JsonObjectField, StrictSerializer, body_empty_check

from . import selectors, services
from .models import SUBSCRIBABLE_EVENT_TYPES, DeliveryStatus, WebhookDelivery, WebhookSubscription


class SubscriptionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    networks = serializers.ListField(child=serializers.CharField())
    standards = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    description = serializers.CharField()
    secret_version = serializers.IntegerField()
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SubscriptionWithSecretOutputSerializer(SubscriptionOutputSerializer):
    secret = serializers.CharField(help_text="Shown once: store it now. HMAC-SHA256 key of the signatures.")


def _with_secret(subscription: WebhookSubscription, secret: str) -> dict[str, Any]:
    return {**SubscriptionOutputSerializer(subscription).data, "secret": secret}


def _event_types_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENT_TYPES), allow_empty=False,
                                 **kwargs)


class SubscriptionListCreateApi(APIView):
    """`GET` the organization's subscriptions; `POST` a new one (201, with its secret, once)."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "post": roles.MANAGE_WEBHOOKS}
    error_statuses = (402, 404)  # 402: the plan's subscriptions; 404: X-Organization-Id not one of yours

    class FilterSerializer(serializers.Serializer):
        is_active = serializers.BooleanField(required=False, allow_null=True, default=None)

    class InputSerializer(StrictSerializer):
        url = serializers.URLField(max_length=2048)
        event_types = _event_types_field()
        networks = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
        standards = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
        is_active = serializers.BooleanField(required=False, default=True)
        description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(parameters=[FilterSerializer, *cursor_parameters(), ORGANIZATION_PARAMETER],
                   responses={200: paginated("SubscriptionPage", SubscriptionOutputSerializer(many=True))},
                   operation_id="v1_webhooks_subscriptions_list")
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.subscription_list(user=request.user, filters=filters.validated_data,
                                         organization_ids=organization_ids_active(user=request.user, request=request))
        return cursor_page(qs, request=request, view=self,
                           rows=lambda page: SubscriptionOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, parameters=[ORGANIZATION_PARAMETER],
                   responses={201: SubscriptionWithSecretOutputSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_active(user=request.user, request=request)
        if membership is None:
            raise PermissionDenied("You do not belong to an organization.")
        self.check_object_permissions(request, membership)
        subscription, secret = services.webhook_subscription_create(
            organization=membership.organization, actor=request.user, **data.validated_data,
        )
        return Response(_with_secret(subscription, secret), status=status.HTTP_201_CREATED)


class SubscriptionDetailApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ, "patch": roles.MANAGE_WEBHOOKS, "delete": roles.MANAGE_WEBHOOKS}

    class UpdateInputSerializer(StrictSerializer):
        url = serializers.URLField(max_length=2048, required=False)
        event_types = _event_types_field(required=False)
        networks = serializers.ListField(child=serializers.CharField(max_length=32), required=False)
        standards = serializers.ListField(child=serializers.CharField(max_length=32), required=False)
        is_active = serializers.BooleanField(required=False)
        description = serializers.CharField(max_length=500, required=False, allow_blank=True)

    @extend_schema(responses={200: SubscriptionOutputSerializer})
    def get(self, request: AuthenticatedRequest, subscription_id: str) -> Response:
        subscription = selectors.subscription_get(user=request.user, subscription_id=subscription_id)
        return Response(SubscriptionOutputSerializer(subscription).data)

    @extend_schema(request=UpdateInputSerializer, responses={200: SubscriptionOutputSerializer})
    def patch(self, request: AuthenticatedRequest, subscription_id: str) -> Response:
        data = self.UpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = selectors.subscription_get(user=request.user, subscription_id=subscription_id)
        self.check_object_permissions(request, subscription)
        updated = services.webhook_subscription_update(subscription=subscription, actor=request.user,
                                                       **data.validated_data)
        return Response(SubscriptionOutputSerializer(updated).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, subscription_id: str) -> Response:
        subscription = selectors.subscription_get(user=request.user, subscription_id=subscription_id)
        self.check_object_permissions(request, subscription)
        services.webhook_subscription_delete(subscription=subscription, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionRotateSecretApi(APIView):
    """A new secret (shown once); the previous one keeps signing during the grace period."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.MANAGE_WEBHOOKS}

    @extend_schema(request=None, responses={200: SubscriptionWithSecretOutputSerializer})
    def post(self, request: AuthenticatedRequest, subscription_id: str) -> Response:
        subscription = selectors.subscription_get(user=request.user, subscription_id=subscription_id)
        self.check_object_permissions(request, subscription)
        body_empty_check(request)  # after the lookup: 404 / 403 first, as for every other body
        rotated, secret = services.webhook_subscription_rotate_secret(subscription=subscription, actor=request.user)
        return Response(_with_secret(rotated, secret))


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    subscription_id = serializers.UUIDField()
    deployment_id = serializers.UUIDField(allow_null=True)
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AttemptOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    response_body = serializers.CharField()
    error = serializers.CharField()
    outcome = serializers.CharField()


def _delivery_accepted(delivery: WebhookDelivery) -> Response:
    """202 with the queued delivery as it is now (inline (eager) mode may have sent it already)."""
    delivery.refresh_from_db()
    return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class SubscriptionTestApi(APIView):
    """Queue a `ping` event to this subscription (202 with the delivery)."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.MANAGE_WEBHOOKS}
    throttle_classes = [WebhookManualSendRateThrottle]

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request: AuthenticatedRequest, subscription_id: str) -> Response:
        subscription = selectors.subscription_get(user=request.user, subscription_id=subscription_id)
        self.check_object_permissions(request, subscription)
        body_empty_check(request)  # after the lookup: 404 / 403 first, as for every other body
        return _delivery_accepted(services.webhook_subscription_test(subscription=subscription, actor=request.user))


class DeliveryListApi(APIView):
    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}
    error_statuses = (404,)  # X-Organization-Id not a UUID

    class FilterSerializer(serializers.Serializer):
        subscription = serializers.UUIDField(required=False)
        event_type = serializers.CharField(required=False, max_length=64)
        status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
        deployment = serializers.UUIDField(required=False)

    @extend_schema(parameters=[FilterSerializer, *cursor_parameters(), ORGANIZATION_PARAMETER],
                   responses={200: paginated("DeliveryPage", DeliveryOutputSerializer(many=True))},
                   operation_id="v1_webhooks_deliveries_list")
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.delivery_list(user=request.user, filters=filters.validated_data,
                                     organization_ids=organization_ids_active(user=request.user, request=request))
        return cursor_page(qs, request=request, view=self,
                           rows=lambda page: DeliveryOutputSerializer(page, many=True).data)


class DeliveryDetailApi(APIView):
    """One delivery with its event payload and every attempt."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"get": roles.READ}

    class OutputSerializer(DeliveryOutputSerializer):
        payload = JsonObjectField(source="event.payload", help_text="The event body exactly as delivered.")
        attempt_history = AttemptOutputSerializer(many=True, source="attempt_list")

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: AuthenticatedRequest, delivery_id: str) -> Response:
        delivery = selectors.delivery_get(user=request.user, delivery_id=delivery_id)
        delivery.attempt_list = list(selectors.delivery_attempts(delivery=delivery))  # type: ignore[attr-defined]
        return Response(self.OutputSerializer(delivery).data)


class DeliveryRedeliverApi(APIView):
    """Send the event again (same event id), with a fresh attempt budget (202)."""

    permission_classes = [IsAuthenticated, RoleRequired]
    role_actions = {"post": roles.MANAGE_WEBHOOKS}
    throttle_classes = [WebhookManualSendRateThrottle]

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request: AuthenticatedRequest, delivery_id: str) -> Response:
        delivery = selectors.delivery_get(user=request.user, delivery_id=delivery_id)
        self.check_object_permissions(request, delivery.subscription)
        body_empty_check(request)  # after the lookup: 404 / 403 first, as for every other body
        return _delivery_accepted(services.webhook_delivery_redeliver(delivery=delivery, actor=request.user))
