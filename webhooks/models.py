"""Webhooks: subscriptions (with sealed signing secrets), the outbox of events, and deliveries
with every attempt recorded (docs/decisions/0007-transactional-webhook-outbox.md)."""
from __future__ import annotations

import uuid

from django.db import models
from simple_history.models import HistoricalRecords

from biatec.core.models import AppendOnlyMixin, BaseModel

WILDCARD = "*"
PING = "ping"
DEPLOYMENT_EVENT_TYPES = (
    "deployment.queued", "deployment.submitted", "deployment.pending", "deployment.confirmed",
    "deployment.indexed", "deployment.completed", "deployment.failed", "deployment.cancelled",
)
OPERATION_EVENT_TYPES = tuple(f"operation.{t.split('.', 1)[1]}" for t in DEPLOYMENT_EVENT_TYPES)
ALLOWLIST_EVENT_TYPES = ("allowlist.added", "allowlist.updated", "allowlist.removed")
TRANSFER_EVENT_TYPES = ("transfer.denied",)  # an operation refused at POST by the token's holder registry
# Organization-level: not about one network or standard, so a subscription's filters do not apply.
MEMBER_EVENT_TYPES = ("member.added", "member.role_changed", "member.removed", "member.left")
# A four-eyes approval request of a token operation (deployments/approval_services.py): about a token,
# so a subscription's network and standard filters apply.
APPROVAL_EVENT_TYPES = ("approval.requested", "approval.approved", "approval.rejected", "approval.expired")
SUBSCRIBABLE_EVENT_TYPES = (*DEPLOYMENT_EVENT_TYPES, *OPERATION_EVENT_TYPES, *ALLOWLIST_EVENT_TYPES,
                            *TRANSFER_EVENT_TYPES, *MEMBER_EVENT_TYPES, *APPROVAL_EVENT_TYPES, WILDCARD)


class WebhookSubscription(BaseModel):
    """A receiver URL of an organization and what it wants. Empty `networks`/`standards` = all.
    The signing secret is sealed by the key vault; the previous one keeps signing until
    `previous_secret_expires_at` so receivers can roll."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                      related_name="webhook_subscriptions")
    url = models.URLField(max_length=2048)
    event_types = models.JSONField(default=list)
    networks = models.JSONField(default=list, blank=True)
    standards = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=500, blank=True, default="")
    secret = models.OneToOneField("accounts.EncryptedSecret", on_delete=models.PROTECT, related_name="+")
    secret_version = models.PositiveIntegerField(default=1)
    previous_secret = models.OneToOneField("accounts.EncryptedSecret", null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    history = HistoricalRecords(excluded_fields=["secret", "previous_secret"])

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "is_active"], name="whsub_org_active")]

    def __str__(self) -> str:
        return f"{self.url} ({'active' if self.is_active else 'inactive'})"

    def wants_type(self, event_type: str) -> bool:
        """Whether the subscription is active and asks for this event type (or `*`), whatever else it filters."""
        return self.is_active and (WILDCARD in self.event_types or event_type in self.event_types)

    def wants(self, *, event_type: str, network: str, standard: str) -> bool:
        """Whether an event of this type about a deployment on (network, standard) matches."""
        return (
            self.wants_type(event_type)
            and (not self.networks or network in self.networks)
            and (not self.standards or standard in self.standards)
        )


class WebhookEvent(AppendOnlyMixin, models.Model):
    """The outbox: one row per deployment transition (or ping), written in the transition's
    transaction. Append-only; `payload` is exactly the JSON delivered (`id, type, created_at, data`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    deployment = models.ForeignKey("deployments.Deployment", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    operation = models.ForeignKey("deployments.Operation", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    # The DeploymentEvent (OperationEvent) id: increases per transition, so it orders the events of
    # one deployment (operation).
    sequence = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["deployment", "sequence"], name="whevent_deployment_seq")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"        # not attempted yet (or redelivery requested)
    RETRYING = "retrying"      # attempted, failed retryably, next attempt at `next_attempt_at`
    DELIVERED = "delivered"    # a 2xx answer
    FAILED = "failed"          # a final answer (4xx other than 408/429, 3xx) or a refused target
    DEAD = "dead"              # every attempt of the schedule failed retryably


UNDELIVERED_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class WebhookDelivery(BaseModel):
    """One event to one subscription. `deployment`/`operation`/`sequence` are copied from the event so
    that the ordering rule (no delivery while an earlier one of the same deployment, or the same token
    operation, to the same subscription is undelivered) is one indexed query."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    deployment = models.ForeignKey("deployments.Deployment", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    operation = models.ForeignKey("deployments.Operation", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    sequence = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts in the current cycle (reset on redeliver).")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A claimed delivery is being sent by one worker until `locked_until`; a dead worker's claim lapses.
    locked_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="whdelivery_event_subscription"),
            models.CheckConstraint(condition=models.Q(status__in=DeliveryStatus.values), name="whdelivery_status"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="whdelivery_status_due"),
            models.Index(fields=["subscription", "deployment", "sequence"], name="whdelivery_sub_dep_seq"),
            models.Index(fields=["subscription", "operation", "sequence"], name="whdelivery_sub_op_seq"),
            models.Index(fields=["subscription", "-created_at"], name="whdelivery_sub_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"


class WebhookDeliveryAttempt(AppendOnlyMixin, models.Model):
    """One HTTP attempt of a delivery. Append-only."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    outcome = models.CharField(max_length=16, help_text="delivered, retry, failed or dead")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error[:40]}"
