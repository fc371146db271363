"""The e-mails of deployments (docs/notifications.md): "deployment completed" and "deployment failed"
to the deployment's creator, queued in the transition's transaction through the accounts outbox
(deployments imports accounts, never the other way round). Registered by `DeploymentsConfig.ready`."""
from __future__ import annotations

from accounts.notifications_models import EmailNotification, NotificationKind
from accounts.notifications_services import notification_enqueue
from biatec.core import events

from .models import Deployment, DeploymentStatus

KINDS = {DeploymentStatus.COMPLETED: NotificationKind.DEPLOYMENT_COMPLETED,
         DeploymentStatus.FAILED: NotificationKind.DEPLOYMENT_FAILED}


def on_deployment_transitioned(event: events.DeploymentTransitioned) -> EmailNotification | None:
    kind = KINDS.get(event.to_status)  # type: ignore[call-overload]
    if kind is None:
        return None
    deployment = Deployment.objects.select_related("creator", "organization").get(pk=event.deployment_id)
    request, results = deployment.request or {}, deployment.results or {}
    context = {
        "deployment_id": str(deployment.pk), "standard": deployment.standard, "network": deployment.network,
        "organization_name": deployment.organization.name, "token_name": str(request.get("name") or ""),
        "token_symbol": str(request.get("symbol") or request.get("unit_name") or ""),
        "contract_address": str(results.get("contract_address") or ""),
        "asset_id": str(results.get("asset_id") or results.get("app_id") or ""),
        "error_code": deployment.error_code, "error_message": deployment.error_message[:500],
        "retryable": deployment.error_retryable,
    }
    # One e-mail per transition (its history row): a deployment retried and failing again mails again.
    return notification_enqueue(kind=kind, to_email=deployment.creator.email, user=deployment.creator,
                                organization_id=deployment.organization_id, context=context,
                                dedupe_key=f"{kind}:{deployment.pk}:{event.event_id}")


def connect() -> None:
    events.subscribe(events.DeploymentTransitioned, on_deployment_transitioned)
