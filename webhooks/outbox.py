"""Transactional outbox of deployment events (filled in by the webhooks issue)."""
from __future__ import annotations

from typing import Any


def outbox_record_deployment_event(*, deployment: Any, event: Any) -> None:
    """Called by `deployment_transition` inside its transaction. Without subscriptions there is
    nothing to deliver; the webhooks app records events and deliveries here."""
    return None
