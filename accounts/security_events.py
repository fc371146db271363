"""Writing security events (append-only audit of authentication and key use)."""
from __future__ import annotations

from typing import Any

from biatec.core.correlation import get_correlation_id

from .models import SecurityEvent, User


def security_event_record(
    *,
    event_type: str,
    user: User | None = None,
    email: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    details: dict[str, Any] | None = None,
) -> SecurityEvent:
    event = SecurityEvent.objects.create(
        event_type=event_type,
        user=user,
        email=email or (user.email if user else ""),
        ip_address=ip_address,
        user_agent=(user_agent or "")[:256],
        correlation_id=get_correlation_id() or "",
        details=details or {},
    )
    from compliance.audit import audit_security_event

    audit_security_event(event=event)
    return event
