"""The JSON of an approval request and of a policy (API, webhooks `approval.*`, audit payloads)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from biatec.core.serializers import JsonObjectField
from tokens.standards import operations as ops

from .approval_models import SUBJECT_KINDS, ApprovalDecision, ApprovalPolicy, ApprovalRequest, ApprovalStatus

GATED_BY = ["kind", "mint_above", "batch_transfer_above", "issuance_policy_changes", "allowlist_bulk_above"]


class ApprovalDecisionSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    comment = serializers.CharField(allow_blank=True)
    via_api_key = serializers.BooleanField()
    at = serializers.DateTimeField()


class ApprovalRequestSerializer(serializers.Serializer):
    """A request waiting for (or decided by) four-eyes approval: a token operation, an issuance policy
    change (`kind: issuance_policy_change`, no token) or an allow-list bulk write (`allowlist_bulk`)."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)
    organization_id = serializers.UUIDField()
    token_id = serializers.UUIDField(allow_null=True, help_text="null for an issuance policy change.")
    kind = serializers.ChoiceField(choices=[*ops.KINDS, *SUBJECT_KINDS],
                                   help_text="An operation kind, `issuance_policy_change` or `allowlist_bulk`.")
    request = JsonObjectField(help_text="The request as checked when it was made (recipients as addresses).")
    gated_by = serializers.ChoiceField(choices=GATED_BY,
                                       help_text="Why it waits: its kind, or the policy field that applied.")
    requested_by = serializers.UUIDField(help_text="The requesting user's id.")
    approvals = ApprovalDecisionSerializer(many=True)
    approvals_required = serializers.IntegerField(min_value=1, max_value=2)
    rejection = ApprovalDecisionSerializer(allow_null=True)
    expires_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    operation_id = serializers.UUIDField(allow_null=True, help_text="The operation queued on approval.")
    result = JsonObjectField(allow_null=True, help_text="Not an operation: what the approved change did "
                                                        "(the policy as saved, the entries written).")
    correlation_id = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _decision(d: ApprovalDecision) -> dict[str, Any]:
    return {"user_id": str(d.user_id), "comment": d.comment, "via_api_key": d.via_api_key, "at": _iso(d.at)}


def approval_row(approval: ApprovalRequest) -> dict[str, Any]:
    decisions = list(approval.decisions.all())
    rejection = next((d for d in decisions if d.decision == ApprovalDecision.Decision.REJECT), None)
    return {
        "id": str(approval.pk), "status": approval.status, "organization_id": str(approval.organization_id),
        "token_id": str(approval.token_id) if approval.token_id else None, "kind": approval.kind,
        "request": {k: v for k, v in (approval.summary or {}).items() if k != "opt_in_users"},
        "gated_by": approval.gated_by, "requested_by": str(approval.requested_by_id),
        "approvals": [_decision(d) for d in decisions if d.decision == ApprovalDecision.Decision.APPROVE],
        "approvals_required": approval.approvals_required,
        "rejection": _decision(rejection) if rejection is not None else None,
        "expires_at": _iso(approval.expires_at), "decided_at": _iso(approval.decided_at),
        "operation_id": str(approval.operation_id) if approval.operation_id else None,
        "result": approval.result,
        "correlation_id": approval.correlation_id, "created_at": _iso(approval.created_at),
    }


class ApprovalPolicySerializer(serializers.Serializer):
    organization_id = serializers.UUIDField()
    enabled = serializers.BooleanField()
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=ops.KINDS))
    mint_above = serializers.CharField(allow_null=True, help_text="Base units, decimal string; null: no threshold.")
    batch_transfer_above = serializers.CharField(allow_null=True,
                                                 help_text="Base units, decimal string; null: no threshold.")
    issuance_policy_changes = serializers.BooleanField(help_text="Issuance policy changes wait.")
    allowlist_bulk_above = serializers.IntegerField(allow_null=True,
                                                    help_text="Allow-list bulk writes of more rows wait; null: never.")
    approvals_required = serializers.IntegerField(min_value=1, max_value=2)
    expiry_hours = serializers.IntegerField()
    api_keys_may_approve = serializers.BooleanField()
    updated_at = serializers.DateTimeField(allow_null=True)


def _amount(value: Any) -> str | None:
    return None if value is None else str(int(value))


def approval_policy_row(policy: ApprovalPolicy) -> dict[str, Any]:
    return {
        "organization_id": str(policy.organization_id), "enabled": policy.enabled, "kinds": list(policy.kinds or []),
        "mint_above": _amount(policy.mint_above), "batch_transfer_above": _amount(policy.batch_transfer_above),
        "issuance_policy_changes": policy.issuance_policy_changes, "allowlist_bulk_above": policy.allowlist_bulk_above,
        "approvals_required": policy.approvals_required, "expiry_hours": policy.expiry_hours,
        "api_keys_may_approve": policy.api_keys_may_approve,
        "updated_at": None if policy._state.adding else _iso(policy.updated_at),
    }
