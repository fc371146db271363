"""A database lock that could not be taken in time answers 503 `DATABASE_BUSY` with `Retry-After`;
a database that cannot be written at all (read-only file, full disk) answers 503 `STORAGE_UNAVAILABLE`.

SQLite (the embedded default) has one writer at a time; a writer waits up to the busy timeout and
then fails with "database is locked". The transaction that failed was rolled back, so nothing of the
request was written, and the client may simply try again: it is told so, never handed a 500.

DRF views get this answer from `biatec.core.exception_handler`. Code outside DRF (middleware, the
admin, health probes) fails inside Django's own exception handling, which turns any exception into a
500 before an outer middleware sees it; so `got_request_exception` marks the request, and
`DatabaseBusyMiddleware` (just inside the correlation-ID middleware) replaces that 500 by the 503.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import ApplicationError, error_body

RETRY_AFTER_SECONDS = 1
STORAGE_RETRY_AFTER_SECONDS = 30
# sqlite3's messages for SQLITE_BUSY / SQLITE_LOCKED, and for a database that cannot be written at
# all (SQLITE_READONLY, SQLITE_FULL; PostgreSQL's "could not extend file ... No space left").
_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")
_STORAGE_MESSAGES = ("readonly database", "read-only database", "database or disk is full", "disk i/o error",
                     "no space left on device")
# The database server cannot be reached or dropped the connection (a restart, a network cut).
_UNREACHABLE_MESSAGES = ("connection refused", "could not connect", "connection failed", "server closed the connection",
                         "connection is closed", "connection already closed", "terminating connection",
                         "connection is lost", "connection timed out", "no connection to the server")
_MARK = "_biatec_database_error"


class _RetryLater(ApplicationError):
    """503: nothing was changed; the request may be sent again after `retry_after_seconds`, said in
    the `Retry-After` header and in `details.retry_after_seconds`."""

    http_status = 503
    retry_after_seconds = RETRY_AFTER_SECONDS

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("details", {"retry_after_seconds": self.retry_after_seconds})
        super().__init__(message, **kwargs)


class DatabaseBusy(_RetryLater):
    code = "DATABASE_BUSY"
    default_message = "The database is busy; nothing was changed. Retry after the number of seconds in Retry-After."


class StorageUnavailable(_RetryLater):
    """The database cannot be written (read-only file, full disk): the transaction was rolled back."""

    code = "STORAGE_UNAVAILABLE"
    default_message = "The server cannot store data right now; nothing was changed. Retry later."
    retry_after_seconds = STORAGE_RETRY_AFTER_SECONDS


class DatabaseUnavailable(_RetryLater):
    """The database server could not be reached, or dropped the connection mid-request (a restart):
    the transaction never committed."""

    code = "DATABASE_UNAVAILABLE"
    default_message = "The database cannot be reached right now; nothing was changed. Retry later."
    retry_after_seconds = 5


_BY_MESSAGE: tuple[tuple[tuple[str, ...], type[ApplicationError]], ...] = (
    (_BUSY_MESSAGES, DatabaseBusy), (_STORAGE_MESSAGES, StorageUnavailable),
    (_UNREACHABLE_MESSAGES, DatabaseUnavailable),
)


def database_error_of(exc: BaseException | None) -> type[ApplicationError] | None:
    """DatabaseBusy for a lock timeout, StorageUnavailable for a database that cannot be written,
    DatabaseUnavailable for a server that cannot be reached (the exception or anything it was raised
    from); None for anything else."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError | InterfaceError) or type(exc).__name__ in (
                "OperationalError", "InterfaceError"):
            message = str(exc).lower()
            for texts, error_class in _BY_MESSAGE:
                if any(text in message for text in texts):
                    return error_class
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def is_database_busy(exc: BaseException | None) -> bool:
    return database_error_of(exc) is DatabaseBusy


def database_error_response(error_class: type[ApplicationError] = DatabaseBusy) -> JsonResponse:
    error = error_class()
    response = JsonResponse(error_body(error.code, error.message, error.details), status=error.http_status)
    for name, value in getattr(error, "headers", {}).items():
        response[name] = value
    return response


@receiver(got_request_exception, dispatch_uid="biatec.core.db_busy.mark")
def _mark_database_error(sender: Any, request: HttpRequest | None = None, **_: Any) -> None:
    error_class = database_error_of(sys.exc_info()[1])
    if request is not None and error_class is not None:
        setattr(request, _MARK, error_class)


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        error_class = getattr(request, _MARK, None)
        if response.status_code >= 500 and error_class is not None:
            return database_error_response(error_class)
        return response
