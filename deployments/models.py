"""Deployments: the request, its 8-state lifecycle, every signed transaction, append-only history,
and idempotency records of the create endpoint (docs/architecture.md, "The deployment state machine")."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTransform
from simple_history.models import HistoricalRecords

from biatec.core.models import AppendOnlyMixin, BaseModel


class DeploymentStatus(models.TextChoices):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    INDEXED = "indexed"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# States in which a worker still has something to do (failed waits for a retry, the rest are final).
ACTIVE_STATUSES = (DeploymentStatus.QUEUED, DeploymentStatus.SUBMITTED, DeploymentStatus.PENDING,
                   DeploymentStatus.CONFIRMED, DeploymentStatus.INDEXED)


class ChainJobRow(BaseModel):
    """What every chain job of the one pipeline holds (deployments, token operations): who asked, on
    which network, the validated request, its 8-state lifecycle, results, error and scheduling."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="%(class)ss")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="%(class)ss")
    standard = models.CharField(max_length=32)
    network = models.CharField(max_length=32)
    request = models.JSONField(help_text="The validated token request.")
    status = models.CharField(max_length=16, choices=DeploymentStatus.choices, default=DeploymentStatus.QUEUED)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_retryable = models.BooleanField(default=False)
    error_details = models.JSONField(default=dict, blank=True)
    results = models.JSONField(default=dict, blank=True, help_text="On-chain identifiers and read-back values.")
    correlation_id = models.CharField(max_length=64, db_index=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # Work scheduling: the sweep re-queues anything whose deadline passed in a non-terminal state.
    attempts = models.PositiveIntegerField(default=0)
    next_action_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def save_without_history(self, fields: list[str]) -> None:
        """Save `fields` without a simple-history row: transitions (whose record is the append-only
        event row and its audit entry), step results on the way to `confirmed`, scheduling."""
        self.skip_history_when_saving = True
        try:
            self.save(update_fields=[*fields, "updated_at"])
        finally:
            del self.skip_history_when_saving


class Deployment(ChainJobRow):
    compliance_metadata = models.JSONField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["next_action_at", "attempts"])

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="dep_org_created"),
            models.Index(fields=["organization", "status", "-created_at"], name="dep_org_status"),
            models.Index(fields=["organization", "standard", "-created_at"], name="dep_org_standard"),
            models.Index(fields=["organization", "network", "-created_at"], name="dep_org_network"),
            models.Index(fields=["status", "next_action_at"], name="dep_status_next_action"),
            # Support search by contract address (deployments.selectors.deployment_search_ids).
            models.Index(KeyTransform("contract_address", "results"), name="dep_contract_address"),
        ]
        constraints = [
            # The key is scoped per user and endpoint (= standard), as the idempotency records are.
            models.UniqueConstraint(fields=["organization", "creator", "standard", "idempotency_key"],
                                    name="dep_org_idempotency_key",
                                    condition=models.Q(idempotency_key__isnull=False)),
            models.CheckConstraint(condition=models.Q(status__in=DeploymentStatus.values), name="dep_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.standard} on {self.network} ({self.status})"


class TransactionStatus(models.TextChoices):
    SIGNED = "signed"          # stored, not yet accepted by a node
    BROADCAST = "broadcast"    # a node accepted it
    CONFIRMED = "confirmed"    # included with success
    FAILED = "failed"          # included and reverted / rejected for good
    SUPERSEDED = "superseded"  # proven unable to land (expired window, nonce taken); replaced by a new one


class ChainTransactionRow(BaseModel):
    """One signed transaction (or Algorand group) of a chain job. Signed bytes are stored BEFORE
    broadcast so a retry re-broadcasts the same bytes instead of signing anew. `part` numbers the
    independent transactions of one step (a batch distribution's recipients or groups); the
    transactions of one (step, part) are one transaction and its replacements."""

    step = models.CharField(max_length=32, help_text="create, bootstrap, ...")
    part = models.PositiveIntegerField(default=0)
    family = models.CharField(max_length=16)
    network = models.CharField(max_length=32)
    tx_id = models.CharField(max_length=128, db_index=True)
    group_tx_ids = models.JSONField(default=list, blank=True)
    sender = models.CharField(max_length=64, db_index=True)
    nonce = models.BigIntegerField(null=True, blank=True)
    first_valid = models.BigIntegerField(null=True, blank=True)
    last_valid = models.BigIntegerField(null=True, blank=True)
    signed_bytes = models.BinaryField()
    status = models.CharField(max_length=16, choices=TransactionStatus.choices, default=TransactionStatus.SIGNED)
    broadcast_attempts = models.PositiveIntegerField(default=0)
    last_broadcast_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    confirmed_in = models.BigIntegerField(null=True, blank=True, help_text="Block number or round.")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.step} {self.tx_id}"


class DeploymentTransaction(ChainTransactionRow):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="transactions")

    class Meta(ChainTransactionRow.Meta):
        indexes = [models.Index(fields=["network", "status"], name="deptx_network_status")]


class ChainJobEventRow(AppendOnlyMixin, models.Model):
    """Append-only history of a chain job: one row per state transition."""

    id = models.BigAutoField(primary_key=True)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=128)
    reason = models.TextField(blank=True, default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class DeploymentEvent(ChainJobEventRow):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="events")


class IdempotencyRecord(models.Model):
    """`Idempotency-Key` of a mutating request, per user and endpoint, with the original answer."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=128)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "endpoint", "key"], name="idem_user_endpoint_key")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


from .approval_models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, ApprovalStatus  # noqa: E402
from .token_models import Operation, OperationEvent, OperationTransaction, Token  # noqa: E402

__all__ = ["ACTIVE_STATUSES", "ApprovalDecision", "ApprovalPolicy", "ApprovalRequest", "ApprovalStatus",
           "ChainJobEventRow", "ChainJobRow", "ChainTransactionRow", "Deployment",
           "DeploymentEvent", "DeploymentStatus", "DeploymentTransaction", "IdempotencyRecord", "Operation",
           "OperationEvent", "OperationTransaction", "Token", "TransactionStatus"]
