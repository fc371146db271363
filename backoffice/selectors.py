"""Support's correlation-ID search across the back office (docs/back-office.md): everything a
request with this correlation ID touched, each lookup on an indexed correlation_id column (or the
ids those found)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from accounts.models import SecurityEvent
from biatec.audit.models import AuditEntry
from compliance.models import ComplianceDecision
from deployments.models import Deployment, Operation, OperationEvent
from deployments.selectors import deployment_find_by_correlation_id
from webhooks.models import WebhookDelivery

LIMIT = 50


@dataclass(frozen=True)
class Found:
    model: type[Any]
    objects: list[Any]


def correlation_find(correlation_id: str) -> list[Found]:
    """Deployments and operations the request created or moved, their webhook deliveries, and the
    audit entries, compliance decisions and security events it wrote (at most LIMIT of each)."""
    term = correlation_id.strip()
    if not term:
        return []
    deployments = list(deployment_find_by_correlation_id(correlation_id=term)[:LIMIT])
    operations = list(Operation.objects.filter(
        Q(correlation_id=term) | Q(pk__in=OperationEvent.objects.filter(correlation_id=term).values("operation_id")))
        .select_related("organization", "token")[:LIMIT])
    deliveries: list[Any] = []
    if deployments or operations:
        deliveries = list(WebhookDelivery.objects.filter(
            Q(deployment_id__in=[d.pk for d in deployments]) | Q(operation_id__in=[o.pk for o in operations]))
            .select_related("subscription").order_by("-created_at")[:LIMIT])
    return [
        Found(Deployment, deployments),
        Found(Operation, operations),
        Found(WebhookDelivery, deliveries),
        Found(AuditEntry, list(AuditEntry.objects.filter(correlation_id=term).order_by("-id")[:LIMIT])),
        Found(ComplianceDecision, list(ComplianceDecision.objects.filter(correlation_id=term)
                                       .order_by("-created_at")[:LIMIT])),
        Found(SecurityEvent, list(SecurityEvent.objects.filter(correlation_id=term).order_by("-created_at")[:LIMIT])),
    ]
