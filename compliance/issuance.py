"""The compliance gate of the create endpoint, registered with `deployments.issuance_gates` by
`ComplianceConfig.ready`: `deployments` calls it without importing `compliance`."""
from __future__ import annotations

from typing import Any

from .gate import ComplianceViolation, compliance_decide
from .refusals import refusal_defer


def compliance_gate_check(*, organization: Any, standard: str, network: str, request: dict[str, Any],
                          compliance_metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Raises COMPLIANCE_VIOLATION (422, failing rules in `details`) when the organization's policy
    forbids the request; otherwise returns the facts recorded on the deployment's first history row.
    No policy: nothing is forbidden (the profile, when given, is still validated and evaluated).

    The refusal rolls back the caller's transaction, so it is queued for recording after the rollback
    (`compliance.refusals`)."""
    decision = compliance_decide(organization=organization, standard=standard, network=network, request=request,
                                 compliance_metadata=compliance_metadata)
    if not decision.allowed:
        refusal_defer(organization_id=organization.pk, decision=decision)
        raise ComplianceViolation(
            "The organization's issuance policy does not allow this token: " + ", ".join(decision.failing_rules)
            + ".", details=decision.error_details())
    return {"compliance": decision.facts()}
