"""Writes of the e-mail notifications (docs/notifications.md, ADR 0111): queueing an e-mail in the
outbox, sending it (claim, one SMTP attempt, record), the retries and the beat sweep, the
preferences, and the hooks other features call.

Like webhook deliveries (webhooks/services.py): a row is written in the transaction of the event it
tells about (so nothing is mailed for a change that rolled back, and nothing is lost for one that
committed), a Celery task is queued on commit (never an SMTP call inside the request), a claim (row
lock + a lease of EMAIL_TIMEOUT + a margin) keeps two workers from sending one row at once, an SMTP
or network error (`smtplib.SMTPException`, `OSError`) schedules the next attempt after
EMAIL_NOTIFICATIONS_RETRY_DELAYS_SECONDS (with jitter), and the beat sweep dispatches whatever is
due whose dispatch was lost. Delivery is at least once; the Message-ID is the row's, so a duplicate
after a lapsed lease is recognisable.
"""
from __future__ import annotations

import json
import logging
import random
import smtplib
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from biatec.core.correlation import get_correlation_id
from biatec.core.errors import ValidationFailed

from . import keyvault, roles
from .models import EncryptedSecret, Membership, Organization, User
from .notifications_models import (
    MANDATORY_KINDS,
    OPTIONAL_KINDS,
    UNSENT_STATUSES,
    EmailNotification,
    EmailStatus,
    NotificationKind,
    NotificationPreference,
)
from .notifications_render import email_render, subject_render

logger = logging.getLogger(__name__)

SEND_TASK = "accounts.tasks.email_notification_send_task"
LEASE_MARGIN_SECONDS = 30.0
SECRET_PURPOSE = "email-notification"  # pragma: allowlist secret - a key vault purpose name
QUOTA_THRESHOLDS = (100, 80)  # percent, highest first


def timestamp(value: datetime | None = None) -> str:
    """How the e-mails show a time: UTC, to the second."""
    return (value or timezone.now()).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- preferences --------------------------------------------------------------------------------

def notification_wanted(*, user_id: Any, kind: str) -> bool:
    """Whether the user gets e-mails of `kind`: the mandatory kinds always, the others unless turned off."""
    if kind in MANDATORY_KINDS:
        return True
    preference = NotificationPreference.objects.filter(user_id=user_id).first()
    return preference is None or preference.wants(kind)


@transaction.atomic
def notification_preferences_update(*, user: User, kinds: Mapping[str, bool]) -> NotificationPreference:
    """Turn optional kinds on or off (the kinds not named keep their setting). A mandatory kind may be
    sent as on (no change) but never off; an unknown kind is a field error."""
    problems: dict[str, list[str]] = {}
    for kind, enabled in kinds.items():
        if kind not in NotificationKind.values:
            problems[kind] = [f"Unknown kind. Choose from {', '.join(NotificationKind.values)}."]
        elif kind in MANDATORY_KINDS and not enabled:
            problems[kind] = ["Security and invitation e-mails cannot be turned off."]
    if problems:
        raise ValidationFailed(details={"fields": {"preferences": problems}})
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.kinds = {**preference.kinds, **{k: bool(v) for k, v in kinds.items() if k in OPTIONAL_KINDS}}
    preference.save()
    logger.info("notification preferences updated", extra={"user_id": str(user.pk), "kinds": sorted(kinds)})
    return preference


# --- queueing -----------------------------------------------------------------------------------

def notification_dispatch(notification_id: Any, *, countdown: float | None = None) -> None:
    """Queue the send task. Never raises: a lost dispatch is found again by the sweep. Inline mode
    (tests) has no broker to hold a countdown: the sweep sends a retry when it is due."""
    if settings.CELERY_TASK_ALWAYS_EAGER and countdown:
        return
    try:
        current_app.tasks[SEND_TASK].apply_async(args=[str(notification_id)], countdown=countdown)
    except Exception as exc:  # broker down, or an eager task failing: the row waits for the sweep
        logger.warning("e-mail notification dispatch failed; the sweep will send it",
                       extra={"notification_id": str(notification_id), "error": type(exc).__name__})


def notification_dispatch_on_commit(notification_id: Any, *, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: notification_dispatch(notification_id, countdown=countdown))


@transaction.atomic(savepoint=False)  # in the caller's transaction: no savepoint statements on the hot paths
def notification_enqueue(
    *,
    kind: str,
    to_email: str,
    dedupe_key: str,
    context: Mapping[str, Any],
    user: User | None = None,
    organization_id: Any = None,
    secret_context: Mapping[str, str] | None = None,
) -> EmailNotification | None:
    """Write one e-mail into the outbox, in the caller's transaction, and send it after the commit.
    None, and nothing written, when the user turned `kind` off or is inactive, or when an e-mail with
    `dedupe_key` exists already (one event, one e-mail). `secret_context` (the invitation's link) is
    sealed with the key vault, never stored in the clear, and deleted once the e-mail is sent."""
    if user is not None and (not user.is_active or not notification_wanted(user_id=user.pk, kind=kind)):
        return None
    context = json.loads(json.dumps(dict(context), default=str))  # JSON-able, as the column stores it
    notification = EmailNotification(
        id=uuid.uuid4(), kind=kind, to_email=to_email, user=user, organization_id=organization_id,
        subject=subject_render(kind, context), context=context, dedupe_key=dedupe_key[:255],
        next_attempt_at=timezone.now(), correlation_id=(get_correlation_id() or "")[:64])
    EmailNotification.objects.bulk_create([notification], ignore_conflicts=True)
    if not EmailNotification.objects.filter(pk=notification.pk).exists():
        return None  # the same event was queued before
    if secret_context:
        sealed = keyvault.seal(json.dumps(dict(secret_context)).encode(), owner_id=str(notification.pk),
                               purpose=SECRET_PURPOSE)
        sealed.save()
        notification.secret = sealed
        notification.save(update_fields=["secret", "updated_at"])
    notification_dispatch_on_commit(notification.pk)
    logger.info("e-mail notification queued", extra={"notification_id": str(notification.pk), "kind": kind,
                                                     "user_id": str(user.pk) if user else None})
    return notification


def _enqueue_each(users: Iterable[User], *, kind: str, dedupe_key: str, context: Mapping[str, Any],
                  organization_id: Any) -> list[EmailNotification]:
    queued = [notification_enqueue(kind=kind, to_email=u.email, user=u, organization_id=organization_id,
                                   context=context, dedupe_key=f"{dedupe_key}:{u.pk}") for u in users]
    return [n for n in queued if n is not None]


def _members_holding(organization_id: Any, role_names: Iterable[str]) -> list[User]:
    return [m.user for m in Membership.objects.select_related("user").filter(
        organization_id=organization_id, role__in=list(role_names), user__is_active=True).order_by("created_at")]


def _organization_name(organization_id: Any) -> str:
    name: str | None = Organization.objects.filter(pk=organization_id).values_list("name", flat=True).first()
    return name or ""


# --- hooks of other features --------------------------------------------------------------------

@transaction.atomic
def notify_invitation(*, invitation: Any, token: str, inviter: User | None) -> EmailNotification | None:
    """The invitation e-mail with its accept link (INVITATION_ACCEPT_URL with the token). Called by
    `members_services.invitation_create` in its transaction; the token is sealed, never logged."""
    accept_url = settings.INVITATION_ACCEPT_URL.replace("{token}", token)
    existing = User.objects.filter(email__iexact=invitation.email, is_active=True).first()
    return notification_enqueue(
        kind=NotificationKind.INVITATION, to_email=invitation.email, user=existing,
        organization_id=invitation.organization_id, dedupe_key=f"invitation:{invitation.pk}",
        context={"organization_name": _organization_name(invitation.organization_id), "role": invitation.role,
                 "inviter_email": inviter.email if inviter else "", "expires_at": timestamp(invitation.expires_at),
                 "invitation_id": str(invitation.pk)},
        secret_context={"accept_url": accept_url, "token": token})


@transaction.atomic
def notify_approval_requested(*, approval_id: Any, organization_id: Any, requested_by_id: Any, operation_kind: str,
                              token_id: Any, gated_by: str = "", expires_at: str = "") -> list[EmailNotification]:
    """"Operation awaiting approval": one e-mail to each active member whose role may approve
    (`roles.APPROVE`), never to the requester. Call it in the transaction that creates the approval
    request (accounts/notifications_subscribers.py does, for the approvals' `ApprovalChanged`)."""
    requester = User.objects.filter(pk=requested_by_id).values_list("email", flat=True).first() if \
        requested_by_id else None
    approvers = [u for u in _members_holding(organization_id, roles.GRANTS[roles.APPROVE])
                 if str(u.pk) != str(requested_by_id)]
    return _enqueue_each(approvers, kind=NotificationKind.APPROVAL_REQUESTED, organization_id=organization_id,
                         dedupe_key=f"approval_requested:{approval_id}",
                         context={"approval_id": str(approval_id), "organization_name": _organization_name(
                             organization_id), "operation_kind": operation_kind,
                             "token_id": str(token_id) if token_id else "",  # none: an organization change
                             "requested_by_email": requester or "", "gated_by": gated_by,
                             "expires_at": expires_at})


def quota_threshold_of(used: int, limit: int) -> int | None:
    """The highest threshold of QUOTA_THRESHOLDS (percent) that `used` of `limit` reaches, or None."""
    if limit <= 0:
        return None
    return next((t for t in QUOTA_THRESHOLDS if used * 100 >= t * limit), None)


@transaction.atomic
def notify_quota_threshold(*, organization_id: Any, kind: str, used: int, limit: int,
                           period: str | None = None) -> list[EmailNotification]:
    """Quota at 80 % (`quota_warning`) or 100 % (`quota_reached`): one e-mail to each owner and admin,
    once per (organization, quota, threshold, period) whatever the number of calls. `kind` names the
    quota (e.g. "deployments_per_month"); `period` the quota's window (default the UTC month, e.g.
    "2026-12"; a quota that never resets passes "" ). Call it after each usage is counted, in its
    transaction; below 80 % it does nothing."""
    threshold = quota_threshold_of(used, limit)
    if threshold is None:
        return []
    period = timezone.now().strftime("%Y-%m") if period is None else period
    notification_kind = NotificationKind.QUOTA_REACHED if threshold >= 100 else NotificationKind.QUOTA_WARNING
    recipients = _members_holding(organization_id, (roles.OWNER, roles.ADMIN))
    return _enqueue_each(recipients, kind=notification_kind, organization_id=organization_id,
                         dedupe_key=f"quota:{organization_id}:{kind}:{threshold}:{period}",
                         context={"organization_name": _organization_name(organization_id), "quota": kind,
                                  "used": used, "limit": limit, "percent": min(100, used * 100 // limit),
                                  "period": period})


# --- sending ------------------------------------------------------------------------------------

def _secret_drop(notification: EmailNotification) -> None:
    secret_id = notification.secret_id
    if secret_id is not None:
        notification.secret = None
        notification.save(update_fields=["secret", "updated_at"])
        EncryptedSecret.objects.filter(pk=secret_id).delete()


def _lease_seconds() -> float:
    return float(settings.EMAIL_TIMEOUT or 10) + LEASE_MARGIN_SECONDS


@transaction.atomic
def _claim(*, notification_id: Any) -> EmailNotification | None:
    notification = (EmailNotification.objects.select_for_update(skip_locked=True)
                    .filter(pk=notification_id).first())
    now = timezone.now()
    if (
        notification is None  # gone, or another worker holds it right now
        or notification.status not in UNSENT_STATUSES
        or (notification.next_attempt_at is not None and notification.next_attempt_at > now)
        or (notification.locked_until is not None and notification.locked_until > now)
    ):
        return None
    if notification.user_id is not None:
        active = User.objects.filter(pk=notification.user_id, is_active=True).exists()
        if not active or not notification_wanted(user_id=notification.user_id, kind=notification.kind):
            notification.status, notification.next_attempt_at = EmailStatus.SKIPPED, None
            notification.save(update_fields=["status", "next_attempt_at", "updated_at"])
            _secret_drop(notification)
            return None
    notification.locked_until = now + timedelta(seconds=_lease_seconds())
    notification.claim_token = uuid.uuid4()
    notification.save(update_fields=["locked_until", "claim_token", "updated_at"])
    return notification


def _message_id(notification: EmailNotification) -> str:
    domain = str(settings.DEFAULT_FROM_EMAIL).rpartition("@")[2].strip(" >") or "localhost"
    return f"<notification-{notification.pk}@{domain}>"


def _send(notification: EmailNotification) -> None:
    """Render and send once through Django's mail framework (EMAIL_BACKEND); raises what SMTP raises."""
    secret_context: dict[str, str] = {}
    if notification.secret_id is not None:
        secret_context = json.loads(keyvault.open_sealed(EncryptedSecret.objects.get(pk=notification.secret_id)))
    rendered = email_render(notification.kind, notification.context, secret_context)
    message = EmailMultiAlternatives(
        subject=notification.subject, body=rendered.text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
        headers={"Message-ID": _message_id(notification), "Auto-Submitted": "auto-generated",
                 "X-Biatec-Notification": notification.kind})
    message.attach_alternative(rendered.html, "text/html")
    message.send()


def _failure(exc: BaseException) -> tuple[str, bool]:
    """(last_error, permanent): the exception's type and SMTP code(s), never its text (a server may
    echo addresses or credentials). Permanent only when the server refused every recipient with 5xx."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({int(code) for code, _ in exc.recipients.values()})
        return f"{name}: {','.join(map(str, codes))}", bool(codes) and all(c >= 500 for c in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name}: {exc.smtp_code}", False
    if isinstance(exc, OSError) and exc.errno:
        return f"{name}: errno {exc.errno}", False
    return name, False


def retry_delay(attempts: int) -> float | None:
    """Seconds before the next attempt after `attempts` failed ones, or None when none is left."""
    delays = list(settings.EMAIL_NOTIFICATIONS_RETRY_DELAYS_SECONDS)
    if attempts > len(delays):
        return None
    jitter = float(settings.EMAIL_NOTIFICATIONS_RETRY_JITTER)
    return max(0.0, float(delays[attempts - 1]) * (1 + random.uniform(-jitter, jitter)))  # noqa: S311


@transaction.atomic
def _record(*, notification_id: Any, claim_token: Any, started_at: datetime, error: str | None,
            permanent: bool) -> EmailNotification | None:
    notification = EmailNotification.objects.select_for_update().filter(pk=notification_id).first()
    if notification is None:
        return None
    now = timezone.now()
    countdown: float | None = None
    notification.attempts += 1
    notification.last_attempt_at = started_at
    if notification.status == EmailStatus.SENT:
        pass  # a duplicate after a lapsed lease: it stays sent
    elif error is None:
        notification.status, notification.sent_at, notification.next_attempt_at = EmailStatus.SENT, now, None
        notification.last_error = ""
    else:
        notification.last_error = error[:255]
        countdown = None if permanent else retry_delay(notification.attempts)
        if countdown is None:
            notification.status, notification.next_attempt_at = EmailStatus.FAILED, None
        else:
            notification.status = EmailStatus.RETRYING
            notification.next_attempt_at = now + timedelta(seconds=countdown)
    if notification.claim_token == claim_token:
        notification.locked_until, notification.claim_token = None, None
    notification.save(update_fields=["attempts", "last_attempt_at", "status", "sent_at", "next_attempt_at",
                                     "last_error", "locked_until", "claim_token", "updated_at"])
    if notification.status in (EmailStatus.SENT, EmailStatus.FAILED):
        _secret_drop(notification)
    elif countdown is not None:
        notification_dispatch_on_commit(notification.pk, countdown=countdown)
    logger.info("e-mail notification attempt", extra={
        "notification_id": str(notification.pk), "kind": notification.kind, "status": notification.status,
        "attempt": notification.attempts, "error": error})
    return notification


def email_notification_send(*, notification_id: Any) -> EmailNotification | None:
    """Claim, send once, record. None when there was nothing to do (sent, not due, claimed by another
    worker, or skipped). Not atomic on purpose: the SMTP conversation happens between two short
    transactions, never inside one."""
    notification = _claim(notification_id=notification_id)
    if notification is None:
        return None
    started_at = timezone.now()
    error: str | None = None
    permanent = False
    try:
        _send(notification)
    except (smtplib.SMTPException, OSError) as exc:
        error, permanent = _failure(exc)
    except Exception as exc:  # rendering, the key vault: retried as well, and logged for the operators
        error, permanent = _failure(exc)
        logger.error("e-mail notification could not be built", extra={
            "notification_id": str(notification.pk), "error": error})
    return _record(notification_id=notification.pk, claim_token=notification.claim_token, started_at=started_at,
                   error=error, permanent=permanent)


def email_notifications_sweep(*, now: datetime | None = None) -> list[str]:
    """Dispatch every due, unclaimed, unsent e-mail (lost dispatches, lapsed claims, retries in
    inline mode). On the beat schedule (EMAIL_NOTIFICATIONS_SWEEP_INTERVAL_SECONDS)."""
    now = now or timezone.now()
    due = list(
        EmailNotification.objects.filter(status__in=UNSENT_STATUSES)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("next_attempt_at").values_list("id", flat=True)[: settings.EMAIL_NOTIFICATIONS_SWEEP_BATCH]
    )
    for notification_id in due:
        notification_dispatch(notification_id)
    if due:
        logger.info("e-mail notification sweep dispatched", extra={"count": len(due)})
    return [str(n) for n in due]
