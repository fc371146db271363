"""E-mail notifications (issue 21 item 4; docs/notifications.md): the outbox of e-mails and each
user's preferences. Imported by accounts/models.py.

An `EmailNotification` is written in the transaction of the event it tells about (a deployment's
transition, an invitation, a login ...) and sent after the commit by a Celery task, with retries
and a beat sweep, as webhook deliveries are. It stores the template's context, never a secret: the
one e-mail carrying one (the invitation's accept link) keeps it sealed with the key vault (`secret`)
until it is sent, then the sealed copy is deleted. `dedupe_key` is unique: one event, one e-mail.
"""
from __future__ import annotations

from django.db import models

from biatec.core.models import BaseModel


class NotificationKind(models.TextChoices):
    DEPLOYMENT_COMPLETED = "deployment_completed"
    DEPLOYMENT_FAILED = "deployment_failed"
    APPROVAL_REQUESTED = "approval_requested"
    INVITATION = "invitation"
    QUOTA_WARNING = "quota_warning"  # 80 % of a quota used
    QUOTA_REACHED = "quota_reached"  # 100 %
    SECURITY_NEW_LOGIN = "security_new_login"
    SECURITY_PASSWORD_CHANGED = "security_password_changed"  # pragma: allowlist secret - a kind name
    SECURITY_ACCOUNT_LOCKED = "security_account_locked"


# Sent whatever the preferences say: the security e-mails (the account's owner must learn of a login
# from a new address, a password change or a lockout even if they turned the rest off) and the
# invitation (addressed to someone who may have no account, on another member's request).
MANDATORY_KINDS = frozenset({
    NotificationKind.INVITATION, NotificationKind.SECURITY_NEW_LOGIN, NotificationKind.SECURITY_PASSWORD_CHANGED,
    NotificationKind.SECURITY_ACCOUNT_LOCKED,
})
OPTIONAL_KINDS = tuple(k for k in NotificationKind if k not in MANDATORY_KINDS)


class EmailStatus(models.TextChoices):
    PENDING = "pending"
    RETRYING = "retrying"  # an attempt failed; `next_attempt_at` says when the next one is due
    SENT = "sent"
    FAILED = "failed"  # refused for good (recipient refused) or out of attempts
    SKIPPED = "skipped"  # not sent: the user turned the kind off, or is no longer active


UNSENT_STATUSES = (EmailStatus.PENDING, EmailStatus.RETRYING)


class EmailNotification(BaseModel):
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="+", help_text="None for account-level e-mails (security).")
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="The recipient's account; None for an invitation to a new e-mail.")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    context = models.JSONField(default=dict, blank=True, help_text="The template's context (no secret).")
    secret = models.OneToOneField("accounts.EncryptedSecret", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", help_text="Sealed secret context (the invitation link), "
                                                              "deleted once the e-mail is sent or given up.")
    dedupe_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True, default="",
                                  help_text="The exception's type and SMTP code: never a body or credential.")
    sent_at = models.DateTimeField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="email_status_next_attempt"),
            models.Index(fields=["user", "kind", "-created_at"], name="email_user_kind"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=EmailStatus.values), name="email_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"


class NotificationPreference(models.Model):
    """Which optional kinds a user gets: `kinds` maps a kind of `OPTIONAL_KINDS` to on/off; a kind
    not named is on. No row: everything on."""

    user = models.OneToOneField("accounts.User", primary_key=True, on_delete=models.CASCADE,
                                related_name="notification_preference")
    kinds = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"

    def wants(self, kind: str) -> bool:
        return kind in MANDATORY_KINDS or bool(self.kinds.get(kind, True))
