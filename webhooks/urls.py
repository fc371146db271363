from django.urls import path

from . import apis

urlpatterns = [
    path("subscriptions", apis.SubscriptionListCreateApi.as_view(), name="webhook-subscriptions"),
    path("subscriptions/<uuid:subscription_id>", apis.SubscriptionDetailApi.as_view(), name="webhook-subscription"),
    path("subscriptions/<uuid:subscription_id>/rotate-secret", apis.SubscriptionRotateSecretApi.as_view(),
         name="webhook-subscription-rotate-secret"),
    path("subscriptions/<uuid:subscription_id>/test", apis.SubscriptionTestApi.as_view(),
         name="webhook-subscription-test"),
    path("deliveries", apis.DeliveryListApi.as_view(), name="webhook-deliveries"),
    path("deliveries/<uuid:delivery_id>", apis.DeliveryDetailApi.as_view(), name="webhook-delivery"),
    path("deliveries/<uuid:delivery_id>/redeliver", apis.DeliveryRedeliverApi.as_view(),
         name="webhook-delivery-redeliver"),
]
