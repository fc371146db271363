"""One HTTP attempt of a webhook delivery (no database here: `services` records the outcome).

httpx with the configured timeout (and an overall deadline), no redirects, no proxies from the
environment (a proxy would defeat the address pinning of `safety`), response body read up to a
small limit.
"""
from __future__ import annotations

import functools
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from .safety import UnsafeTarget, check_target
from .signing import WebhookSigner

USER_AGENT = "Biatec-Webhooks/1"
RETRYABLE_STATUS_CODES = frozenset({408, 429})


@dataclass(frozen=True)
class AttemptResult:
    outcome: str  # "delivered" | "retry" | "failed"
    status_code: int | None
    duration_ms: int
    response_body: str
    error: str


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact, key order as stored, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def classify(status_code: int) -> str:
    if 200 <= status_code < 300:
        return "delivered"
    if status_code in RETRYABLE_STATUS_CODES or status_code >= 500:
        return "retry"
    return "failed"  # other 4xx, and 3xx (redirects are not followed)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Every delivery's TLS context, built once per process: a client builds one per instance by
    default (the CA bundle read and parsed, ~20 ms CPU); each delivery still opens its own connection
    to its pinned address. Thread-safe: contexts are shared by the connections they wrap."""
    return httpx.create_ssl_context(trust_env=False)


def _read_limited(response: httpx.Response, limit: int, deadline: float) -> str:
    received = bytearray()
    try:
        for chunk in response.iter_bytes():
            received.extend(chunk)
            if len(received) >= limit or time.monotonic() > deadline:
                break
    except httpx.HTTPError:
        pass  # the status line decides the outcome; a body cut short is only a log detail
    return bytes(received[:limit]).decode("utf-8", errors="replace")


def send(*, url: str, event_id: str, event_type: str, payload: dict[str, Any], signer: WebhookSigner) -> AttemptResult:
    """POST the event to `url` once. Never raises for receiver or network trouble."""
    started = time.monotonic()
    timeout = float(settings.WEBHOOKS_TIMEOUT_SECONDS)

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_target(url)
    except UnsafeTarget as exc:
        return AttemptResult("failed", None, elapsed_ms(), "", f"target refused: {exc.message}")
    body = encode_body(payload)
    headers = {
        "Host": target.host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Biatec-Event-Id": event_id,
        "Biatec-Event-Type": event_type,
        "Biatec-Signature": signer.signature_header(body, int(time.time())),
    }
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls_context()) as client:
            request = client.build_request("POST", target.url, content=body, headers=headers,
                                           extensions=extensions)
            response = client.send(request, stream=True)
            try:
                text = _read_limited(response, int(settings.WEBHOOKS_MAX_RESPONSE_BYTES), started + timeout)
            finally:
                response.close()
    except httpx.HTTPError as exc:
        return AttemptResult("retry", None, elapsed_ms(), "", f"{type(exc).__name__}: {exc}"[:500])
    return AttemptResult(classify(response.status_code), response.status_code, elapsed_ms(), text, "")
