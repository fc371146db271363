"""Hand-picked hostile inputs: raw bodies a JSON parser must refuse, and values planted in every
field of a valid body (one field at a time)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

ERROR_KEYS = {"code", "message", "details", "correlation_id"}
TEN_MB = 10 * 1024 * 1024
DIGITS = "9" * 10_000  # past Python's int/str conversion limit (4,300 digits): int() raises ValueError

# Bodies that are not acceptable JSON at all: each must answer 400 VALIDATION_ERROR.
RAW_BODIES: dict[str, bytes] = {
    "deep-nesting-10000": b"[" * 10_000 + b"]" * 10_000,
    "deep-object-nesting-10000": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "invalid-utf8": b'{"name": "\xff\xfe\xc3\x28", "reason": "\xed\xa0\x80"}',
    "integer-10000-digits": b'{"name": ' + DIGITS.encode() + b"}",
    "negative-integer-10000-digits": b'{"name": -' + DIGITS.encode() + b"}",
    "float-10000-digits": b'{"name": 0.' + DIGITS.encode() + b"e99999}",
    "nan-literal": b'{"name": NaN}',
    "infinity-literal": b'{"name": Infinity}',
    "minus-infinity-literal": b'{"name": -Infinity}',
    "truncated": b'{"name": "x',
    "lone-surrogate-escape": b'{"name": "\\ud800"}',
    "nul-byte-raw": b'{"name": "a\x00b"}',
}

# Values planted in one field of a valid body: accepted or refused cleanly, never a 500.
FIELD_VALUES: dict[str, Any] = {
    "nul-in-string": "ab\u0000cd",
    "nul-only": "\u0000",
    "digits-10000-string": DIGITS,
    "digits-10000-negative-string": "-" + DIGITS,
    "nan-string": "NaN",
    "infinity-string": "Infinity",
    "exponent-string": "1e999999",
    "huge-float": 1e308,
    "negative-zero": -0.0,
    "big-int-78-digits": int("9" * 78),
    "confusable-cyrillic": "\u0410\u0441m\u0435",  # "Acme" with Cyrillic A, s, e
    "confusable-fullwidth": "\uff21\uff23\uff2d\uff25",
    "bidi-override": "\u202eemca\u202c",
    "zero-width": "Ac\u200bme\u200d",
    "combining-marks": "A" + "\u0301" * 500,
    "astral-emoji": "\U0001f4b0" * 50,
    "nul-in-nested-key": {"a\u0000": "b"},
    "deep-but-allowed": [[[[[[[[[[1]]]]]]]]]],
    "empty-object": {},
    "null": None,
    "bool": True,
}


def leaf_paths(body: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every position in a JSON body (object keys, list indexes) holding a non-container value,
    and every container too (replacing a whole object is a test of its own)."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*prefix, key)
            if isinstance(value, (dict, list)):
                yield from leaf_paths(value, (*prefix, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield (*prefix, index)
            if isinstance(value, (dict, list)):
                yield from leaf_paths(value, (*prefix, index))


def planted(body: Any, path: tuple, value: Any) -> Any:
    """A copy of `body` with `value` at `path`."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {k: planted(v, rest, value) if k == head else v for k, v in body.items()}
    return [planted(v, rest, value) if i == head else v for i, v in enumerate(body)]

# The values that can survive validation and get to the database (run where a create is stored).
STORED_VALUES = {label: FIELD_VALUES[label] for label in (
    "nul-in-string", "nul-only", "nul-in-nested-key", "digits-10000-string", "nan-string", "huge-float",
    "confusable-cyrillic", "bidi-override", "combining-marks", "astral-emoji")}


def checked_error(response: Any, where: str) -> dict | None:
    """Never a 500; an error answer is the error shape with the header's correlation id: its body."""
    assert response.status_code < 500, f"{where}: {response.status_code} {response.content[:500]!r}"
    if response.status_code < 400:
        return None
    body = response.json()
    assert set(body) == ERROR_KEYS, f"{where}: {body}"
    assert body["correlation_id"] == response["X-Correlation-ID"], where
    return body
