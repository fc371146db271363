"""Writes of four-eyes approvals that need no operation to be queued: the policy, and a gated
request becoming an approval request (`operation_services.operation_create` calls it). Deciding a
request (approve, reject, expire) is deployments/approval_decisions.py.

Every change writes an audit entry (`approval.<change>`, `approval_policy.updated`) and publishes
`ApprovalChanged` (webhooks `approval.requested|approved|rejected|expired`) in its transaction."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from biatec.audit.chain import audit_record
from biatec.core import events
from biatec.core.correlation import get_correlation_id

from .approval_models import ApprovalPolicy, ApprovalRequest
from .approval_presenters import approval_policy_row, approval_row
from .services import actor_of
from .token_models import Token

POLICY_FIELDS = ("enabled", "kinds", "mint_above", "batch_transfer_above", "issuance_policy_changes",
                 "allowlist_bulk_above", "approvals_required", "expiry_hours", "api_keys_may_approve")


@transaction.atomic
def approval_policy_update(*, organization_id: Any, user: User, changes: dict[str, Any]) -> ApprovalPolicy:
    """Set the given fields of the organization's policy (created with the defaults on first save);
    audited with the values before and after."""
    ApprovalPolicy.objects.get_or_create(organization_id=organization_id)
    policy = ApprovalPolicy.objects.select_for_update().get(organization_id=organization_id)
    before = approval_policy_row(policy)
    for name in POLICY_FIELDS:
        if name in changes:
            value = changes[name]
            if name in ("mint_above", "batch_transfer_above") and value is not None:
                value = Decimal(int(value))
            if name == "kinds":
                value = list(dict.fromkeys(value))
            setattr(policy, name, value)
    policy.updated_by = user
    policy.save()
    after = approval_policy_row(policy)
    changed = {k: {"from": before[k], "to": after[k]} for k in POLICY_FIELDS if before[k] != after[k]}
    audit_record(action="approval_policy.updated", actor=actor_of(user), organization_id=organization_id,
                 object_type="approval_policy", object_id=str(policy.pk), payload={"changed": changed})
    return policy


def approval_changed(approval: ApprovalRequest, change: str, *, actor: str, **extra: Any) -> None:
    """The audit entry `approval.<change>` and the webhook event, in the change's transaction."""
    data = approval_row(approval)
    audit_record(action=f"approval.{change}", actor=actor, organization_id=approval.organization_id,
                 object_type="approval_request", object_id=str(approval.pk),
                 payload={"kind": approval.kind, "token_id": data["token_id"], "gated_by": approval.gated_by,
                          "status": approval.status, "operation_id": data["operation_id"],
                          "approvals": [a["user_id"] for a in data["approvals"]],
                          **({"result": approval.result} if approval.result is not None else {}), **extra})
    token: Token | None = approval.token
    events.publish(events.ApprovalChanged(
        correlation_id=get_correlation_id() or "", approval_id=str(approval.pk), token_id=data["token_id"],
        organization_id=str(approval.organization_id), change=change, actor=actor,
        standard=token.standard if token else "", network=token.network if token else "", data=data))


def approval_request_create(*, policy: ApprovalPolicy, token: Token | None, kind: str, payload: Any,
                            from_csv: bool, summary: dict[str, Any], gated_by: str, user: User,
                            idempotency_key: str | None) -> ApprovalRequest:
    """A checked request the policy gates, persisted `pending_approval`; no operation, no chain job,
    no change. `token` None: a subject of the organization (an issuance policy change). The number
    of approvers, the expiry and whether API keys may decide are the policy's now."""
    approval = ApprovalRequest.objects.create(
        organization_id=policy.organization_id, token=token, kind=kind, payload=payload, from_csv=from_csv,
        summary=summary, gated_by=gated_by, requested_by=user, approvals_required=policy.approvals_required,
        api_keys_may_approve=policy.api_keys_may_approve,
        expires_at=timezone.now() + timedelta(hours=policy.expiry_hours),
        correlation_id=get_correlation_id() or "", idempotency_key=idempotency_key)
    approval_changed(approval, "requested", actor=actor_of(user))
    return approval
