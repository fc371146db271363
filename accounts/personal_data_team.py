"""Personal data of the team, key-rotation, plan and e-mail features (accounts/personal_data.py),
registered by `AccountsConfig.ready` beside `personal_data_accounts`: the API keys a user created or
revoked (revoked on erasure: nothing acts for an erased person), the user's key rotations (their
retired keys destroyed), plan changes the user made as staff, and the user's e-mail notifications and
preferences (deleted on erasure: they are copies of what was sent, not records we must keep)."""
from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from .models import ApiKey, EncryptedSecret, KeyRotation, Plan, PlanOverride, RetiredKey, UsageRecord, User
from .notifications_models import EmailNotification, NotificationPreference
from .personal_data import Erasure, PersonalDataProvider, personal_data_provider_register, rows

HistoricalApiKey = ApiKey.history.model
HistoricalPlan = Plan.history.model
HistoricalPlanOverride = PlanOverride.history.model
HistoricalUsageRecord = UsageRecord.history.model


def _export_api_keys(user: User) -> Any:
    mine = Q(created_by=user) | Q(revoked_by=user)
    return {"api_keys": rows(ApiKey.objects.filter(mine), exclude=("hashed_key",)),
            "history": rows(HistoricalApiKey.objects.filter(mine | Q(history_user=user)), exclude=("hashed_key",))}


def _erase_api_keys(erasure: Erasure) -> None:
    ApiKey.objects.filter(created_by=erasure.user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=erasure.user)


def _export_key_rotations(user: User) -> Any:
    return {"key_rotations": rows(KeyRotation.objects.filter(user=user)),
            "retired_keys": rows(RetiredKey.objects.filter(rotation__user=user), exclude=("secret",))}


def _erase_key_rotations(erasure: Erasure) -> None:
    retired = RetiredKey.objects.filter(rotation__user=erasure.user, secret__isnull=False)
    secrets = list(retired.values_list("secret_id", flat=True))
    retired.update(secret=None, destroyed_at=timezone.now())
    EncryptedSecret.objects.filter(pk__in=secrets).delete()


def _export_plan_changes(user: User) -> Any:
    return {"plan_changes": rows(HistoricalPlan.objects.filter(history_user=user)),
            "plan_override_changes": rows(HistoricalPlanOverride.objects.filter(history_user=user)),
            "usage_record_changes": rows(HistoricalUsageRecord.objects.filter(history_user=user))}


def _notifications(user: User, emails: tuple[str, ...]) -> Any:
    q = Q(user=user)
    for email in emails:
        q |= Q(to_email__iexact=email)
    return EmailNotification.objects.filter(q)


def _export_notifications(user: User) -> Any:
    return {"email_notifications": rows(_notifications(user, (user.email,)), exclude=("secret", "claim_token")),
            "preferences": rows(NotificationPreference.objects.filter(user=user))}


def _erase_notifications(erasure: Erasure) -> None:
    notifications = _notifications(erasure.user, erasure.emails)
    secrets = [pk for pk in notifications.values_list("secret_id", flat=True) if pk]
    notifications.delete()
    EncryptedSecret.objects.filter(pk__in=secrets).delete()
    NotificationPreference.objects.filter(user=erasure.user).delete()


def register() -> None:
    for provider in (
        PersonalDataProvider(
            name="api_keys",
            description="API keys you created or revoked (name, prefix, role, allowed networks, expiry, last "
                        "use; never the key) and their history.",
            models=("accounts.ApiKey", "accounts.HistoricalApiKey"),
            export=_export_api_keys, erase=_erase_api_keys),
        PersonalDataProvider(
            name="key_rotations",
            description="The moves of your chain accounts after password changes: old and new addresses, the "
                        "operations that moved your tokens, what was left behind.",
            models=("accounts.KeyRotation", "accounts.RetiredKey"),
            export=_export_key_rotations, erase=_erase_key_rotations),
        PersonalDataProvider(
            name="plan_changes",
            description="Changes you made to plans, organization overrides and usage records (staff only).",
            models=("accounts.HistoricalPlan", "accounts.HistoricalPlanOverride", "accounts.HistoricalUsageRecord"),
            export=_export_plan_changes),
        PersonalDataProvider(
            name="email_notifications",
            description="E-mails we sent or queued to you (kind, subject, status, dates) and your notification "
                        "preferences.",
            models=("accounts.EmailNotification", "accounts.NotificationPreference"),
            export=_export_notifications, erase=_erase_notifications),
    ):
        personal_data_provider_register(provider)
