"""Four-eyes approvals of sensitive token operations and of two organization changes (issue 20 item
5; docs/approvals.md, ADR 0105 and 0113).

`ApprovalPolicy`: per organization, which operation kinds (and which issuance policy and allow-list
changes) wait for approval and by how many distinct approvers. `ApprovalRequest`: a request that
waited (`pending_approval`) and what became of it; it holds the request as the caller sent it, so that
approval re-runs every check against the state then, and links the `Operation` queued on approval (or,
for a subject that is no operation, `result`: what the change did). `ApprovalDecision`: one approver's
approval or rejection with its comment (append-only). Imported by `deployments.models`.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from biatec.core.models import AppendOnlyMixin, BaseModel
from tokens.standards import operations as ops

# The kinds gated when an organization enables its policy without naming any (issue 20 item 5).
DEFAULT_GATED_KINDS = (ops.FORCED_TRANSFER, ops.TRANSFER_OWNERSHIP, ops.SET_ROLES, ops.DESTROY)
DEFAULT_EXPIRY_HOURS = 72
DEFAULT_ALLOWLIST_BULK_ABOVE = 100

# Approval subjects that are no token operation (deployments/approval_subjects.py; their executors
# are registered by the app owning them, compliance).
ISSUANCE_POLICY_CHANGE = "issuance_policy_change"  # per organization: no token
ALLOWLIST_BULK = "allowlist_bulk"  # a token's allow list, more than `allowlist_bulk_above` rows at once
SUBJECT_KINDS = (ISSUANCE_POLICY_CHANGE, ALLOWLIST_BULK)


def default_gated_kinds() -> list[str]:
    return list(DEFAULT_GATED_KINDS)


class ApprovalPolicy(BaseModel):
    """An organization's four-eyes policy; created lazily (disabled, default kinds) on first read."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        related_name="approval_policy")
    enabled = models.BooleanField(default=False, help_text="Off: every operation is queued at once.")
    kinds = models.JSONField(default=default_gated_kinds, blank=True,
                             help_text="Operation kinds that always wait for approval.")
    mint_above = models.DecimalField(max_digits=78, decimal_places=0, null=True, blank=True,
                                     help_text="A mint of more than this (base units) waits; empty: no threshold.")
    batch_transfer_above = models.DecimalField(
        max_digits=78, decimal_places=0, null=True, blank=True,
        help_text="A batch transfer of more than this in total (base units) waits; empty: no threshold.")
    issuance_policy_changes = models.BooleanField(
        default=True, help_text="A change of the organization's issuance policy waits (when the policy is on).")
    allowlist_bulk_above = models.PositiveIntegerField(
        null=True, blank=True, default=DEFAULT_ALLOWLIST_BULK_ABOVE,
        help_text="An allow-list bulk write or CSV import of more rows than this waits; empty: never.")
    approvals_required = models.PositiveSmallIntegerField(default=1, help_text="Distinct approvers: 1 or 2.")
    expiry_hours = models.PositiveIntegerField(default=DEFAULT_EXPIRY_HOURS)
    api_keys_may_approve = models.BooleanField(default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "approval policies"
        constraints = [models.CheckConstraint(condition=models.Q(approvals_required__in=(1, 2)),
                                              name="apol_approvals_required_1_or_2")]

    def __str__(self) -> str:
        return f"approval policy of {self.organization_id} ({'on' if self.enabled else 'off'})"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending_approval"
    APPROVED = "approved"  # the operation is queued (`operation`)
    REJECTED = "rejected"
    EXPIRED = "expired"


class ApprovalRequest(BaseModel):
    """A gated request. `payload` is the body as sent (re-validated on approval), `summary` the
    request as checked then (recipients as addresses): what approvers are shown. `kind` is an
    operation kind or a subject of `SUBJECT_KINDS`; an issuance policy change names no token."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="approval_requests")
    token = models.ForeignKey("deployments.Token", on_delete=models.PROTECT, related_name="approval_requests",
                              null=True, blank=True)
    kind = models.CharField(max_length=32)
    payload = models.JSONField()
    from_csv = models.BooleanField(default=False)
    summary = models.JSONField(default=dict)
    gated_by = models.CharField(max_length=32, help_text="kind, or the threshold that applied.")
    status = models.CharField(max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approvals_required = models.PositiveSmallIntegerField(default=1)
    api_keys_may_approve = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    operation = models.OneToOneField("deployments.Operation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="approval")
    result = models.JSONField(null=True, blank=True,
                              help_text="A subject that is no operation: what the approved change did.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="apr_org_status"),
            models.Index(fields=["status", "expires_at"], name="apr_status_expires"),
            models.Index(fields=["token", "-created_at"], name="apr_token_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ApprovalStatus.values), name="apr_status_valid"),
            models.CheckConstraint(condition=models.Q(token__isnull=False) | models.Q(kind=ISSUANCE_POLICY_CHANGE),
                                   name="apr_token_unless_org_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.token_id or self.organization_id} ({self.status})"

    @property
    def pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING

    def approver_ids(self) -> list[Any]:
        return [d.user_id for d in self.decisions.all() if d.decision == ApprovalDecision.Decision.APPROVE]


class ApprovalDecision(AppendOnlyMixin, models.Model):
    """One approver's word on a request. A user decides a request once."""

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"

    id = models.BigAutoField(primary_key=True)
    approval_request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True, default="")
    via_api_key = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["approval_request", "user"], name="apd_one_per_user")]

    def __str__(self) -> str:
        return f"{self.decision} by {self.user_id}"
