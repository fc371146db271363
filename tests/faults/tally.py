"""The fault tally: one row per (job kind, fault, chain) with trials, jobs, units (what the jobs put on
chain: one creation per deployment, a batch's recipients), completed, duplicates and nonce gaps.

Rows are appended as JSON lines to `FAULT_TALLY_FILE` (default: a file per pytest process under /tmp)
and printed as a table at the end of the session (tests/faults/conftest.py); `make faults` shows it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

COLUMNS = ("job", "fault", "chain", "trials", "jobs", "units", "completed", "duplicates", "nonce_gaps")


def tally_path() -> Path:
    return Path(os.environ.get("FAULT_TALLY_FILE") or f"/tmp/biatec-fault-tally-{os.getpid()}.jsonl")


def tally_record(**row: object) -> None:
    with tally_path().open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def tally_rows() -> list[dict]:
    path = tally_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tally_table(rows: list[dict]) -> str:
    widths = {c: max([len(c), *(len(str(r.get(c, ""))) for r in rows)]) for c in COLUMNS}
    lines = ["| " + " | ".join(c.ljust(widths[c]) for c in COLUMNS) + " |",
             "|" + "|".join("-" * (widths[c] + 2) for c in COLUMNS) + "|"]
    lines += ["| " + " | ".join(str(r.get(c, "")).ljust(widths[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)
