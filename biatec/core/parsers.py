"""The API's JSON parser: refuses bodies nested deeper than `JSON_MAX_DEPTH` before decoding them.

Decoding deeply nested JSON recurses once per level (in C for the stdlib decoder); a 200 KB body of
100,000 `[` is enough to exhaust the stack. The depth is measured on the text with a linear scan
(strings removed first, so brackets inside them do not count) and a body over the limit answers 400
`VALIDATION_ERROR` without being decoded. The body read is capped at `DATA_UPLOAD_MAX_MEMORY_SIZE`
(413 `REQUEST_TOO_LARGE` beyond it), like Django's own `request.body`. A string or key holding U+0000
(which PostgreSQL cannot store in text or jsonb) answers 400 `VALIDATION_ERROR` with
`details.reason = NUL_CHARACTER`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from .errors import RequestTooLarge, ValidationFailed

DEFAULT_MAX_DEPTH = 64
# A JSON string: quote, then runs of ordinary characters and escapes (unrolled: linear, no backtracking).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """Whether arrays/objects in `text` nest deeper than `max_depth` (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if len(brackets) <= max_depth:
        return False
    return any(depth > max_depth for depth in accumulate(map(_DELTA.__getitem__, brackets)))


class JsonTooDeep(ValidationFailed):
    def __init__(self, max_depth: int) -> None:
        message = f"The JSON body is nested deeper than {max_depth} levels."
        super().__init__(message, details={"fields": {"non_field_errors": [message]}, "reason": "JSON_TOO_DEEP",
                                           "max_depth": max_depth})


def nul_character_path(data: Any) -> str | None:
    """The path (`a.0.b`) of the first string or key holding U+0000 in decoded JSON, else None.
    Iterative: the depth is already bounded, but the walk needs no recursion at all."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return where or "(body)"
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if "\x00" in key:
                    return path.replace("\x00", "\\u0000")
                stack.append((path, item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{index}" if where else str(index), item) for index, item in enumerate(value))
    return None


class NulCharacter(ValidationFailed):
    """PostgreSQL stores no U+0000 in text or jsonb, and no field has a use for it: refused at the
    parser for every endpoint, free-form JSON (ARC-3 metadata, properties) included."""

    def __init__(self, where: str) -> None:
        message = "Text in the JSON body may not contain the NUL character (U+0000)."
        super().__init__(message, details={"fields": {where: [message]}, "reason": "NUL_CHARACTER"})


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser (same media type, same strict constants, same ParseError) with a depth limit."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(details={"max_bytes": limit})
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        max_depth = int(getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))
        if json_depth_exceeds(text, max_depth):
            raise JsonTooDeep(max_depth)
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:  # also integers past Python's int/str digit limit
            raise ParseError(f"JSON parse error - {exc}") from None
        if "\\u0000" in text:  # the only way a NUL gets into valid JSON: the escape
            where = nul_character_path(data)
            if where is not None:
                raise NulCharacter(where)
        return data
