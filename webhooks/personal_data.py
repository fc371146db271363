"""The webhooks app's personal data (accounts/personal_data.py), registered by `WebhooksConfig.ready`:
the subscriptions a user created and their history (never the signing secrets). They belong to the
organization and stay after an erasure, pointing at the pseudonymised user."""
from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.models import User
from accounts.personal_data import PersonalDataProvider, personal_data_provider_register, rows

from .models import WebhookSubscription

HistoricalWebhookSubscription = WebhookSubscription.history.model
SECRETS = ("secret", "previous_secret")


def _export(user: User) -> Any:
    return {"subscriptions": rows(WebhookSubscription.objects.filter(created_by=user), exclude=SECRETS),
            "history": rows(HistoricalWebhookSubscription.objects.filter(Q(created_by=user) | Q(history_user=user)),
                            exclude=SECRETS)}


def register() -> None:
    personal_data_provider_register(PersonalDataProvider(
        name="webhook_subscriptions",
        description="Webhook subscriptions you created or changed (URL, event types, filters; never the secret).",
        models=("webhooks.WebhookSubscription", "webhooks.HistoricalWebhookSubscription"),
        export=_export))
