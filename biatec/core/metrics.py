"""`GET /metrics` (Prometheus exposition), for scrapers only.

A request is let through when it carries `Authorization: Bearer <METRICS_BEARER_TOKEN>` (when that
setting is not empty), or when it comes straight from an address in `METRICS_ALLOWED_NETWORKS`
(default: loopback only). "Straight" means the TCP peer itself, with no `X-Forwarded-For`,
`Forwarded` or `X-Real-IP` header: a request relayed by a reverse proxy has the proxy as its peer,
which says nothing about the client, so only the token can open it. Everything else answers 403
`PERMISSION_DENIED` without the metrics.
"""
from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus.exports import ExportToDjangoView

from .errors import error_body

_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _peer_allowed(request: HttpRequest) -> bool:
    if any(request.META.get(header) for header in _PROXY_HEADERS):
        return False
    try:
        peer = ipaddress.ip_address((request.META.get("REMOTE_ADDR") or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def _token_allowed(request: HttpRequest) -> bool:
    expected = settings.METRICS_BEARER_TOKEN
    if not expected:
        return False
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), expected.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    return _token_allowed(request) or _peer_allowed(request)


def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return JsonResponse(error_body("PERMISSION_DENIED", "Metrics are not available to this client."),
                            status=403)
    return ExportToDjangoView(request)
