"""Reads of the e-mail notifications: a user's preferences as the API shows them."""
from __future__ import annotations

from typing import Any

from .models import User
from .notifications_models import MANDATORY_KINDS, NotificationKind, NotificationPreference


def notification_preferences(*, user: User) -> dict[str, Any]:
    """Every kind, with whether the user gets it and whether it can be turned off."""
    preference = NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)
    return {"preferences": {kind: preference.wants(kind) for kind in NotificationKind.values},
            "mandatory": sorted(str(k) for k in MANDATORY_KINDS)}
