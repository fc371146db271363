"""The e-mails the accounts app sends of domain events (registered by `AccountsConfig.ready`). They
run inside the publisher's transaction: the outbox row commits or rolls back with the event.

Security e-mails (mandatory): a successful sign-in from an IP address the user never signed up or
signed in from before (not the very first sign-in of an account without any such history), a
password change, and a lockout of the user's e-mail (at most one lockout e-mail per user per
EMAIL_LOCKOUT_NOTICE_HOURS, so that an attacker's guessing from many addresses cannot flood the
inbox; unknown e-mails get none). Approval requests of the approvals feature (`ApprovalChanged`
with change "requested", when that event exists) mail the approvers.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from biatec.core import events

from .models import SecurityEvent, User
from .notifications_models import EmailNotification, NotificationKind
from .notifications_services import notification_enqueue, notify_approval_requested, timestamp

SEEN_EVENT_TYPES = (SecurityEvent.Type.SIGNUP, SecurityEvent.Type.LOGIN_SUCCESS)


def _new_login(event: events.SecurityEventRecorded, user: User) -> None:
    if not event.ip_address:
        return
    earlier = (SecurityEvent.objects.filter(user_id=user.pk, event_type__in=SEEN_EVENT_TYPES,
                                            ip_address__isnull=False).exclude(pk=event.security_event_id))
    if not earlier.exists() or earlier.filter(ip_address=event.ip_address).exists():
        return  # the first sign-in on record, or an address seen before
    notification_enqueue(kind=NotificationKind.SECURITY_NEW_LOGIN, to_email=user.email, user=user,
                         dedupe_key=f"security_new_login:{user.pk}:{event.ip_address}",
                         context={"email": user.email, "ip_address": event.ip_address,
                                  "user_agent": event.user_agent, "at": timestamp()})


def _locked(event: events.SecurityEventRecorded, user: User) -> None:
    since = timezone.now() - timedelta(hours=float(settings.EMAIL_LOCKOUT_NOTICE_HOURS))
    if EmailNotification.objects.filter(user=user, kind=NotificationKind.SECURITY_ACCOUNT_LOCKED,
                                        created_at__gte=since).exists():
        return
    locked_until = str(event.details.get("locked_until", ""))
    notification_enqueue(kind=NotificationKind.SECURITY_ACCOUNT_LOCKED, to_email=user.email, user=user,
                         dedupe_key=f"security:{event.security_event_id}",
                         context={"email": user.email, "ip_address": event.ip_address or "",
                                  "threshold": settings.LOGIN_LOCKOUT_THRESHOLD,
                                  "locked_until": locked_until.replace("T", " ")[:19]})


def _password_changed(event: events.SecurityEventRecorded, user: User) -> None:
    notification_enqueue(kind=NotificationKind.SECURITY_PASSWORD_CHANGED, to_email=user.email, user=user,
                         dedupe_key=f"security:{event.security_event_id}",
                         context={"email": user.email, "ip_address": event.ip_address or "", "at": timestamp()})


HANDLERS: dict[str, Callable[[events.SecurityEventRecorded, User], None]] = {
    SecurityEvent.Type.LOGIN_SUCCESS: _new_login,
    SecurityEvent.Type.LOCKOUT: _locked,
    SecurityEvent.Type.PASSWORD_CHANGE: _password_changed,
}


def on_security_event_recorded(event: events.SecurityEventRecorded) -> None:
    handler = HANDLERS.get(event.event_type)
    if handler is None or event.user_id is None:
        return
    user = User.objects.filter(pk=event.user_id, is_active=True).first()
    if user is not None:
        handler(event, user)


def on_approval_changed(event: Any) -> None:
    """`ApprovalChanged` (the approvals feature, deployments/approval_services.py): a new request mails
    the members who may approve it. Reads only the event's data (accounts imports no deployments)."""
    if getattr(event, "change", "") != "requested":
        return
    data = dict(getattr(event, "data", {}) or {})
    notify_approval_requested(approval_id=event.approval_id, organization_id=event.organization_id,
                              requested_by_id=data.get("requested_by"), operation_kind=str(data.get("kind", "")),
                              token_id=event.token_id, gated_by=str(data.get("gated_by") or ""),
                              expires_at=str(data.get("expires_at") or "").replace("T", " ")[:19])


def connect() -> None:
    events.subscribe(events.SecurityEventRecorded, on_security_event_recorded)
    approval_changed = getattr(events, "ApprovalChanged", None)  # the approvals branch adds it
    if approval_changed is not None:
        events.subscribe(approval_changed, on_approval_changed)
