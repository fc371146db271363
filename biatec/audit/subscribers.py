"""What the audit log records of the domain events (registered by `AuditConfig.ready`). They run
inside the publisher's transaction: the entry commits or rolls back with the change it records."""
from __future__ import annotations

from biatec.core import events

from .chain import audit_record


def on_deployment_transitioned(event: events.DeploymentTransitioned) -> None:
    audit_record(
        action="deployment.transition", actor=event.actor, organization_id=event.organization_id,
        object_type="deployment", object_id=event.deployment_id,
        payload={"event_id": event.event_id, "from_status": event.from_status or None, "to_status": event.to_status,
                 "reason": event.reason, "standard": event.standard, "network": event.network,
                 "facts": dict(event.facts)},
    )


def on_operation_transitioned(event: events.OperationTransitioned) -> None:
    audit_record(
        action="operation.transition", actor=event.actor, organization_id=event.organization_id,
        object_type="operation", object_id=event.operation_id,
        payload={"event_id": event.event_id, "token_id": event.token_id, "kind": event.kind,
                 "from_status": event.from_status or None, "to_status": event.to_status, "reason": event.reason,
                 "standard": event.standard, "network": event.network, "facts": dict(event.facts)},
    )


def on_transfer_denied(event: events.TransferDenied) -> None:
    """Filed under the token: what was refused, by which rules, for whom (the first 50 recipients)."""
    data = dict(event.data)
    audit_record(
        action="transfer.denied", actor=event.actor, organization_id=event.organization_id,
        object_type="token", object_id=event.token_id,
        payload={"kind": event.kind, "rules": list(event.rules), "standard": event.standard, "network": event.network,
                 "recipients": data.get("recipients", []), "count": data.get("count"),
                 "failures": data.get("failures", []), "checked_by": data.get("checked_by", "registry")},
    )


def on_security_event_recorded(event: events.SecurityEventRecorded) -> None:
    """Filed under the organization the event names: for a key used by an organization's job, that
    organization; otherwise the user's first one, or none (platform-level) for unknown users."""
    audit_record(
        action=f"security.{event.event_type}", actor=event.actor, organization_id=event.organization_id,
        object_type="user" if event.user_id else "", object_id=event.user_id or "",
        payload={"security_event_id": event.security_event_id, "email": event.email,
                 "ip_address": event.ip_address, "user_agent": event.user_agent, "details": dict(event.details)},
    )


def connect() -> None:
    events.subscribe(events.DeploymentTransitioned, on_deployment_transitioned)
    events.subscribe(events.OperationTransitioned, on_operation_transitioned)
    events.subscribe(events.SecurityEventRecorded, on_security_event_recorded)
    events.subscribe(events.TransferDenied, on_transfer_denied)
