"""Under /api/ every error is the JSON error shape, in every settings module, DEBUG included.

DRF views already answer through `biatec.core.exception_handler`, and unmatched /api/ URLs reach the
JSON catch-all of `biatec.urls`. What is left is Django's own pages: with DEBUG on, an exception
outside a DRF view is the HTML technical 500, a CSRF refusal of a plain view is an HTML 403. This
outermost middleware replaces any non-JSON error answer under /api/ by the error shape."""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from .exception_handler import error_body

logger = logging.getLogger("biatec.errors")

CODES = {400: "VALIDATION_ERROR", 401: "NOT_AUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
         405: "METHOD_NOT_ALLOWED", 413: "REQUEST_TOO_LARGE", 500: "INTERNAL_ERROR"}
MESSAGES = {404: "No such resource.", 405: "Method not allowed.", 500: "An internal error occurred."}


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        code = CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
        message = MESSAGES.get(status, "The request failed.")
        logger.warning("non-JSON error answer replaced under /api/", extra={"status": status, "code": code})
        replaced = JsonResponse(error_body(code, message), status=status)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replaced[header] = response[header]
        return replaced
