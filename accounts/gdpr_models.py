"""The GDPR export job (docs/gdpr.md): imported by accounts.models."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from biatec.core.models import BaseModel


class AccountExport(BaseModel):
    """One export of a user's personal data: built by a Celery task (`accounts.tasks.account_export_build`)
    into a ZIP under the private `GDPR_EXPORT_DIR` (never served statically), downloadable once through a
    signed, expiring link (`accounts.gdpr_export`)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"
        DOWNLOADED = "downloaded"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file = models.CharField(max_length=255, blank=True, default="",
                            help_text="The ZIP's name inside GDPR_EXPORT_DIR (a random one).")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    size = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="acct_export_user_created")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
