"""The deployment state machine (docs/architecture.md, "The deployment state machine")."""
from __future__ import annotations

from biatec.core.errors import ApplicationError

from .models import DeploymentStatus as S

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.SUBMITTED, S.FAILED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.PENDING, S.FAILED}),
    S.PENDING: frozenset({S.CONFIRMED, S.FAILED}),
    S.CONFIRMED: frozenset({S.INDEXED, S.FAILED}),
    S.INDEXED: frozenset({S.COMPLETED, S.FAILED}),
    S.FAILED: frozenset({S.QUEUED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}


class InvalidStateTransition(ApplicationError):
    code = "INVALID_STATE_TRANSITION"
    http_status = 409
    default_message = "This action is not possible in the deployment's current state."


def check_transition(current: str, target: str) -> None:
    if target not in ALLOWED_TRANSITIONS.get(current, frozenset()):
        raise InvalidStateTransition(
            f"A deployment cannot go from '{current}' to '{target}'.",
            details={"from": current, "to": target},
        )
