"""Small helpers shared by the thin API views."""
from __future__ import annotations

from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from accounts.services import ClientInfo


def client_info(request: Request) -> ClientInfo:
    """The caller's IP (REMOTE_ADDR: proxies must set it correctly) and user agent."""
    return ClientInfo(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.headers.get("User-Agent", "")[:256],
    )


class CreatedAtCursorPagination(CursorPagination):
    """The house list pagination (DESIGN.md section 3): cursor pages on `-created_at`."""

    ordering = "-created_at"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
