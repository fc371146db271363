"""Celery tasks of webhooks: they take IDs and call services. Both are idempotent (a delivered
delivery is never sent again; claims keep two workers from sending one delivery at once), so late
acks are safe: a worker killed mid-task gets the message back, or the sweep finds the row."""
from __future__ import annotations

from celery import shared_task

from .services import webhook_delivery_attempt, webhook_secrets_expire, webhooks_sweep


@shared_task(acks_late=True, ignore_result=True)
def webhook_delivery_task(delivery_id: str) -> str | None:
    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None


@shared_task(acks_late=True, ignore_result=True)
def webhooks_sweep_task() -> int:
    webhook_secrets_expire()
    return len(webhooks_sweep())
