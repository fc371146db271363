"""Small helpers shared by the thin API views."""
from __future__ import annotations

from rest_framework.request import Request

from accounts.services import ClientInfo


def client_info(request: Request) -> ClientInfo:
    """The caller's IP (REMOTE_ADDR: proxies must set it correctly) and user agent."""
    return ClientInfo(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.headers.get("User-Agent", "")[:256],
    )
