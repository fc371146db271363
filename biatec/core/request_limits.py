"""Request size limit: a body announced larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` answers 413
`REQUEST_TOO_LARGE` (the error shape) before anything reads it.

Django raises `RequestDataTooBig` only when `request.body` / `request.POST` is read, and DRF's JSON
parser reads the raw stream without that check; this middleware refuses by `Content-Length` up front,
and the exception handler maps a late `RequestDataTooBig` (e.g. a form body) to the same answer.
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import RequestTooLarge, error_body


def too_large_response() -> JsonResponse:
    exc = RequestTooLarge(details={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.http_status)


class RequestSizeLimitMiddleware:
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
        return self.get_response(request)
