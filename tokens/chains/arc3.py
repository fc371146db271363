"""ARC-3 metadata: validation, canonical bytes, metadata hash, CID, pinning, and the ASA fields.

Flow: `doc = arc3_prepare(standard=, params=)` (pure: validates the JSON against ARC-3 and the
asset, canonical bytes, SHA-256 hash, CIDv1 raw, URL `ipfs://<cid>#arc3`), `arc3_pin(document=doc)`
(kubo API; the service must answer the same CID), then
`build_asset_create(params=arc3_asset_params(params=, document=doc), ...)`.

Canonical bytes: `json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
in UTF-8, so the same request always yields the same hash and CID (a retried deployment pins the
same document). The metadata hash is SHA-256 of exactly those bytes (ARC-3 without
`extra_metadata`, which is refused because it changes the hash scheme).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from biatec.core.errors import ValidationFailed
from tokens.standards import STANDARDS

from .ipfs import MAX_SINGLE_BLOCK_BYTES, ipfs_add, raw_cid

ARC3_SUFFIX = "#arc3"
ARC3_GENERIC_ASSET_NAME = "arc3"  # ARC-3: an asset named exactly "arc3" takes its name from the metadata
MAX_URL_BYTES = 96
MAX_ASSET_NAME_BYTES = 32
_STRING_FIELDS = ("name", "description", "image", "image_mimetype", "external_url", "external_url_mimetype",
                  "animation_url", "animation_url_mimetype", "image_integrity", "external_url_integrity",
                  "animation_url_integrity", "background_color")
_INTEGRITY = re.compile(r"^sha(256|384|512)-[A-Za-z0-9+/]+={0,2}$")
_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")
_MIME = re.compile(r"^[\w.+-]+/[\w.+-]+$")


@dataclass(frozen=True)
class Arc3Document:
    """A metadata document ready to pin: the exact bytes, their hash, CID and ARC-3 URL."""

    metadata: dict[str, Any]
    content: bytes
    metadata_hash: bytes
    cid: str
    url: str

    @property
    def metadata_hash_b64(self) -> str:
        return base64.b64encode(self.metadata_hash).decode()


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid ARC-3 metadata: {message}", details={"fields": {field: [message]}})


def _truncate_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def arc3_validate_metadata(*, metadata: Any, asset_name: str, decimals: int, total: int,
                           standard: str | None = None, unit_name: str | None = None) -> dict[str, Any]:
    """Check the metadata JSON against ARC-3 and the asset; return the normalised copy that is pinned.

    * field types of the ARC-3 JSON schema (strings, `properties`/`localization` objects,
      `*_integrity` as `sha256-<base64>`, `background_color` as 6 hex digits, `*_mimetype` type/subtype);
    * `decimals` must equal the ASA's (added when absent: ARC-3 reads a missing value as 0);
    * `name` must match the ASA name (equal, or the ASA name is its first 32 bytes, or `<name>@arc3`;
      added when absent);
    * shapes: `*-nft` total 1 / decimals 0; `*-fnft` total 10^k / decimals k >= 1;
    * `extra_metadata` is refused (it changes the metadata hash scheme).
    """
    if not isinstance(metadata, dict):
        raise _fail("metadata", "ARC-3 metadata must be a JSON object.")
    doc = dict(metadata)
    for key in _STRING_FIELDS:
        if key in doc and not isinstance(doc[key], str):
            raise _fail(f"metadata.{key}", f"'{key}' must be a string.")
    for key in ("image_integrity", "external_url_integrity", "animation_url_integrity"):
        if key in doc and not _INTEGRITY.match(doc[key]):
            raise _fail(f"metadata.{key}", f"'{key}' must look like sha256-<base64 digest>.")
    for key in ("image_mimetype", "external_url_mimetype", "animation_url_mimetype"):
        if key in doc and not _MIME.match(doc[key]):
            raise _fail(f"metadata.{key}", f"'{key}' must be a MIME type (type/subtype).")
    if "background_color" in doc and not _COLOR.match(doc["background_color"]):
        raise _fail("metadata.background_color", "'background_color' must be six hexadecimal digits.")
    if "properties" in doc and not isinstance(doc["properties"], dict):
        raise _fail("metadata.properties", "'properties' must be a JSON object.")
    if "extra_metadata" in doc:
        raise _fail("metadata.extra_metadata", "'extra_metadata' is not supported.")
    if "localization" in doc:
        loc = doc["localization"]
        if (not isinstance(loc, dict) or not isinstance(loc.get("uri"), str) or "{locale}" not in loc["uri"]
                or not isinstance(loc.get("default"), str) or not isinstance(loc.get("locales"), list)
                or not all(isinstance(x, str) for x in loc["locales"])):
            raise _fail("metadata.localization", "'localization' needs uri (with {locale}), default and locales.")

    if "decimals" in doc:
        if isinstance(doc["decimals"], bool) or not isinstance(doc["decimals"], int) or doc["decimals"] != decimals:
            raise _fail("metadata.decimals", f"'decimals' must equal the asset's decimals ({decimals}).")
    else:
        doc["decimals"] = decimals

    base_name = asset_name.removesuffix("@arc3")
    if "name" in doc:
        meta_name = doc["name"]
        matches = base_name in (meta_name, _truncate_utf8(meta_name, MAX_ASSET_NAME_BYTES))
        if asset_name != ARC3_GENERIC_ASSET_NAME and not matches:
            raise _fail("metadata.name", "'name' must match the asset name.")
    elif asset_name != ARC3_GENERIC_ASSET_NAME:
        doc["name"] = base_name

    for key in ("unitName", "unit_name"):  # not in ARC-3's schema; when a document carries it, it must agree
        if key in doc and unit_name is not None and doc[key] != unit_name:
            raise _fail(f"metadata.{key}", f"'{key}' must equal the asset's unit name ({unit_name}).")

    spec = STANDARDS.get(standard) if standard else None
    if spec is not None and spec.unique and (total, decimals) != (1, 0):
        raise _fail("total", "An ARC-3 NFT has total 1 and decimals 0.")
    if spec is not None and spec.fractional and (decimals < 1 or total != 10**decimals):
        raise _fail("total", "An ARC-3 fractional NFT has total 10^k with decimals k >= 1.")
    return doc


def arc3_canonical_bytes(metadata: dict[str, Any]) -> bytes:
    """The exact bytes pinned and hashed."""
    try:
        text = json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _fail("metadata", f"Metadata is not plain JSON: {exc}") from None
    return text.encode("utf-8")


def arc3_prepare(*, standard: str, params: dict[str, Any]) -> Arc3Document:
    """Validate and compute everything locally (no network): bytes, SHA-256, CIDv1 raw, URL."""
    metadata = arc3_validate_metadata(metadata=params.get("metadata"), asset_name=str(params.get("name", "")),
                                      decimals=int(params.get("decimals", 0)), total=int(params.get("total", 0)),
                                      standard=standard, unit_name=params.get("unit_name"))
    content = arc3_canonical_bytes(metadata)
    if len(content) > MAX_SINGLE_BLOCK_BYTES:
        raise _fail("metadata", f"Metadata above {MAX_SINGLE_BLOCK_BYTES} bytes is not supported.")
    cid = raw_cid(content)
    url = f"ipfs://{cid}{ARC3_SUFFIX}"
    if len(url.encode()) > MAX_URL_BYTES:  # cannot happen for a raw CIDv1 (71 bytes); kept as the rule
        raise _fail("url", f"The ARC-3 URL is longer than {MAX_URL_BYTES} bytes.")
    return Arc3Document(metadata=metadata, content=content, metadata_hash=hashlib.sha256(content).digest(),
                        cid=cid, url=url)


def arc3_request_check(*, standard: str, params: dict[str, Any]) -> Arc3Document:
    """Everything about an ARC-3 request that needs no network, at POST: the metadata document against
    the asset (`arc3_prepare`), and a supplied `url` / `metadata_hash` against the computed ones."""
    document = arc3_prepare(standard=standard, params=params)
    url = params.get("url") or ""
    if url and not url.endswith(ARC3_SUFFIX):
        raise _fail("url", f"An ARC-3 URL ends with {ARC3_SUFFIX}.")
    if url and url != document.url:
        raise _fail("url", f"The metadata is pinned at {document.url}; omit url or give exactly that.")
    supplied_hash = params.get("metadata_hash")
    if supplied_hash and supplied_hash != document.metadata_hash_b64:
        raise _fail("metadata_hash", "The metadata hash must be the SHA-256 of the canonical metadata "
                                     f"({document.metadata_hash_b64}); omit it to have it computed.")
    return document


def arc3_pin(*, document: Arc3Document) -> str:
    """Pin the document; the service must store it under the locally computed CID (`IPFS_ERROR` otherwise)."""
    return ipfs_add(content=document.content, filename="metadata.json", expected_cid=document.cid)


def arc3_asset_params(*, params: dict[str, Any], document: Arc3Document) -> dict[str, Any]:
    """The request's ASA fields with the computed URL and metadata hash (base64)."""
    return {**params, "url": document.url, "metadata_hash": document.metadata_hash_b64}
