"""Four-eyes approval subjects that are no token operation (docs/approvals.md, ADR 0113): an
organization's issuance policy change, an allow-list bulk write of many rows.

`deployments` knows their names (`approval_models.SUBJECT_KINDS`) and the policy fields that gate
them, not their code: the app owning the change (compliance) registers, from its `AppConfig.ready`,
the role action the requester must still hold and the executor that applies an approved request.

An executor runs inside the approval's transaction, under the request's row lock: it re-validates
`approval.payload` against the state now and applies it through the owning app's service (its audit
entries, history, events and queued jobs), returning the JSON stored as `approval.result`. A refusal
raises its own `ApplicationError`, which rolls the whole approval back (the request stays pending),
exactly as an operation's re-check does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .approval_models import SUBJECT_KINDS, ApprovalRequest


class SubjectExecutor(Protocol):
    def __call__(self, *, approval: ApprovalRequest, actor: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ApprovalSubject:
    kind: str
    action: str  # the role action (accounts/roles.py) the requester must still hold at approval
    execute: SubjectExecutor


_subjects: dict[str, ApprovalSubject] = {}


def approval_subject_register(*, kind: str, action: str, execute: SubjectExecutor) -> None:
    if kind not in SUBJECT_KINDS:
        raise ValueError(f"Unknown approval subject {kind!r}.")
    _subjects[kind] = ApprovalSubject(kind=kind, action=action, execute=execute)


def approval_subject_of(kind: str) -> ApprovalSubject | None:
    """The registered subject of `kind`; None for an operation kind. A subject kind nobody
    registered is a programming error (the owning app is not installed)."""
    if kind not in SUBJECT_KINDS:
        return None
    try:
        return _subjects[kind]
    except KeyError:
        raise LookupError(f"No executor registered for the approval subject {kind!r}.") from None
