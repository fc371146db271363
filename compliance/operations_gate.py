"""The compliance gate of token operations, registered with `deployments.issuance_gates` by
`ComplianceConfig.ready`: the organization's policy may require a `reason` on mints and forced
transfers, and a token issued with a compliance profile may not be minted past the supply its MiCA
evaluation assessed (the cap, else the initial supply). A refusal is recorded like a create refusal
(a `ComplianceDecision` with source `operation`, written after the rollback)."""
from __future__ import annotations

from typing import Any

from tokens.standards import operations as ops

from .gate import ComplianceViolation, GateDecision, _violation, policy_snapshot
from .models import IssuancePolicy
from .refusals import refusal_defer

NEEDS_REASON = (ops.MINT, ops.FORCED_TRANSFER)


def compliance_operation_gate(*, organization: Any, token: Any, kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """Raises COMPLIANCE_VIOLATION (422, failing rules in `details`); otherwise the facts of the
    operation's first history row and `limits` the operation service enforces against the chain."""
    policy = IssuancePolicy.objects.filter(organization=organization).first()
    snapshot = policy_snapshot(policy) if policy is not None else None
    violations = []
    if policy is not None and policy.require_operation_reason and kind in NEEDS_REASON and not request.get("reason"):
        violations.append(_violation("policy.operation_reason_required",
                                     f"The organization's policy requires a reason for '{kind}'."))
    if violations:
        decision = GateDecision(allowed=False, violations=violations, mica=None, profile=None, profile_sha256="",
                                policy=snapshot, standard=token.standard, network=token.network,
                                extra={"operation": kind, "token_id": str(token.pk)})
        refusal_defer(organization_id=organization.pk, decision=decision, source="operation")
        raise ComplianceViolation("The organization's issuance policy does not allow this operation: "
                                  + ", ".join(decision.failing_rules) + ".", details=decision.error_details())
    limits: dict[str, str] = {}
    deployment = token.deployment
    if kind == ops.MINT and deployment.compliance_metadata:
        assessed = deployment.request.get("cap") or deployment.request.get("initial_supply")
        if assessed not in (None, ""):
            limits["max_total_supply"] = str(assessed)
    return {"compliance": {"decision": "allowed", "policy_id": snapshot["id"] if snapshot else None},
            **({"limits": limits} if limits else {})}
