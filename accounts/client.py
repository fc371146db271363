"""Who is calling: the client's IP address as far as trusted proxies vouch for it, and the
"source" it is counted under by throttles and the login lockout.

`X-Forwarded-For` is believed only to the depth set by `TRUSTED_PROXY_COUNT` (DRF's `NUM_PROXIES`):
with 0 (the default) it is ignored and the peer address (`REMOTE_ADDR`) is the client; with n it is
the n-th address from the right, the one the outermost trusted proxy saw. Anything a client writes
further left is never read, so changing the header cannot change the source.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from rest_framework.settings import api_settings

# IPv6 clients usually hold a whole /64: counting per address would give one attacker 2^64 sources.
IPV6_SOURCE_PREFIX = 64


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    """The caller's IP address (see the module docstring), or None when there is none."""
    meta = request.META
    remote = _valid_ip(meta.get("REMOTE_ADDR"))
    depth = api_settings.NUM_PROXIES or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if depth > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        return _valid_ip(hops[-min(depth, len(hops))]) or remote
    return remote


def client_source(ip: str | None) -> str:
    """The unit a client is counted in: its IPv4 address, its IPv6 /64, or "unknown"."""
    if not ip:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/{IPV6_SOURCE_PREFIX}", strict=False))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
