"""Request limits checked before any view runs (every route, one place).

- Size: a body announced larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` answers 413 `REQUEST_TOO_LARGE`
  (the error shape) before anything reads it. Django raises `RequestDataTooBig` only when
  `request.body` / `request.POST` is read, and DRF's JSON parser reads the raw stream without that
  check; this middleware refuses by `Content-Length` up front, and the exception handler maps a late
  `RequestDataTooBig` (e.g. a form body) to the same answer.
- Query string: a parameter name or value holding U+0000 (which PostgreSQL cannot store or compare
  in text: a filter on it was a 500) answers 400 `VALIDATION_ERROR` with `details.reason =
  NUL_CHARACTER`, as the JSON body parser does (biatec/core/parsers.py); a malformed percent-escape
  (`%` not followed by two hex digits) or bytes that are not UTF-8 once decoded answer 400 with
  `details.reason = INVALID_ENCODING` (Django would silently turn them into U+FFFD or keep the `%`,
  so the filter applied would not be the one sent). `details.parameter` names the parameter and
  `details.fields` holds it as a field error. Under /api/ the answer is the error shape; elsewhere
  (admin) a plain 400.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from .errors import ApplicationError, RequestTooLarge, ValidationFailed, error_body

_BAD_PERCENT_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def too_large_response() -> JsonResponse:
    exc = RequestTooLarge(details={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.http_status)


class QueryParameterRefused(ValidationFailed):
    def __init__(self, parameter: str, reason: str, message: str) -> None:
        super().__init__(message, details={"fields": {parameter: [message]}, "reason": reason,
                                           "parameter": parameter, "in": "query"})


def _shown(raw: bytes) -> str:
    """A parameter name fit for an error body: undecodable bytes and NUL escaped."""
    return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\u0000")


def query_string_refusal(query_string: str) -> QueryParameterRefused | None:
    """Why the raw query string (WSGI/ASGI `QUERY_STRING`: the bytes as latin-1) is refused, or None.
    Splits like Django's QueryDict (on `&`, name and value at the first `=`, `+` is a space)."""
    if not query_string:
        return None
    raw = query_string.encode("iso-8859-1", "replace")
    for pair in raw.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        shown = _shown(name_bytes)
        if _BAD_PERCENT_ESCAPE.search(pair):
            return QueryParameterRefused(shown, "INVALID_ENCODING",
                                         "A query parameter holds a malformed percent-escape.")
        for part in (name_bytes, unquote_to_bytes(raw_value.replace(b"+", b" "))):
            try:
                text = part.decode("utf-8")
            except UnicodeDecodeError:
                return QueryParameterRefused(shown, "INVALID_ENCODING",
                                             "A query parameter is not valid UTF-8 once percent-decoded.")
            if "\x00" in text:
                return QueryParameterRefused(shown, "NUL_CHARACTER",
                                             "Query parameters may not contain the NUL character (U+0000).")
    return None


def _refused_response(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.http_status)
    return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    """The body size and query string checks of the module docstring (the name predates the latter)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return too_large_response()
        refusal = query_string_refusal(request.META.get("QUERY_STRING", ""))
        if refusal is not None:
            return _refused_response(request, refusal)
        return self.get_response(request)
