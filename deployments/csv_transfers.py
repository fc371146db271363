"""`text/csv` bodies of a batch distribution: a header row naming `address` (or `email`) and
`amount`, then up to 10,000 rows in at most 1 MB. Parsed into the JSON body's shape
(`{"transfers": [{"to": ..., "amount": ...}]}`) so the same validation applies; a malformed file
answers 400 VALIDATION_ERROR naming the rows."""
from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework.parsers import BaseParser

from biatec.core.errors import RequestTooLarge, ValidationFailed

MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 10_000


def transfers_from_csv(text: str) -> dict[str, Any]:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "amount" not in header or not ({"address", "email"} & set(header)):
        raise ValidationFailed("The CSV needs a header with `address` or `email`, and `amount`.",
                               details={"fields": {"csv": ["Header must name address|email and amount."]}})
    rows: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for number, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        if len(rows) >= MAX_CSV_ROWS:
            raise ValidationFailed(f"At most {MAX_CSV_ROWS} rows.", details={"fields": {"csv": ["Too many rows."]}})
        cells = dict(zip(header, (c.strip() for c in raw), strict=False))
        address, email = cells.get("address", ""), cells.get("email", "")
        if bool(address) == bool(email):
            errors[f"row {number}"] = ["Give exactly one of address and email."]
            continue
        rows.append({"to": address or {"email": email}, "amount": cells.get("amount", "")})
    if errors:
        raise ValidationFailed("Some rows are malformed; nothing was queued.",
                               details={"fields": dict(list(errors.items())[:100]), "row_errors": len(errors)})
    return {"transfers": rows, "_from_csv": True}


class CsvTransfersParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> dict[str, Any]:
        raw = stream.read(MAX_CSV_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_CSV_BYTES:
            raise RequestTooLarge(f"A CSV body is at most {MAX_CSV_BYTES} bytes.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("The CSV must be UTF-8.", details={"fields": {"csv": ["Not UTF-8."]}}) from None
        return transfers_from_csv(text)
