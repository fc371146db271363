"""Reads of deployments, always scoped to the user's organizations (others answer 404)."""
from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import organization_ids_of
from biatec.core.api import filter_given
from biatec.core.errors import NotFound

from .models import Deployment, DeploymentEvent, DeploymentTransaction


def deployment_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Deployment]:
    filters = filters or {}
    qs = Deployment.objects.filter(organization_id__in=organization_ids_of(user=user)).select_related("creator")
    return filter_given(qs, filters, {"status": "status", "standard": "standard", "network": "network",
                                      "correlation_id": "correlation_id", "created_after": "created_at__gte",
                                      "created_before": "created_at__lt"})


def deployment_get(*, user: User, deployment_id: Any) -> Deployment:
    # One indexed query (pk + membership subquery); the detail needs no joined rows.
    deployment = Deployment.objects.filter(pk=deployment_id, organization_id__in=organization_ids_of(user=user)).first()
    if deployment is None:
        raise NotFound("No such deployment.")
    return deployment


def deployment_events(*, deployment: Deployment) -> QuerySet[DeploymentEvent]:
    return DeploymentEvent.objects.filter(deployment=deployment).order_by("id")


def deployment_transactions(*, deployment: Deployment) -> QuerySet[DeploymentTransaction]:
    return DeploymentTransaction.objects.filter(deployment=deployment).defer("signed_bytes").order_by("created_at")


def deployment_find_by_correlation_id(*, correlation_id: str) -> QuerySet[Deployment]:
    """Support: any organization's deployment touched by a request with this correlation ID."""
    touched = DeploymentEvent.objects.filter(correlation_id=correlation_id).values("deployment_id")
    return (Deployment.objects.filter(Q(correlation_id=correlation_id) | Q(pk__in=touched))
            .select_related("organization", "creator").distinct())


def is_support_staff(user: User) -> bool:
    return bool(user.is_staff or user.groups.filter(name="support").exists())
