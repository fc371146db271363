"""JSON answers for Django's own 404/500 under /api/ (and everywhere else an API client lands)."""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found, server_error

from .exception_handler import error_body

logger = logging.getLogger("biatec.errors")


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/health/")) or "application/json" in request.headers.get("Accept", "")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("NOT_FOUND", "No such resource."), status=404)
    return page_not_found(request, exception)


def internal_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("INTERNAL_ERROR", "An internal error occurred."), status=500)
    return server_error(request)
