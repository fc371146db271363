"""CSV exports that a spreadsheet opens as data, never as formulas (CSV injection, CWE-1236).

Every CSV the API serves goes through `csv_response` (or `csv_text`): a text cell that starts with a
character a spreadsheet treats as the start of a formula (`=`, `+`, `-`, `@`, tab, CR, LF, or their
full-width forms), also after leading spaces, is prefixed with a single quote, which spreadsheets show as
text and never evaluate. Numbers stay numbers. The csv module quotes the rest (separators, quotes, newlines).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

FORMULA_PREFIXES = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
ESCAPE = "'"


def safe_cell(value: Any) -> Any:
    """`value` as it may be written to a CSV cell: numbers unchanged, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)):  # bool included: written as True/False
        return value
    text = value if isinstance(value, str) else str(value)
    stripped = text.lstrip(" ")
    if text[:1] in FORMULA_PREFIXES or stripped[:1] in FORMULA_PREFIXES:
        return ESCAPE + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> HttpResponse:
    """An attachment `filename` holding the header and rows, every cell through `safe_cell`."""
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
