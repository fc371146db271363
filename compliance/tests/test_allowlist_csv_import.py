"""CSV import of an allow list (POST /tokens/{id}/allowlist/import): the export imports back unchanged,
all or nothing, every malformed or refused row named by its row and line, the size and row limits."""
from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from biatec.audit.models import AuditEntry
from compliance.holder_csv import MAX_CSV_BYTES
from compliance.holder_selectors import entry_row
from compliance.models import AllowListEntry
from compliance.tests.allowlist_support import add, address, base, rules, token_for

pytestmark = pytest.mark.django_db
COMPARED = ("address", "status", "kyc_verified", "kyc_provider", "kyc_verified_at", "kyc_expires_at",
            "investor_category", "jurisdiction", "reason")


@pytest.fixture
def token(alice):
    return token_for(alice)


def _import(party, token, text, content_type="text/csv"):
    body = text.encode() if isinstance(text, str) else text
    return party.client.post(f"{base(token)}/allowlist/import", body, content_type=content_type)


def _csv(*lines):
    return "\n".join(lines) + "\n"


def _entries(token):
    return {e["address"]: {k: e[k] for k in COMPARED}
            for e in (entry_row(x) for x in AllowListEntry.objects.filter(token=token))}


def test_the_export_imports_back_unchanged(alice, token):
    add(alice, token, address=address(), jurisdiction="DE", investor_category="professional", kyc_verified=True,
        kyc_provider="Onfido", kyc_verified_at="2026-01-02T03:04:05Z", kyc_expires_at="2099-01-01T00:00:00Z",
        reason="=HYPERLINK(\"x\"), with a comma\nand a new line")
    add(alice, token, address=address(), status="suspended", reason="review")
    add(alice, token, address=address(), investor_category="retail")
    exported = alice.client.get(f"{base(token)}/allowlist/export?format=csv")
    assert exported.status_code == 200
    text = exported.content.decode()
    assert "'=HYPERLINK" in text  # the export's formula escape, undone by the import

    other = token_for(alice)
    response = _import(alice, other, text)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 3
    assert _entries(other) == _entries(token)
    record = AuditEntry.objects.get(action="import.allowlist", object_id=str(other.pk))
    assert record.payload == {"rows": 3, "bytes": len(exported.content),
                              "sha256": hashlib.sha256(exported.content).hexdigest()}

    again = _import(alice, token, text)  # onto the token it came from: nothing changes
    assert again.status_code == 200, again.content
    assert {e["id"] for e in again.json()["results"]} == {str(pk) for pk in
                                                         AllowListEntry.objects.filter(token=token).values_list(
                                                             "pk", flat=True)}
    assert not AuditEntry.objects.filter(action="allowlist.updated").exists()


def test_a_listed_address_is_updated_with_the_cells_given(alice, token):
    listed = add(alice, token, address=address(), jurisdiction="DE", reason="kept").json()
    response = _import(alice, token, _csv("Address,Status,kyc_verified,reason",
                                          f"{listed['address'].lower()},suspended,true,"))
    assert response.status_code == 200, response.content
    entry = AllowListEntry.objects.get(pk=listed["id"])
    assert (entry.status, entry.kyc_verified, entry.jurisdiction, entry.reason) == ("suspended", True, "DE", "kept")


def test_one_malformed_row_in_the_middle_imports_nothing_and_is_named(alice, token):
    response = _import(alice, token, _csv("address,jurisdiction,kyc_verified",
                                          f"{address()},DE,true",
                                          "",  # a blank line: skipped, but counted in `line`
                                          f"{address()},XX,true",
                                          "0xnot-an-address,FR,maybe",
                                          f"{address()},FR,false"))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    rows = body["details"]["rows"]
    assert [(r["row"], r["line"]) for r in rows] == [(2, 4), (3, 5)]
    assert set(rows[0]["fields"]) == {"jurisdiction"}
    assert set(rows[1]["fields"]) == {"address", "kyc_verified"}
    assert body["details"]["fields"]["file"] == ["Row 2 (line 4) is malformed.", "Row 3 (line 5) is malformed."]
    assert not AllowListEntry.objects.filter(token=token).exists()
    assert not AuditEntry.objects.filter(action__in=["import.allowlist", "allowlist.added"]).exists()


def test_row_errors_are_the_bulk_endpoints(alice, token):
    rows = [{"address": address(), "kyc_verified_at": "2026-02-01T00:00:00Z", "kyc_expires_at": "2026-01-01T00:00:00Z"},
            {"address": address(), "investor_category": "nobody"}]
    bulk = alice.client.post(f"{base(token)}/allowlist/bulk", {"entries": rows}, format="json").json()
    csv_answer = _import(alice, token, _csv("address,kyc_verified_at,kyc_expires_at,investor_category",
                                            f"{rows[0]['address']},2026-02-01T00:00:00Z,2026-01-01T00:00:00Z,",
                                            f"{rows[1]['address']},,,nobody")).json()
    assert [{k: v for k, v in r.items() if k != "line"} for r in csv_answer["details"]["rows"]] == [
        {**r, "row": r["row"] + 1} for r in bulk["details"]["rows"]]


def test_a_row_of_too_many_cells_or_both_address_and_email_is_named(alice, token):
    response = _import(alice, token, _csv("address,reason", f'{address()},"two\nlines"', f"{address()},a,b"))
    assert response.status_code == 400
    assert [(r["row"], r["line"]) for r in response.json()["details"]["rows"]] == [(2, 4)]
    both = _import(alice, token, _csv("address,email", f"{address()},{alice.user.email}"))
    assert both.status_code == 400 and both.json()["details"]["rows"][0]["fields"] == {
        "address": ["Give exactly one of `address` and `email`."]}


def test_a_thousand_rows_in_one_request_are_all_imported(alice, token):
    response = _import(alice, token, _csv("address,jurisdiction", *(f"{address()},DE" for _ in range(1000))))
    assert response.status_code == 200, response.content[:500]
    assert response.json()["count"] == 1000
    assert AllowListEntry.objects.filter(token=token, jurisdiction="DE").count() == 1000


def test_more_than_a_thousand_rows_is_400(alice, token):
    response = _import(alice, token, _csv("address", *(address() for _ in range(1001))))
    assert response.status_code == 400
    assert response.json()["details"]["max_rows"] == 1000
    assert not AllowListEntry.objects.filter(token=token).exists()


def test_more_than_a_megabyte_is_413(alice, token, settings):
    big = _csv("address,reason", *(f"{address()},{'x' * 450}" for _ in range(2400)))
    assert len(big) > MAX_CSV_BYTES
    assert _import(alice, token, big).status_code == 413  # refused by its Content-Length, before the view
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * MAX_CSV_BYTES
    response = _import(alice, token, big)
    assert response.status_code == 413 and response.json()["code"] == "REQUEST_TOO_LARGE"
    assert response.json()["details"] == {"max_bytes": MAX_CSV_BYTES}
    assert not AllowListEntry.objects.filter(token=token).exists()


def test_an_unknown_column_or_a_bad_file_is_400(alice, token):
    unknown = _import(alice, token, _csv("address,shoe_size", f"{address()},44"))
    assert unknown.status_code == 400 and "'shoe_size'" in unknown.json()["message"]
    assert "file" in unknown.json()["details"]["fields"]
    assert _import(alice, token, _csv("status", "active")).status_code == 400  # no address or email column
    assert _import(alice, token, _csv("address")).status_code == 400  # no data row
    assert _import(alice, token, b"address\n\xff\xfe\n").status_code == 400  # not UTF-8
    assert _import(alice, token, b"").status_code == 400
    assert _import(alice, token, '{"entries": []}', content_type="application/json").status_code == 415
    assert not AllowListEntry.objects.filter(token=token).exists()


def test_a_blocked_address_or_a_rule_violation_is_422_naming_the_row(alice, token):
    blocked = address()
    response = alice.client.post(f"/api/v1/compliance/blocklist?organization={alice.organization.pk}",
                                 {"address": blocked, "category": "sanctions"}, format="json")
    assert response.status_code == 201, response.content
    refused = _import(alice, token, _csv("address,jurisdiction", f"{address()},DE", f"{blocked},DE"))
    assert refused.status_code == 422, refused.content
    body = refused.json()
    assert body["code"] == "ADDRESS_BLOCKED"
    assert [(r["row"], r["line"], r["rules"]) for r in body["details"]["rows"]] == [(2, 3, ["blocked"])]

    rules(alice, token, blocked_countries=["KP"])
    refused = _import(alice, token, _csv("address,jurisdiction", f"{address()},DE", f"{address()},DE",
                                         f"{address()},KP"))
    assert refused.status_code == 422 and refused.json()["code"] == "ALLOWLIST_RULE_VIOLATION"
    assert [(r["row"], r["line"], r["rules"]) for r in refused.json()["details"]["rows"]] == [
        (3, 4, ["country_not_allowed"])]
    twice = address()
    duplicate = _import(alice, token, _csv("address", address(), twice, address(), twice.lower()))
    assert duplicate.status_code == 422 and duplicate.json()["code"] == "DUPLICATE_ADDRESS"
    assert duplicate.json()["details"]["rows"] == [
        {"row": 4, "line": 5, "address": twice, "code": "DUPLICATE_ADDRESS", "same_as": {"row": 2, "line": 3},
         "message": "The same address as row 2 (line 3)."}]
    unknown = _import(alice, token, _csv("email", "nobody@example.com"))
    assert unknown.status_code == 422 and unknown.json()["details"]["rows"][0] | {"row": 1, "line": 2} == \
        unknown.json()["details"]["rows"][0]
    assert not AllowListEntry.objects.filter(token=token).exists()


def test_a_multipart_file_is_accepted(alice, token):
    upload = SimpleUploadedFile("allowlist.csv", _csv("address", address()).encode(), content_type="text/csv")
    response = alice.client.post(f"{base(token)}/allowlist/import", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1
    missing = alice.client.post(f"{base(token)}/allowlist/import", {"other": "x"}, format="multipart")
    assert missing.status_code == 400 and missing.json()["details"]["fields"] == {"other": ["Unknown field."]}


def test_a_viewer_may_not_import_and_another_organization_sees_no_token(alice, bob, token):
    assert _import(bob, token, _csv("address", address())).status_code == 404
    alice.membership.role = "viewer"
    alice.membership.save()
    assert _import(alice, token, _csv("address", address())).status_code == 403
