"""Checks that may refuse a token request before anything is written, and the schema of the
request's `compliance_metadata` that those checks read.

Apps above `deployments` register theirs from their `AppConfig.ready` (compliance: the issuance
policy and MiCA evaluation, `compliance.issuance.compliance_gate_check`), so `deployments` knows none
of them. A gate raises an `ApplicationError` to refuse, or returns facts recorded on the
deployment's first history row.
"""
from __future__ import annotations

from typing import Any, Protocol

from biatec.core.serializers import JsonObjectField


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


class OperationGate(Protocol):
    def __call__(self, *, organization: Any, token: Any, kind: str, request: dict[str, Any]) -> dict[str, Any]: ...


_operation_gates: list[OperationGate] = []


def operation_gate_register(gate: OperationGate) -> None:
    """A check on token operations (compliance: a policy requiring a `reason`, the MiCA offering cap)."""
    if gate not in _operation_gates:
        _operation_gates.append(gate)


def operation_gates_check(*, organization: Any, token: Any, kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run every registered operation gate; the merged facts of those that allow."""
    facts: dict[str, Any] = {}
    for gate in _operation_gates:
        facts.update(gate(organization=organization, token=token, kind=kind, request=request))
    return facts


class TransferRefusalListener(Protocol):
    def __call__(self, *, token: Any, kind: str, details: dict[str, Any]) -> None: ...


_transfer_refusal_listeners: list[TransferRefusalListener] = []


def transfer_refusal_listener_register(listener: TransferRefusalListener) -> None:
    """Told of every TRANSFER_NOT_ALLOWED the chain's own rules gave at an operation's POST (not
    eligible / not whitelisted on chain), before the request rolls back (compliance: the
    `transfer.denied` event and audit entry, published after the rollback)."""
    if listener not in _transfer_refusal_listeners:
        _transfer_refusal_listeners.append(listener)


def transfer_refusal_notify(*, token: Any, kind: str, details: dict[str, Any]) -> None:
    for listener in _transfer_refusal_listeners:
        listener(token=token, kind=kind, details=details)


# The serializer field documenting and validating `compliance_metadata` in the create request,
# registered by the app that owns the profile (compliance: `ComplianceProfileSerializer`); until
# one registers, any JSON object (or null) is accepted.
_metadata_field: list[Any] = []


def compliance_metadata_field_register(factory: Any) -> None:
    """`factory()` returns a fresh serializer field for `compliance_metadata`."""
    _metadata_field[:] = [factory]


def compliance_metadata_field() -> Any:
    if _metadata_field:
        return _metadata_field[0]()
    return JsonObjectField(required=False, allow_null=True)
