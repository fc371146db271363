"""The token registry and the operations on issued tokens (docs/architecture.md, "Token operations").

A `Token` is written when its deployment completes; an `Operation` (mint, transfer, freeze ...) is a
chain job of the same pipeline and state machine as a deployment, with its own transactions and
append-only history. Imported by `deployments.models`.
"""
from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from biatec.core.models import BaseModel

from .models import ChainJobEventRow, ChainJobRow, ChainTransactionRow, DeploymentStatus


class Token(BaseModel):
    """A deployed token: where it lives on chain and what it is. Live state (supply, balances,
    paused, roles) is read from the chain on request; `paused` and `roles` here are what the last
    completed operation left, for filters and the admin."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="tokens")
    deployment = models.OneToOneField("deployments.Deployment", on_delete=models.PROTECT, related_name="token")
    standard = models.CharField(max_length=32)
    network = models.CharField(max_length=32)
    family = models.CharField(max_length=16)
    contract_address = models.CharField(max_length=42, blank=True, default="", db_index=True)
    asset_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    app_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    name = models.CharField(max_length=128)
    symbol = models.CharField(max_length=32, blank=True, default="")
    decimals = models.PositiveSmallIntegerField(default=0)
    issuer_address = models.CharField(max_length=64, db_index=True)
    issuer_account = models.CharField(
        max_length=16, choices=[("organization", "organization"), ("member", "member")], default="member",
        help_text="Whose key controls the token (docs/treasury.md): the organization's treasury account, or "
                  "the member who created it (the deployment's creator).")
    paused = models.BooleanField(default=False)
    destroyed = models.BooleanField(default=False)
    roles = models.JSONField(default=dict, blank=True,
                             help_text="owner / manager, reserve, freeze, clawback as last set by the platform.")
    default_frozen = models.BooleanField(
        default=False, help_text="An asset created default-frozen (every new holding starts frozen), as read back "
                                 "at deployment; fixed for the asset's life. Always false for contract tokens.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="tok_org_created"),
            models.Index(fields=["organization", "standard", "-created_at"], name="tok_org_standard"),
            models.Index(fields=["organization", "network", "-created_at"], name="tok_org_network"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.standard} on {self.network})"

    @property
    def chain_id(self) -> str:
        """Contract address, asset id or app id: how the chain knows the token."""
        return self.contract_address or str(self.asset_id or self.app_id or "")


class Operation(ChainJobRow):
    """One operation on a token (`kind`), through the deployment pipeline's 8 states. A key rotation's
    `native_sweep` (the native coin of a retired account, docs/decisions/0107) is the one kind
    without a token."""

    token = models.ForeignKey(Token, on_delete=models.PROTECT, related_name="operations", null=True, blank=True)
    kind = models.CharField(max_length=32)

    history = HistoricalRecords(excluded_fields=["next_action_at", "attempts"])

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["token", "-created_at"], name="op_token_created"),
            models.Index(fields=["token", "status", "-created_at"], name="op_token_status"),
            models.Index(fields=["token", "kind", "-created_at"], name="op_token_kind"),
            models.Index(fields=["status", "next_action_at"], name="op_status_next_action"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "creator", "token", "kind", "idempotency_key"],
                                    name="op_org_idempotency_key",
                                    condition=models.Q(idempotency_key__isnull=False)),
            models.CheckConstraint(condition=models.Q(status__in=DeploymentStatus.values), name="op_status_valid"),
            models.CheckConstraint(condition=models.Q(token__isnull=False) | models.Q(kind="native_sweep"),
                                   name="op_token_unless_native_sweep"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.token_id} ({self.status})"


class OperationTransaction(ChainTransactionRow):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="transactions")

    class Meta(ChainTransactionRow.Meta):
        indexes = [models.Index(fields=["network", "status"], name="optx_network_status")]


class OperationEvent(ChainJobEventRow):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="events")
