"""The issuance gate: the organization's policy and the MiCA evaluation of a token request, evaluated
before a deployment is queued (`compliance.issuance.compliance_gate_check`, registered as an
issuance gate of `deployments`) and by the pre-flight endpoint (`POST /api/v1/compliance/evaluate`),
which therefore give the same answer. No writes here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone

from biatec.core.errors import ApplicationError

from .mica import COMPLIANT, NON_COMPLIANT, OUT_OF_SCOPE, mica_evaluate, token_facts
from .models import IssuancePolicy
from .profiles import profile_normalize, profile_sha256

NOT_EVALUATED = "not_evaluated"


class ComplianceViolation(ApplicationError):
    code = "COMPLIANCE_VIOLATION"
    http_status = 422
    default_message = "The organization's issuance policy does not allow this token."


@dataclass
class GateDecision:
    allowed: bool
    violations: list[dict[str, Any]]
    mica: dict[str, Any] | None
    profile: dict[str, Any] | None
    profile_sha256: str
    policy: dict[str, Any] | None
    standard: str
    network: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failing_rules(self) -> list[str]:
        return [v["rule"] for v in self.violations]

    @property
    def mica_overall(self) -> str:
        return self.mica["overall"] if self.mica else NOT_EVALUATED

    def error_details(self) -> dict[str, Any]:
        """The `details` of the 422 answer (and the body of a refused pre-flight)."""
        return {
            "violations": self.violations,
            "failing_rules": self.failing_rules,
            "mica": ({"overall": self.mica["overall"], "regime": self.mica["regime"],
                      "failing_rules": self.mica["failing_rules"]} if self.mica else None),
            "policy_id": self.policy["id"] if self.policy else None,
        }

    def facts(self) -> dict[str, Any]:
        """What the deployment's first history row records."""
        return {
            "decision": "allowed" if self.allowed else "refused",
            "mica_overall": self.mica_overall,
            "mica": self.mica,
            "profile_sha256": self.profile_sha256 or None,
            "policy": self.policy,
        }


def policy_snapshot(policy: IssuancePolicy) -> dict[str, Any]:
    return {
        "id": str(policy.pk),
        "updated_at": policy.updated_at.isoformat(),
        "allowed_networks": sorted(policy.allowed_networks or []),
        "allowed_standards": sorted(policy.allowed_standards or []),
        "require_compliance_profile": policy.require_compliance_profile,
        "require_mica_compliant": policy.require_mica_compliant,
        "allow_out_of_scope": policy.allow_out_of_scope,
        "blocked_issuer_countries": sorted(policy.blocked_issuer_countries or []),
        "require_operation_reason": policy.require_operation_reason,
    }


def _violation(rule: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"rule": rule, "message": message, **extra}


def policy_violations(*, policy: dict[str, Any] | None, standard: str, network: str,
                      profile: dict[str, Any] | None, mica: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rules of `policy` (a snapshot) that this request breaks; none without a policy."""
    if policy is None:
        return []
    violations = []
    if policy["allowed_networks"] and network not in policy["allowed_networks"]:
        violations.append(_violation("policy.network_not_allowed", f"Network '{network}' is not allowed.",
                                     allowed=policy["allowed_networks"]))
    if policy["allowed_standards"] and standard not in policy["allowed_standards"]:
        violations.append(_violation("policy.standard_not_allowed", f"Standard '{standard}' is not allowed.",
                                     allowed=policy["allowed_standards"]))
    if profile is None:
        if policy["require_compliance_profile"] or policy["require_mica_compliant"]:
            violations.append(_violation("policy.compliance_profile_required",
                                         "A compliance profile (compliance_metadata) is required."))
        return violations
    if profile["issuer_country"] in policy["blocked_issuer_countries"]:
        violations.append(_violation("policy.issuer_country_blocked",
                                     f"Issuers from {profile['issuer_country']} are not accepted."))
    if mica is not None:
        if policy["require_mica_compliant"] and mica["overall"] == NON_COMPLIANT:
            violations.append(_violation("policy.mica_compliant_required",
                                         "A compliant MiCA result is required; failing: "
                                         + ", ".join(mica["failing_rules"]) + ".",
                                         mica_failing_rules=mica["failing_rules"]))
            for rule in mica["failing_rules"]:
                check = next(c for c in mica["checks"] if c["rule"] == rule)
                violations.append(_violation(f"mica.{rule}", check["reason"], article=check["article"]))
        if not policy["allow_out_of_scope"] and mica["overall"] == OUT_OF_SCOPE:
            violations.append(_violation("policy.out_of_scope_not_allowed",
                                         f"Tokens outside MiCA ({mica['regime']}) are not allowed."))
    return violations


def compliance_decide(*, organization: Any, standard: str, network: str, request: dict[str, Any],
                      compliance_metadata: dict[str, Any] | None, as_of: date | None = None) -> GateDecision:
    """Validate the profile (VALIDATION_ERROR when invalid), evaluate MiCA and the policy. No writes."""
    profile = profile_normalize(compliance_metadata) if compliance_metadata is not None else None
    mica = None
    if profile is not None:
        mica = mica_evaluate(profile=profile, token=token_facts(standard=standard, request=request),
                             as_of=as_of or timezone.now().date())
    policy_row = IssuancePolicy.objects.filter(organization=organization).first()
    policy = policy_snapshot(policy_row) if policy_row is not None else None
    violations = policy_violations(policy=policy, standard=standard, network=network, profile=profile, mica=mica)
    return GateDecision(allowed=not violations, violations=violations, mica=mica, profile=profile,
                        profile_sha256=profile_sha256(profile) if profile is not None else "", policy=policy,
                        standard=standard, network=network)


__all__ = ["COMPLIANT", "ComplianceViolation", "GateDecision", "compliance_decide", "policy_violations"]
