"""Bulk add/update of allow-list entries: all or nothing, per-row errors, 1,000 rows in one request."""
from __future__ import annotations

import time

import pytest

from biatec.audit.models import AuditEntry
from compliance.models import AllowListEntry
from compliance.tests.allowlist_support import add, address, base, rules, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(alice):
    return token_for(alice)


def _bulk(party, token, entries):
    return party.client.post(f"{base(token)}/allowlist/bulk", {"entries": entries}, format="json")


def test_rows_are_added_and_a_listed_address_is_updated(alice, token):
    listed = add(alice, token, address=address(), status="suspended").json()
    fresh = address()
    response = _bulk(alice, token, [{"address": fresh, "jurisdiction": "DE"},
                                    {"address": listed["address"], "status": "active", "kyc_verified": True},
                                    {"email": alice.user.email}])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3 and body["results"][0]["address"] == fresh
    assert body["results"][1]["id"] == listed["id"] and body["results"][1]["status"] == "active"
    assert body["results"][2]["user_id"] == str(alice.user.pk)
    assert AllowListEntry.objects.filter(token=token).count() == 3
    assert AuditEntry.objects.filter(action__startswith="allowlist.").count() == 4  # 1 add, then 2 adds + 1 update


def test_one_malformed_row_writes_nothing_and_is_named(alice, token):
    response = _bulk(alice, token, [{"address": address()}, {"address": "0xnot-an-address"}, {"address": address()}])
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert [row["row"] for row in body["details"]["rows"]] == [1] and "address" in body["details"]["rows"][0]["fields"]
    assert not AllowListEntry.objects.filter(token=token).exists()


def test_one_row_refused_by_a_rule_writes_nothing_and_is_named(alice, token):
    rules(alice, token, blocked_countries=["KP"])
    response = _bulk(alice, token, [{"address": address(), "jurisdiction": "DE"},
                                    {"address": address(), "jurisdiction": "KP"}])
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "ALLOWLIST_RULE_VIOLATION"
    assert body["details"]["rows"][0]["row"] == 1 and body["details"]["rows"][0]["rules"] == ["country_not_allowed"]
    assert not AllowListEntry.objects.filter(token=token).exists()
    assert not AuditEntry.objects.filter(action__startswith="allowlist.").exists()


def test_the_holder_limit_counts_the_rows_before(alice, token):
    rules(alice, token, max_holders=2)
    response = _bulk(alice, token, [{"address": address()} for _ in range(3)])
    assert response.status_code == 422 and response.json()["details"]["rows"][0]["row"] == 2
    assert response.json()["details"]["rows"][0]["rules"] == ["holder_limit_reached"]


def test_duplicates_unknown_emails_and_size_limits(alice, token):
    twice = address()
    duplicate = _bulk(alice, token, [{"address": twice}, {"address": twice.lower()}])
    assert duplicate.status_code == 422 and duplicate.json()["code"] == "DUPLICATE_ADDRESS"
    assert duplicate.json()["details"]["rows"][0] | {"address": None} == {
        "row": 1, "address": None, "code": "DUPLICATE_ADDRESS", "same_as": 0, "message": "The same address as row 0."}
    unknown = _bulk(alice, token, [{"address": address()}, {"email": "nobody@example.com"}])
    assert unknown.status_code == 422 and unknown.json()["code"] == "RECIPIENT_NOT_FOUND"
    assert unknown.json()["details"]["rows"][0]["row"] == 1
    assert _bulk(alice, token, []).status_code == 400
    too_many = _bulk(alice, token, [{"address": address()} for _ in range(1001)])
    assert too_many.status_code == 400 and "entries" in too_many.json()["details"]["fields"]
    assert _bulk(alice, token, ["0xabc"]).status_code == 400
    assert not AllowListEntry.objects.filter(token=token).exists()


@pytest.mark.slow
def test_a_thousand_rows_in_one_request(alice, token):
    started = time.monotonic()
    response = _bulk(alice, token, [{"address": address(), "jurisdiction": "DE"} for _ in range(1000)])
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content[:500]
    assert response.json()["count"] == 1000
    assert AllowListEntry.objects.filter(token=token, status="active").count() == 1000
    print(f"bulk of 1,000 entries: {elapsed:.2f} s")
