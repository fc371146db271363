"""SSRF safety of webhook targets.

A target URL is checked when a subscription is saved AND before every attempt (DNS can change).
Every address the host resolves to must be public; the attempt then connects to the address that
was checked (pinned), with the original host in `Host` and TLS SNI/certificate checks, so a DNS
answer that changes between the check and the connection (rebinding) cannot reach inside.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from biatec.core.errors import ValidationFailed

# Cloud metadata endpoints are never a legitimate receiver, whatever the settings allow.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
                                ipaddress.ip_address("100.100.100.200")})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValidationFailed):
    """The URL is not acceptable as a webhook target (scheme, host or resolved addresses)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"fields": {"url": [message]}})


@dataclass(frozen=True)
class PinnedTarget:
    """Where to connect: `url` has the checked IP as host; `host` goes in `Host` and TLS SNI."""

    url: str
    host: str
    address: str
    sni_hostname: str | None


# IPv6 forms that carry an IPv4 address a packet may end up at (RFC 4291, 6052, 3056, 4380).
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: a.b.c.d in the last 32 bits
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: operator-chosen layout, never public


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address that `address` embeds: IPv4-mapped, IPv4-compatible, NAT64 (well-known prefix),
    6to4 (2002::/16) and Teredo (2001::/32: server and client). Empty for IPv4 and plain IPv6."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: nor ::1
        found.append(low32)
    if address in _NAT64_WELL_KNOWN:
        found.append(low32)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def _translated(address: IPAddress) -> bool:
    """Forms whose traffic goes to the embedded IPv4 only: judged by it alone."""
    return isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped is not None or address in _NAT64_WELL_KNOWN)


def _own_refusal(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL_USE:
        return "a non-public address"
    for attribute, label in (("is_loopback", "a loopback"), ("is_link_local", "a link-local"),
                             ("is_multicast", "a multicast"), ("is_unspecified", "an unspecified"),
                             ("is_reserved", "a reserved"), ("is_private", "a private")):
        if getattr(address, attribute):
            return f"{label} address"
    if not address.is_global:
        return "a non-public address"
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` may not be a target, or None when it may. An IPv6 address that embeds IPv4
    addresses (mapped, compatible, NAT64, 6to4, Teredo) is refused when any embedded one would be."""
    for embedded in embedded_ipv4(address):
        refusal = _own_refusal(embedded)
        if refusal:
            return refusal if _translated(address) else f"{refusal} (embedded in {address})"
    if _translated(address):
        return None
    return _own_refusal(address)


def check_url_shape(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, or UnsafeTarget."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("The URL is not valid.") from None
    scheme = parts.scheme.lower()
    allowed = {"https", "http"} if settings.WEBHOOKS_ALLOW_HTTP else {"https"}
    if scheme not in allowed:
        raise UnsafeTarget("The URL must use https." if scheme == "http" else "The URL must be an https URL.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeTarget("Credentials in the URL are not accepted; authenticate with the signature.")
    if parts.fragment:
        raise UnsafeTarget("The URL must not have a fragment.")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeTarget(f"The host '{host}' cannot be resolved.") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    # IPv4 first: the common case, and what most receivers listen on.
    return sorted(addresses, key=lambda a: a.version)


def check_target(url: str) -> PinnedTarget:
    """Check `url` now (shape + every resolved address) and pin the connection to a checked address."""
    scheme, host, port = check_url_shape(url)
    addresses = resolve(host, port)
    if not addresses:
        raise UnsafeTarget(f"The host '{host}' cannot be resolved.")
    for address in addresses:
        refusal = address_refusal(address)
        if refusal:
            raise UnsafeTarget(f"The URL resolves to {refusal}; webhook targets must be public.")
    chosen = addresses[0]
    parts = urlsplit(url)
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = host if not parts.port else f"{host}:{parts.port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" + (f":{parts.port}" if parts.port else "")
    try:
        ipaddress.ip_address(host)
        sni_hostname = None  # an IP literal: TLS checks the certificate against the address itself
    except ValueError:
        sni_hostname = host
    return PinnedTarget(url=pinned, host=host_header, address=str(chosen), sni_hostname=sni_hostname)
