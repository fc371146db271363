"""GDPR (issue 21 item 3): every table that names a user is covered by a registered personal-data
provider (accounts/personal_data.py), so the export holds it and the erasure reaches it. A new model
with a foreign key to the user or an e-mail field fails here until its app registers it."""
from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from accounts.personal_data import covered_models, personal_data_providers


def _names_a_person(model: type[models.Model]) -> list[str]:
    user_model = get_user_model()
    reasons = []
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False):
            continue
        if isinstance(field, models.ForeignKey) and field.related_model is user_model:
            reasons.append(f"{field.name} -> user")
        elif isinstance(field, models.EmailField) or "email" in field.name.lower():
            reasons.append(f"{field.name} (e-mail)")
    return reasons


def test_every_model_naming_a_user_or_an_e_mail_is_exported():
    covered = covered_models()
    missing = [f"{m._meta.label}: {', '.join(why)}" for m in apps.get_models()
               if (why := _names_a_person(m)) and m._meta.label not in covered]
    assert not missing, "models naming a person that no personal-data provider covers:\n" + "\n".join(missing)


def test_the_walk_finds_the_known_tables():
    """The walk itself works: it sees the user, the e-mail tables and the other apps' tables."""
    found = {m._meta.label for m in apps.get_models() if _names_a_person(m)}
    assert {"accounts.User", "accounts.LoginThrottle", "accounts.Invitation", "deployments.Deployment",
            "webhooks.WebhookSubscription", "compliance.AllowListEntry", "accounts.AccountExport"} <= found


def test_every_provider_declares_real_models_and_a_description():
    labels = {m._meta.label for m in apps.get_models()}
    for provider in personal_data_providers():
        assert provider.description and provider.models
        assert set(provider.models) <= labels, provider.name
