"""Issuance gate evaluated before a deployment is queued (filled in by the compliance issue)."""
from __future__ import annotations

from typing import Any


def compliance_gate_check(*, organization: Any, standard: str, network: str, request: dict[str, Any],
                          compliance_metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Raises COMPLIANCE_VIOLATION (422) when the organization's policy forbids the request; returns
    facts to record on the deployment's first history row. No policy: nothing is forbidden."""
    return {}
