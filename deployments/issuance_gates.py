"""Checks that may refuse a token request before anything is written.

Apps above `deployments` register theirs from their `AppConfig.ready` (compliance: the issuance
policy and MiCA evaluation, `compliance.issuance.compliance_gate_check`), so `deployments` knows none
of them. A gate raises an `ApplicationError` to refuse, or returns facts recorded on the
deployment's first history row.
"""
from __future__ import annotations

from typing import Any, Protocol


class IssuanceGate(Protocol):
    def __call__(self, *, organization: Any, standard: str, network: str, request: dict[str, Any],
                 compliance_metadata: dict[str, Any] | None) -> dict[str, Any]: ...


_gates: list[IssuanceGate] = []


def issuance_gate_register(gate: IssuanceGate) -> None:
    if gate not in _gates:
        _gates.append(gate)


def issuance_gates_check(*, organization: Any, standard: str, network: str, request: dict[str, Any],
                         compliance_metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Run every registered gate (in registration order); the merged facts of those that allow."""
    facts: dict[str, Any] = {}
    for gate in _gates:
        facts.update(gate(organization=organization, standard=standard, network=network, request=request,
                          compliance_metadata=compliance_metadata))
    return facts
