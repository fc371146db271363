"""Recording refusals of the create endpoint.

A refusal raises COMPLIANCE_VIOLATION inside `deployment_create`'s transaction, which is rolled back
(nothing may be created), and anything written in it would be lost. So the gate queues the refusal
in a context variable, and `RefusalRecorderMiddleware` writes it (a `ComplianceDecision` and an
audit entry) after the view returned, i.e. after the rollback, in a transaction of its own.
Non-HTTP callers of `deployment_create` call `refusals_flush()` themselves.

Other refusals that must leave a durable trace queue their own write with `after_rollback_defer`
(the holder registry's `transfer.denied`: `compliance.holder_operation_gate`); the same flush runs it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

from biatec.core.actors import ANONYMOUS, actor_of

from .services import compliance_decision_record

logger = logging.getLogger(__name__)

Write = Callable[[str], object]  # called with the actor (`user:<id>`, `anonymous`)
_pending: ContextVar[list[Write] | None] = ContextVar("compliance_pending_refusals", default=None)


def after_rollback_defer(write: Write) -> None:
    """Queue `write(actor)` to run after the request's transaction was rolled back."""
    pending = _pending.get()
    if pending is None:
        pending = []
        _pending.set(pending)
    pending.append(write)


def refusal_defer(*, organization_id: Any, decision: Any, source: str = "create") -> None:
    def write(actor: str) -> None:
        compliance_decision_record(organization_id=organization_id, actor=actor, source=source, decision=decision)

    after_rollback_defer(write)


def refusals_flush(*, actor: str) -> int:
    """Record every queued refusal; returns how many were recorded."""
    pending = _pending.get()
    if not pending:
        return 0
    recorded = 0
    while pending:
        pending.pop(0)(actor)
        recorded += 1
    return recorded


class RefusalRecorderMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _pending.set([])
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            # DRF authenticates on the DRF request; its user is copied back onto the Django request.
            actor = actor_of(user, otherwise=ANONYMOUS)
            try:
                refusals_flush(actor=actor)
            except Exception:  # the answer stands even if recording fails; the failure is logged
                logger.exception("could not record a compliance refusal")
            return response
        finally:
            _pending.reset(token)
