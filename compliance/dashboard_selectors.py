"""Allow-list drift alerts of the staff dashboard (backoffice/dashboard.py)."""
from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from .models import AllowListDriftReport


def drift_alerts_latest(*, since: datetime, limit: int = 20) -> list[AllowListDriftReport]:
    """The latest drift reports since `since` that found a difference or could not read the chain
    (one query, with the token and organization joined)."""
    return list(AllowListDriftReport.objects.filter(created_at__gte=since)
                .filter(Q(difference_count__gt=0) | ~Q(error=""))
                .select_related("token", "organization").order_by("-created_at")[:limit])
