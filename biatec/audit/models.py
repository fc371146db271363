"""The audit log's one table (docs/decisions/0011-audit-log-ground-level-app.md).

The model moved here from the `compliance` app and kept its table, `compliance_auditentry`, with its
append-only trigger (compliance migration 0002) and every existing entry.
"""
from __future__ import annotations

from django.db import models

from biatec.core.models import AppendOnlyMixin


class AuditEntry(AppendOnlyMixin, models.Model):
    """One link of the tamper-evident audit log. `entry_hash` = SHA-256 of the canonical JSON of the
    entry's fields including `prev_hash`, the hash of the previous entry of the same `chain` (one per
    organization; see `biatec.audit.chain`). `sequence` numbers the entries of a chain from 1."""

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(max_length=40, default="global")
    sequence = models.BigIntegerField()
    occurred_at = models.DateTimeField(db_index=True)
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", db_index=False)
    actor = models.CharField(max_length=128)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "compliance_auditentry"
        ordering = ["id"]
        verbose_name_plural = "audit entries"
        constraints = [models.UniqueConstraint(fields=["chain", "sequence"], name="audit_chain_sequence")]
        indexes = [
            models.Index(fields=["organization", "-sequence"], name="audit_org_seq"),
            models.Index(fields=["organization", "action", "-sequence"], name="audit_org_action_seq"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"


class AuditPersonalDatum(models.Model):
    """A personal datum an audit entry names (an e-mail, an IP address, a user agent), kept OUT of the
    hashed entry (docs/gdpr.md, ADR 0112): the entry's payload holds only `ref` (`pd:` + a random
    id, a salted reference that reveals nothing), this row holds the value. An erasure deletes the
    rows of the erased person; the entry, its hash and the chain stay as they were."""

    ref = models.CharField(max_length=40, primary_key=True)
    subject = models.CharField(max_length=64, blank=True, default="", db_index=True,
                               help_text="`user:<id>` when the entry is about a known user, else empty.")
    kind = models.CharField(max_length=32)
    value = models.TextField()
    value_key = models.CharField(max_length=64, db_index=True,
                                 help_text="HMAC-SHA256 of the lower-cased value (find a person's rows).")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"
