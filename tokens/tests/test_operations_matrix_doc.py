"""The operations matrix in docs/architecture.md (kinds x standards) is the standards table's
`operations` column: a kind added to a row, or a new row, fails here until the document says it."""
from __future__ import annotations

from pathlib import Path

from tokens.standards import STANDARDS
from tokens.standards import operations as ops

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def operations_matrix() -> str:
    slugs = list(STANDARDS)
    head = "| kind | " + " | ".join(f"`{slug}`" for slug in slugs) + " |"
    rule = "|---|" + "---|" * len(slugs)
    rows = [f"| `{kind}` | " + " | ".join("✓" if kind in STANDARDS[slug].operations else " " for slug in slugs) + " |"
            for kind in ops.KINDS]
    return "\n".join([head, rule, *rows])


def test_the_documented_matrix_is_the_standards_table():
    expected = operations_matrix()
    assert expected in DOC.read_text(encoding="utf-8"), f"docs/architecture.md should hold:\n{expected}"


def test_every_standard_supports_some_kind_and_every_kind_some_standard():
    assert all(STANDARDS[slug].operations for slug in STANDARDS)
    assert {kind for spec in STANDARDS.values() for kind in spec.operations} == set(ops.KINDS)
