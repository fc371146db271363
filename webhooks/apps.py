from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from biatec.core import events

        from . import tasks  # noqa: F401  (registers the Celery tasks that services queue by name)
        from .outbox import (
            outbox_record_allowlist_event,
            outbox_record_approval_event,
            outbox_record_deployment_event,
            outbox_record_member_event,
            outbox_record_operation_event,
            outbox_record_transfer_denied,
        )

        events.subscribe(events.DeploymentTransitioned, outbox_record_deployment_event)
        events.subscribe(events.OperationTransitioned, outbox_record_operation_event)
        events.subscribe(events.AllowListChanged, outbox_record_allowlist_event)
        events.subscribe(events.TransferDenied, outbox_record_transfer_denied)
        events.subscribe(events.MembershipChanged, outbox_record_member_event)

        from .models import WebhookSubscription
        from .subscription_cache import on_subscription_saved_or_deleted

        for signal in (post_save, post_delete):
            signal.connect(on_subscription_saved_or_deleted, sender=WebhookSubscription,
                           dispatch_uid=f"webhook-subscription-cache-{signal is post_save}")
        events.subscribe(events.ApprovalChanged, outbox_record_approval_event)

        from . import personal_data as gdpr

        gdpr.register()  # the GDPR export and erasure (accounts/personal_data.py)
