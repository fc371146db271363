"""Msgpack and JSON helpers shared by the devnet's ledger and HTTP views.

Transactions arrive as raw msgpack (what algod's ``POST /v2/transactions``
takes).  The devnet needs their ids *before* evaluation (duplicate and lease
checks) and algod-style JSON views of them afterwards, so both live here.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import msgpack
from algosdk import encoding

# Keys whose 32-byte values are account addresses in algod's JSON encoding.
ADDRESS_KEYS = frozenset(
    {"snd", "rcv", "close", "aclose", "arcv", "asnd", "fadd", "rekey", "apat",
     "m", "r", "f", "c", "sgnr", "hbad", "spend"}
)
_UNICODE_ERRORS = "surrogateescape"


class DecodeError(ValueError):
    """The submitted bytes are not a stream of signed transactions."""


def unpack_signed_txns(raw: bytes) -> list[dict[str, Any]]:
    """Split a concatenation of msgpack SignedTxn objects, as algod accepts."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, unicode_errors=_UNICODE_ERRORS)
    unpacker.feed(raw)
    out: list[dict[str, Any]] = []
    try:
        for obj in unpacker:
            if not isinstance(obj, dict) or not isinstance(obj.get("txn"), dict):
                raise DecodeError("msgpack decode error: object is not a SignedTxn")
            out.append(obj)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        if isinstance(exc, DecodeError):
            raise
        raise DecodeError(f"msgpack decode error: {exc}") from None
    if not out:
        raise DecodeError("msgpack decode error: empty body")
    return out


def _sorted(obj: Any) -> Any:
    """Recursively sort map keys: go-algorand's canonical msgpack order."""
    if isinstance(obj, dict):
        return {k: _sorted(obj[k]) for k in sorted(obj, key=_sort_key)}
    if isinstance(obj, list):
        return [_sorted(v) for v in obj]
    return obj


def _sort_key(key: Any) -> tuple[int, Any]:
    if isinstance(key, int):
        return (0, key)
    if isinstance(key, str):
        return (1, key.encode("utf-8", _UNICODE_ERRORS))
    return (2, key)


def canonical_pack(obj: Any) -> bytes:
    """Encode with sorted keys, as go-algorand does for hashing and signing."""
    return msgpack.packb(_sorted(obj), use_bin_type=True, unicode_errors=_UNICODE_ERRORS)


def txid_of(txn: dict[str, Any]) -> str:
    """Transaction id: base32 of SHA-512/256 over ``"TX" || canonical msgpack``."""
    digest = hashlib.new("sha512_256", b"TX" + canonical_pack(txn)).digest()
    return base64.b32encode(digest).decode().rstrip("=")


def b64(data: bytes) -> str:
    """Standard base64 text, algod's JSON encoding of byte strings."""
    return base64.b64encode(data).decode()


def to_json(obj: Any, key: str | None = None) -> Any:
    """Turn a decoded msgpack object into algod's JSON conventions.

    Byte strings become base64, except 32-byte values under address keys,
    which become checksummed base32 addresses (what algod emits for
    ``basics.Address``); strings that had invalid UTF-8 fall back to base64.
    """
    if isinstance(obj, dict):
        return {_json_key(k): to_json(v, _json_key(k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_json(v, key) for v in obj]
    if isinstance(obj, bytes):
        if key in ADDRESS_KEYS and len(obj) == 32:
            return encoding.encode_address(obj)
        return b64(obj)
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            return b64(obj.encode("utf-8", _UNICODE_ERRORS))
    return obj


def _json_key(key: Any) -> str:
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    return str(key)


def as_bytes(value: Any) -> bytes:
    """Bytes of a msgpack string field whatever type it was decoded as."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", _UNICODE_ERRORS)
