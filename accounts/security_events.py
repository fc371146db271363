"""Writing security events (append-only audit of authentication and key use). Each one is published
as `SecurityEventRecorded` in the transaction that writes it (the audit log subscribes)."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from biatec.core import events
from biatec.core.actors import api_key_actor, user_actor
from biatec.core.correlation import get_correlation_id

from .models import Membership, SecurityEvent, User
from .principals import key_grant_of


@transaction.atomic
def security_event_record(
    *,
    event_type: str,
    user: User | None = None,
    email: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    details: dict[str, Any] | None = None,
    organization_id: Any = None,
) -> SecurityEvent:
    """Write the event and publish it. Its audit entry goes to `organization_id` when given (the
    organization a key was used for), else to the user's primary organization. A user acting with an
    API key: the actor is the key (`api_key:<id>`, also in `details.api_key_id`), in its organization."""
    grant = key_grant_of(user)
    if grant is not None:
        details = {**(details or {}), "api_key_id": str(grant.key_id)}
        organization_id = organization_id or grant.organization_id
    event = SecurityEvent.objects.create(
        event_type=event_type,
        user=user,
        email=email or (user.email if user else ""),
        ip_address=ip_address,
        user_agent=(user_agent or "")[:256],
        correlation_id=get_correlation_id() or "",
        details=details or {},
    )
    if organization_id is None and event.user_id is not None:
        organization_id = (Membership.objects.filter(user_id=event.user_id).order_by("created_at")
                           .values_list("organization_id", flat=True).first())
    actor = api_key_actor(grant.key_id) if grant is not None else user_actor(event.user_id)
    events.publish(events.SecurityEventRecorded(
        correlation_id=event.correlation_id, security_event_id=str(event.pk), event_type=event.event_type,
        actor=actor, user_id=str(event.user_id) if event.user_id else None,
        organization_id=str(organization_id) if organization_id else None, email=event.email,
        ip_address=event.ip_address, user_agent=event.user_agent, details=event.details,
    ))
    return event
