"""Canonical JSON: the exact bytes that are hashed and signed.

UTF-8, keys sorted, no insignificant whitespace. Values are first brought to a form that survives a
round trip through PostgreSQL `jsonb` unchanged (floats become strings: `jsonb` may print 1e+20 as
100000000000000000000; Decimal, UUID, dates become strings; NUL characters, which `jsonb` refuses,
are replaced), so a hash computed before storing equals the hash recomputed from the stored row.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def json_normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).replace("\x00", "\ufffd"): json_normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [json_normal(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if isinstance(value, (set, frozenset)) \
            else items
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, Decimal, UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


def canonical_json(value: Any) -> bytes:
    return json.dumps(json_normal(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
