"""CSV import of a token's allow list (`POST /api/v1/tokens/{id}/allowlist/import`, the view in
compliance/apis_holders_import.py): parsing, and the import itself through the bulk service.

The file is what the CSV export writes (`GET .../allowlist/export?format=csv`, the columns of
`holder_selectors.ENTRY_COLUMNS`), so an export imports back unchanged: a header row naming `address` or
`email` and any of the entry fields (`status`, `kyc_verified`, `kyc_provider`, `kyc_verified_at`,
`kyc_expires_at`, `investor_category`, `jurisdiction`, `reason`), in any order and case. The columns the
server sets (`id`, `token_id`, `user_id`, `added_by`, `created_at`, `updated_at`) are read and ignored; any
other column is refused. An empty cell leaves the field as it is (a new entry: its default). A cell the
export escaped against spreadsheet formulas (a leading `'`, biatec/core/csv_export.py) is read back
without the quote. At most `MAX_CSV_BYTES` (413 REQUEST_TOO_LARGE) and `MAX_CSV_ROWS` data rows (400);
blank lines are skipped.

Rows are named by `row`, counted from 1 at the first data row, and `line`, the file's line where the row
starts (the header is line 1; a quoted cell may span lines). The rows go to
`holder_services.allowlist_bulk_upsert` in one transaction: one bad row and nothing is imported."""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from biatec.audit.chain import audit_record
from biatec.core.csv_export import ESCAPE, FORMULA_PREFIXES
from biatec.core.errors import RequestTooLarge, ValidationFailed
from deployments.token_models import Token

from . import holder_services
from .holder_selectors import ENTRY_COLUMNS
from .models import AllowListEntry

MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = holder_services.MAX_BULK_ROWS
IMPORT_COLUMNS = ("address", "email", *holder_services.ENTRY_FIELDS)
IGNORED_COLUMNS = frozenset({*ENTRY_COLUMNS, "sync"} - set(IMPORT_COLUMNS))
SHOWN_NAME = 40  # characters of a refused column name repeated in an answer


@dataclass(frozen=True)
class CsvRow:
    number: int  # 1 = the first data row
    line: int  # the file's line where the row starts (the header: 1)
    values: dict[str, str] = field(default_factory=dict)  # importable columns with a non-empty cell
    problem: str = ""  # a row the header cannot read (too many cells)

    def where(self) -> dict[str, int]:
        return {"row": self.number, "line": self.line}


def _refused(message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {"file": [message]}, **details})


def csv_decode(raw: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark allowed), at most `MAX_CSV_BYTES`."""
    if len(raw) > MAX_CSV_BYTES:
        raise RequestTooLarge(f"A CSV file is at most {MAX_CSV_BYTES} bytes; nothing was imported.",
                              details={"max_bytes": MAX_CSV_BYTES})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused("The CSV file must be UTF-8.") from None


def _cell(text: str) -> str:
    if text.startswith(ESCAPE) and text[1:].lstrip(" ")[:1] in FORMULA_PREFIXES:
        text = text[1:]  # the export's protection against formulas, undone
    return text.strip()


def _shown(name: str) -> str:
    return repr(name[:SHOWN_NAME] + ("..." if len(name) > SHOWN_NAME else ""))


def _header(cells: list[str]) -> list[str]:
    names = [_cell(c).lower() for c in cells]
    unknown = [n for n in names if n not in IMPORT_COLUMNS and n not in IGNORED_COLUMNS]
    if unknown:
        raise _refused(f"Unknown columns: {', '.join(_shown(n) for n in unknown[:5])}. The header names "
                       f"`address` or `email` and any of {', '.join(holder_services.ENTRY_FIELDS)} (the CSV "
                       "export's columns).", columns=list(IMPORT_COLUMNS))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _refused(f"Columns named twice: {', '.join(_shown(n) for n in twice[:5])}.")
    if not {"address", "email"} & set(names):
        raise _refused("The header row must name an `address` or an `email` column.", columns=list(IMPORT_COLUMNS))
    return names


def csv_rows(text: str) -> list[CsvRow]:
    """The file's data rows, numbered. Raises 400 for a header that cannot be read, more than
    `MAX_CSV_ROWS` rows or text the csv module cannot read; a row's own problems are left to the caller."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[CsvRow] = []
    try:
        header = next(reader, None)
        if header is None or not any(c.strip() for c in header):
            raise _refused("The CSV file is empty: it needs a header row, then one row per entry.")
        names = _header(header)
        ends_at = reader.line_num
        for cells in reader:
            line, ends_at = ends_at + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_CSV_ROWS:
                raise _refused(f"At most {MAX_CSV_ROWS} data rows; nothing was imported.", max_rows=MAX_CSV_ROWS)
            number = len(rows) + 1
            if len(cells) > len(names):
                rows.append(CsvRow(number, line, problem=f"{len(cells)} cells, but the header names {len(names)} "
                                                         "columns."))
                continue
            values = {name: _cell(cell) for name, cell in zip(names, cells, strict=False)}
            rows.append(CsvRow(number, line, {k: v for k, v in values.items() if k in IMPORT_COLUMNS and v}))
    except csv.Error as exc:
        raise _refused(f"The CSV file cannot be read at line {reader.line_num}: {exc}.",
                       line=reader.line_num) from None
    if not rows:
        raise _refused("The CSV file has a header but no data row.")
    return rows


@transaction.atomic
def allowlist_csv_import(*, token: Token, rows: list[dict[str, Any]], raw: bytes,
                         actor: str) -> list[AllowListEntry]:
    """Add or update the validated rows all or nothing (`allowlist_bulk_upsert`: its refusals name the
    row's index in `rows`), and record the import itself (the file's size and SHA-256) in the audit log,
    next to the entries' own audit entries."""
    return allowlist_csv_import_recorded(token=token, rows=rows, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                                         actor=actor)


@transaction.atomic
def allowlist_csv_import_recorded(*, token: Token, rows: list[dict[str, Any]], size: int, sha256: str,
                                  actor: str) -> list[AllowListEntry]:
    """`allowlist_csv_import` of a file known by its size and SHA-256 (an import approved later keeps
    only those)."""
    entries = holder_services.allowlist_bulk_upsert(token=token, rows=rows, actor=actor)
    audit_record(action="import.allowlist", actor=actor, organization_id=token.organization_id,
                 object_type="token", object_id=str(token.pk),
                 payload={"rows": len(rows), "bytes": size, "sha256": sha256})
    return entries
