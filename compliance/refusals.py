"""Recording refusals of the create endpoint.

A refusal raises COMPLIANCE_VIOLATION inside `deployment_create`'s transaction, which is rolled back
(nothing may be created), and anything written in it would be lost. So the gate queues the refusal
in a context variable, and `RefusalRecorderMiddleware` writes it (a `ComplianceDecision` and an
audit entry) after the view returned, i.e. after the rollback, in a transaction of its own.
Non-HTTP callers of `deployment_create` call `refusals_flush()` themselves.
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

_pending: ContextVar[list[tuple[Any, Any, str]] | None] = ContextVar("compliance_pending_refusals", default=None)


def refusal_defer(*, organization_id: Any, decision: Any, source: str = "create") -> None:
    pending = _pending.get()
    if pending is None:
        pending = []
        _pending.set(pending)
    pending.append((organization_id, decision, source))


def refusals_flush(*, actor: str) -> int:
    """Record every queued refusal; returns how many were recorded."""
    pending = _pending.get()
    if not pending:
        return 0
    recorded = 0
    while pending:
        organization_id, decision, source = pending.pop(0)
        compliance_decision_record(organization_id=organization_id, actor=actor, source=source, decision=decision)
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
