"""JSON shapes of deployments shared by the API, webhooks and exports."""
from __future__ import annotations

from typing import Any

from tokens.networks import NETWORKS

from .models import Deployment, DeploymentEvent


def _links(deployment: Deployment) -> dict[str, str]:
    network = NETWORKS.get(deployment.network)
    if network is None or network.is_local:
        return {}
    links: dict[str, str] = {}
    results = deployment.results or {}
    tx_ids = results.get("tx_ids") or []
    if network.explorer_tx_url and tx_ids:
        links["transaction"] = network.explorer_tx_url.format(tx_ids[0])
    address = results.get("contract_address")
    if network.explorer_address_url and address:
        links["contract"] = network.explorer_address_url.format(address)
    return links


def deployment_summary(deployment: Deployment) -> dict[str, Any]:
    return {
        "id": str(deployment.pk),
        "status": deployment.status,
        "standard": deployment.standard,
        "network": deployment.network,
        "correlation_id": deployment.correlation_id,
        "created_at": deployment.created_at.isoformat(),
        "updated_at": deployment.updated_at.isoformat(),
    }


def deployment_detail(deployment: Deployment) -> dict[str, Any]:
    return {
        **deployment_summary(deployment),
        "organization_id": str(deployment.organization_id),
        "creator_id": str(deployment.creator_id),
        "request": deployment.request,
        "compliance_metadata": deployment.compliance_metadata,
        "results": deployment.results or {},
        "links": _links(deployment),
        "error": (
            {"code": deployment.error_code, "message": deployment.error_message,
             "retryable": deployment.error_retryable, "details": deployment.error_details}
            if deployment.error_code else None
        ),
        "completed_at": deployment.completed_at.isoformat() if deployment.completed_at else None,
    }


def event_row(event: DeploymentEvent) -> dict[str, Any]:
    return {
        "sequence": event.pk,
        "from_status": event.from_status or None,
        "to_status": event.to_status,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "reason": event.reason,
        "correlation_id": event.correlation_id,
        "facts": event.facts,
    }
