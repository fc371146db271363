"""The one DRF exception handler: every error, DRF's own included, is rendered as
`{"code", "message", "details", "correlation_id"}` and the transaction is rolled back."""
from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from .db_busy import database_error_of
from .errors import ApplicationError, RequestTooLarge, error_body

__all__ = ["application_exception_handler", "error_body"]

logger = logging.getLogger("biatec.errors")

_DRF_CODES: list[tuple[type[Exception], str]] = [
    (drf.ValidationError, "VALIDATION_ERROR"),
    (drf.ParseError, "VALIDATION_ERROR"),
    (drf.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (drf.NotAuthenticated, "NOT_AUTHENTICATED"),
    (drf.AuthenticationFailed, "NOT_AUTHENTICATED"),
    (drf.PermissionDenied, "PERMISSION_DENIED"),
    (drf.NotFound, "NOT_FOUND"),
    (drf.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (drf.NotAcceptable, "NOT_ACCEPTABLE"),
    (drf.Throttled, "RATE_LIMITED"),
]


def _drf_message(exc: drf.APIException) -> str:
    if isinstance(exc, drf.ValidationError):
        return "The request is not valid."
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        return "The request failed."
    return str(detail)


def application_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    set_rollback()
    database_error = database_error_of(exc)
    if database_error is not None:  # the transaction was rolled back: nothing written, safe to retry
        exc = database_error()
    if isinstance(exc, RequestDataTooBig):  # Django read a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestTooLarge(details={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    if isinstance(exc, ApplicationError):
        if exc.http_status >= 500:
            logger.warning("application error %s", exc.code, extra={"code": exc.code})
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.http_status,
                        headers=getattr(exc, "headers", None))
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        code = next((c for klass, c in _DRF_CODES if isinstance(exc, klass)), "ERROR")
        details: dict[str, Any] = {}
        if isinstance(exc, drf.ValidationError):
            details = {"fields": exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}}
        wait = getattr(exc, "wait", None) if isinstance(exc, drf.Throttled) else None  # not in the stubs
        if wait is not None:
            details = {"retry_after_seconds": int(wait)}
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
        return Response(error_body(code, _drf_message(exc), details), status=exc.status_code, headers=headers)
    logger.exception("unhandled exception", exc_info=exc)
    return Response(error_body("INTERNAL_ERROR", "An internal error occurred."), status=500)
