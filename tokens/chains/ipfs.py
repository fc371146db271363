"""A kubo-HTTP-API client for pinning small documents (ARC-3 metadata).

Settings: `IPFS_API_URL` (the node or pinning service base URL, with or without `/api/v0`) and
`IPFS_API_AUTH` (the `Authorization` header value: "Bearer <token>" or "Basic <base64>"; a bare
"user:password" is sent as Basic, any other bare value as Bearer). Every failure raises
`IpfsError` (code `IPFS_ERROR`); `retryable` tells whether trying again can help.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from django.conf import settings
from multiformats import CID, multihash

from biatec.core.errors import ApplicationError

# kubo's default chunk size: up to here `add --cid-version 1 --raw-leaves` stores one raw block,
# whose CID is the raw CID of the content.
MAX_SINGLE_BLOCK_BYTES = 262_144
DEFAULT_TIMEOUT_SECONDS = 15.0


class IpfsError(ApplicationError):
    code = "IPFS_ERROR"
    http_status = 502
    default_message = "The IPFS pinning service failed."
    retryable = True

    def __init__(self, message: str | None = None, *, retryable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if retryable is not None:
            self.retryable = retryable


def raw_cid(content: bytes) -> str:
    """CIDv1, codec raw, sha2-256, base32 (`bafkrei...`): what kubo answers for a one-block file
    added with `--cid-version 1 --raw-leaves`."""
    return str(CID("base32", 1, "raw", multihash.digest(content, "sha2-256")))


def normalise_cid(text: str) -> str:
    """A CID as CIDv1 base32 text, so that spellings of the same CID compare equal."""
    cid = CID.decode(text)
    return str(cid.set(base="base32", version=1)) if cid.version == 0 else str(cid.set(base="base32"))


def api_base() -> str:
    url = (getattr(settings, "IPFS_API_URL", "") or "").rstrip("/")
    if not url:
        raise IpfsError("No IPFS API is configured (IPFS_API_URL).", retryable=False)
    return url if url.endswith("/api/v0") else url + "/api/v0"


def _auth_header() -> dict[str, str]:
    auth = (getattr(settings, "IPFS_API_AUTH", "") or "").strip()
    if not auth:
        return {}
    if auth.split(" ", 1)[0].lower() in ("bearer", "basic"):
        return {"Authorization": auth}
    if ":" in auth:
        return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
    return {"Authorization": f"Bearer {auth}"}


def _post(command: str, *, params: dict[str, str], files: Any = None) -> httpx.Response:
    url = f"{api_base()}/{command}"
    timeout = float(getattr(settings, "IPFS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    try:
        response = httpx.post(url, params=params, files=files, headers=_auth_header(), timeout=timeout)
    except httpx.HTTPError as exc:
        raise IpfsError(f"The IPFS API could not be reached: {exc.__class__.__name__}.",
                        details={"command": command, "reason": str(exc)[:300]}) from None
    if response.status_code >= 400:
        try:
            reason = response.json().get("Message", "")
        except ValueError:
            reason = response.text[:300]
        retryable = response.status_code >= 500 or response.status_code == 429
        if response.status_code in (401, 403):
            reason = reason or "credentials refused"
        raise IpfsError(f"The IPFS API answered {response.status_code} to {command}: {reason}",
                        details={"command": command, "status": response.status_code, "reason": reason},
                        retryable=retryable)
    return response


def ipfs_add(*, content: bytes, filename: str = "metadata.json", expected_cid: str | None = None) -> str:
    """Add and pin `content` (`/api/v0/add?cid-version=1&raw-leaves=true&pin=true`) and return its CID.

    The CID the service answers must equal the locally computed raw CID (or `expected_cid`):
    a mismatch raises a non-retryable `IpfsError`.
    """
    if len(content) > MAX_SINGLE_BLOCK_BYTES:
        raise IpfsError(f"Documents above {MAX_SINGLE_BLOCK_BYTES} bytes are not pinned as one raw block.",
                        retryable=False)
    expected = normalise_cid(expected_cid) if expected_cid else raw_cid(content)
    response = _post("add", params={"cid-version": "1", "raw-leaves": "true", "pin": "true"},
                     files={"file": (filename, content, "application/octet-stream")})
    answered = None
    for line in response.text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("Hash"):
            answered = entry["Hash"]
    if not answered:
        raise IpfsError("The IPFS API answered no CID.", details={"body": response.text[:300]})
    try:
        answered_norm = normalise_cid(answered)
    except (ValueError, KeyError):
        answered_norm = answered
    if answered_norm != expected:
        raise IpfsError("The IPFS API stored the document under another CID than computed locally.",
                        details={"expected_cid": expected, "answered_cid": answered}, retryable=False)
    return expected


def ipfs_cat(*, cid: str) -> bytes:
    """The bytes stored under `cid`."""
    return _post("cat", params={"arg": cid}).content
