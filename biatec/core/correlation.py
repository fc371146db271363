"""Correlation IDs: one per request, echoed on every response, in every log line, and carried
into the Celery tasks the request queues (as a message header)."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Correlation-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def is_valid_correlation_id(value: str | None) -> bool:
    return bool(value) and bool(_SAFE_ID.match(value or ""))


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def get_correlation_id() -> str | None:
    return _current.get()


def set_correlation_id(value: str | None) -> Any:
    return _current.set(value)


def reset_correlation_id(token: Any) -> None:
    _current.reset(token)


class CorrelationIdMiddleware:
    """Accepts a safe incoming `X-Correlation-ID` (at most 64 of `[A-Za-z0-9._-]`), else makes a
    UUID4; stores it on the request and the context; returns it on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER)
        correlation_id = incoming if incoming and is_valid_correlation_id(incoming) else new_correlation_id()
        request.correlation_id = correlation_id  # type: ignore[attr-defined]
        # Not reset afterwards: Django logs the response (django.request) after the middleware
        # chain returns, and that line must carry the ID too. The next request sets its own.
        set_correlation_id(correlation_id)
        response = self.get_response(request)
        response[HEADER] = correlation_id
        return response
