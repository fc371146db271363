"""Webhook delivery figures of the staff dashboard (backoffice/dashboard.py): one aggregate query."""
from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count
from django.db.models.functions import TruncDate

from .models import DeliveryStatus, WebhookDelivery

# Settled deliveries: a success rate counts only what reached a final outcome.
SETTLED = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.DEAD)


def deliveries_per_day(*, since: datetime) -> dict[date, dict[str, int]]:
    """Deliveries created since `since`, counted per day and status (one GROUP BY over created_at)."""
    days: dict[date, dict[str, int]] = {}
    rows = (WebhookDelivery.objects.filter(created_at__gte=since).annotate(day=TruncDate("created_at"))
            .values("day", "status").annotate(count=Count("id")).order_by("day"))
    for row in rows:
        days.setdefault(row["day"], {})[row["status"]] = row["count"]
    return days


def success_rate(counts: dict[str, int]) -> float | None:
    """Delivered / settled (delivered, failed, dead) in percent; None when nothing settled."""
    settled = sum(counts.get(status, 0) for status in SETTLED)
    return None if settled == 0 else round(100.0 * counts.get(DeliveryStatus.DELIVERED, 0) / settled, 1)
