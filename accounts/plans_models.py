"""Plans, per-organization overrides and metering (docs/plans-and-usage.md, ADR 0109).

A `Plan` is data (admin-editable, four seeded by accounts/migrations/0009_seed_plans.py); an
organization points at one (`Organization.plan`, None: the `BIATEC_DEFAULT_PLAN` setting's). A limit
of None is unlimited. Staff set per-organization `PlanOverride`s (history-tracked). `UsageRecord` is
one billable event (a deployment or an operation accepted), unique per (kind, subject id), so replays
and retries never count twice; a refund sets `refunded_at` (the record stays, for the invoice).
`UsageFee` is what a chain charged for one transaction of that event. Imported by `accounts.models`.
"""
from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from biatec.core.models import BaseModel

# The limits a plan holds and an override may replace (the quota names of `accounts.quotas`).
DEPLOYMENTS, OPERATIONS = "deployments_per_month", "operations_per_month"
ALLOWLIST_ENTRIES, WEBHOOK_SUBSCRIPTIONS = "allowlist_entries_per_token", "webhook_subscriptions"
API_KEYS, MEMBERS, REQUESTS = "api_keys", "members", "requests_per_minute"
MAINNET = "mainnet_allowed"  # 1: main networks allowed, 0: test and local networks only
LIMITS = (DEPLOYMENTS, OPERATIONS, ALLOWLIST_ENTRIES, WEBHOOK_SUBSCRIPTIONS, API_KEYS, MEMBERS, REQUESTS)
MONTHLY = (DEPLOYMENTS, OPERATIONS)


def _limit(help_text: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(null=True, blank=True, help_text=f"{help_text} Empty: unlimited.")


class Plan(BaseModel):
    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    deployments_per_month = _limit("Deployments accepted per calendar month (UTC).")
    operations_per_month = _limit("Token operations accepted per calendar month (UTC).")
    allowlist_entries_per_token = _limit("Allow-list entries per token.")
    webhook_subscriptions = _limit("Webhook subscriptions of the organization.")
    api_keys = _limit("Active API keys of the organization.")
    members = _limit("Members of the organization (open invitations count).")
    requests_per_minute = _limit("API requests per minute of the organization.")
    mainnet_allowed = models.BooleanField(default=False, help_text="Off: test and local networks only.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class PlanOverride(BaseModel):
    """One limit of one organization set by staff, replacing its plan's (history-tracked)."""

    class Limit(models.TextChoices):
        DEPLOYMENTS_PER_MONTH = DEPLOYMENTS
        OPERATIONS_PER_MONTH = OPERATIONS
        ALLOWLIST_ENTRIES_PER_TOKEN = ALLOWLIST_ENTRIES
        WEBHOOK_SUBSCRIPTIONS = WEBHOOK_SUBSCRIPTIONS
        API_KEYS = API_KEYS
        MEMBERS = MEMBERS
        REQUESTS_PER_MINUTE = REQUESTS
        MAINNET_ALLOWED = MAINNET

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="plan_overrides")
    limit = models.CharField(max_length=32, choices=Limit.choices)
    value = models.PositiveIntegerField(null=True, blank=True,
                                        help_text="Empty: unlimited. For mainnet_allowed: 1 allowed, 0 not.")
    reason = models.CharField(max_length=255, blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "limit"], name="acc_planoverride_org_limit")]

    def __str__(self) -> str:
        return f"{self.limit}={'unlimited' if self.value is None else self.value} for {self.organization_id}"


class UsageKind(models.TextChoices):
    DEPLOYMENT = "deployment"
    OPERATION = "operation"
    SYSTEM_OPERATION = "system_operation"  # queued by the platform (allow-list sync): fees, no quota


class UsageRecord(BaseModel):
    """One billable event; `subject_id` is the deployment's or the operation's id."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="usage_records")
    kind = models.CharField(max_length=32, choices=UsageKind.choices)
    subject_id = models.UUIDField()
    network = models.CharField(max_length=32)
    standard = models.CharField(max_length=32, blank=True, default="")
    operation_kind = models.CharField(max_length=32, blank=True, default="")
    occurred_at = models.DateTimeField(db_index=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_reason = models.CharField(max_length=255, blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["occurred_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "subject_id"], name="acc_usage_kind_subject")]
        indexes = [models.Index(fields=["organization", "kind", "occurred_at"], name="acc_usage_org_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_id} on {self.network}"


class UsageFee(BaseModel):
    """The fee one transaction of a usage record paid on chain, in the network's base unit (wei:
    gasUsed x effectiveGasPrice; microalgo: the fee fields of the group's transactions)."""

    record = models.ForeignKey(UsageRecord, on_delete=models.PROTECT, related_name="fees")
    network = models.CharField(max_length=32)
    tx_id = models.CharField(max_length=128)
    payer = models.CharField(max_length=64, blank=True, default="")
    amount = models.DecimalField(max_digits=78, decimal_places=0)
    unit = models.CharField(max_length=16)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["network", "tx_id"], name="acc_usagefee_network_tx")]

    def __str__(self) -> str:
        return f"{self.amount} {self.unit} for {self.tx_id}"
