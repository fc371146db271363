"""Jurisdiction rules and the block list: each rule refuses an active entry (422 naming it), a blocked
address can never be made active, rules apply on activation too, and the rules endpoint validates."""
from __future__ import annotations

from datetime import timedelta

import pytest
from algosdk.encoding import encode_address
from django.utils import timezone

from biatec.audit.models import AuditEntry
from compliance.models import AllowListEntry
from compliance.tests.allowlist_support import add, address, base, rules, token_for

ALGORAND_ADDRESS = encode_address(bytes(32))  # a valid Algorand address, computed (secret scan)

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(alice):
    return token_for(alice)


def _refused(response, code="ALLOWLIST_RULE_VIOLATION"):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == code, body
    return body["details"]["rules"]


def _ago(days):
    return (timezone.now() - timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("configured", "entry", "rule"), [
    ({"blocked_countries": ["us"]}, {"jurisdiction": "US"}, "country_not_allowed"),
    ({"allowed_countries": ["DE", "FR"]}, {"jurisdiction": "IT"}, "country_not_allowed"),
    ({"allowed_countries": ["DE"]}, {}, "country_not_allowed"),  # no jurisdiction at all
    ({"retail_allowed": False}, {"investor_category": "retail"}, "retail_not_allowed"),
    ({"kyc_required": True}, {"kyc_verified": False}, "kyc_required"),
    ({}, {"kyc_verified": True, "kyc_expires_at": _ago(1)}, "kyc_expired"),
    ({"kyc_max_age_days": 30}, {"kyc_verified": True, "kyc_verified_at": _ago(31)}, "kyc_expired"),
])
def test_each_rule_refuses_an_active_entry_and_names_itself(alice, token, configured, entry, rule):
    rules(alice, token, **configured)
    assert _refused(add(alice, token, address=address(), **entry)) == [rule]
    assert not AllowListEntry.objects.filter(token=token).exists()
    # The same investor may be recorded as suspended (not a holder), and passes once the facts are right.
    assert add(alice, token, address=address(), status="suspended", **entry).status_code == 201


def test_an_entry_that_passes_every_rule_is_added(alice, token):
    rules(alice, token, allowed_countries=["DE"], retail_allowed=False, kyc_required=True, kyc_max_age_days=365,
          max_holders=5)
    response = add(alice, token, address=address(), jurisdiction="DE", investor_category="professional",
                   kyc_verified=True, kyc_verified_at=_ago(10), kyc_expires_at=(timezone.now() + timedelta(days=300))
                   .isoformat())
    assert response.status_code == 201, response.content


def test_every_failed_rule_is_named_at_once(alice, token):
    rules(alice, token, blocked_countries=["RU"], retail_allowed=False, kyc_required=True)
    assert _refused(add(alice, token, address=address(), jurisdiction="RU")) == [
        "country_not_allowed", "retail_not_allowed", "kyc_required"]


def test_the_holder_limit_counts_active_entries(alice, token):
    rules(alice, token, max_holders=2)
    first, second = (add(alice, token, address=address()).json() for _ in range(2))
    assert _refused(add(alice, token, address=address())) == ["holder_limit_reached"]
    waiting = add(alice, token, address=address(), status="suspended").json()
    url = f"{base(token)}/allowlist/{waiting['id']}"
    assert _refused(alice.client.patch(url, {"status": "active"}, format="json")) == ["holder_limit_reached"]
    # An active entry may still be changed, and a freed place can be taken.
    assert alice.client.patch(f"{base(token)}/allowlist/{first['id']}", {"reason": "x"},
                              format="json").status_code == 200
    assert alice.client.patch(f"{base(token)}/allowlist/{second['id']}", {"status": "revoked"},
                              format="json").status_code == 200
    assert alice.client.patch(url, {"status": "active"}, format="json").status_code == 200


def test_activation_checks_the_rules_again(alice, token):
    entry = add(alice, token, address=address(), jurisdiction="US", status="suspended").json()
    rules(alice, token, blocked_countries=["US"])
    url = f"{base(token)}/allowlist/{entry['id']}"
    assert _refused(alice.client.patch(url, {"status": "active"}, format="json")) == ["country_not_allowed"]
    assert alice.client.patch(url, {"status": "active", "jurisdiction": "CA"}, format="json").status_code == 200


def test_a_blocked_address_can_never_be_made_active(alice, token):
    blocked = address()
    block = alice.client.post("/api/v1/compliance/blocklist", {"address": blocked.lower(), "category": "sanctions",
                                                               "reason": "OFAC SDN"}, format="json")
    assert block.status_code == 201, block.content
    assert block.json()["address"] == blocked and block.json()["in_force"] is True
    assert _refused(add(alice, token, address=blocked), "ADDRESS_BLOCKED") == ["blocked"]
    entry = add(alice, token, address=blocked, status="suspended").json()  # recorded, never active
    url = f"{base(token)}/allowlist/{entry['id']}"
    assert _refused(alice.client.patch(url, {"status": "active"}, format="json"), "ADDRESS_BLOCKED") == ["blocked"]
    bulk = alice.client.post(f"{base(token)}/allowlist/bulk", {"entries": [{"address": blocked, "status": "active"}]},
                           format="json")
    assert bulk.status_code == 422 and bulk.json()["code"] == "ADDRESS_BLOCKED"
    # With other rules failing too, every rule is named and the block comes first.
    rules(alice, token, kyc_required=True)
    assert _refused(alice.client.patch(url, {"status": "active"}, format="json"), "ADDRESS_BLOCKED") == [
        "blocked", "kyc_required"]
    assert AllowListEntry.objects.get(pk=entry["id"]).status == "suspended"


def test_a_block_not_yet_in_force_or_expired_does_not_block(alice, token):
    later, lapsed = address(), address()
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    for body in ({"address": later, "category": "aml", "effective_from": tomorrow},
                 {"address": lapsed, "category": "fraud", "effective_from": _ago(10), "expires_at": _ago(1)}):
        response = alice.client.post("/api/v1/compliance/blocklist", body, format="json")
        assert response.status_code == 201 and response.json()["in_force"] is False, response.content
    assert add(alice, token, address=later).status_code == 201
    assert add(alice, token, address=lapsed).status_code == 201


def test_block_list_crud_is_audited_and_validated(alice):
    url = "/api/v1/compliance/blocklist"
    for body in ({"address": "nope", "category": "fraud"}, {"address": address(), "category": "theft"},
                 {"address": address(), "category": "aml", "effective_from": _ago(1), "expires_at": _ago(2)}):
        assert alice.client.post(url, body, format="json").status_code == 400, body
    created = alice.client.post(url, {"address": address(), "category": "aml"}, format="json").json()
    algorand = alice.client.post(url, {"address": ALGORAND_ADDRESS,
                                       "category": "fraud"}, format="json")
    assert algorand.status_code == 201
    assert [b["id"] for b in alice.client.get(f"{url}?category=aml").json()["results"]] == [created["id"]]
    one = f"{url}/{created['id']}"
    assert alice.client.patch(one, {"reason": "confirmed"}, format="json").json()["reason"] == "confirmed"
    assert alice.client.delete(one).status_code == 204 and alice.client.get(one).status_code == 404
    actions = list(AuditEntry.objects.filter(object_id=created["id"]).order_by("sequence")
                   .values_list("action", flat=True))
    assert actions == ["blocklist.added", "blocklist.updated", "blocklist.removed"]


def test_jurisdiction_rules_read_replace_and_validate(alice, token):
    url = f"{base(token)}/jurisdiction-rules"
    assert alice.client.get(url).json()["configured"] is False
    body = rules(alice, token, allowed_countries=["fr", "DE", "DE"], max_holders=100, retail_allowed=False)
    assert body["allowed_countries"] == ["DE", "FR"] and body["configured"] is True and body["max_holders"] == 100
    replaced = rules(alice, token, kyc_required=True)  # PUT replaces: the rest back to defaults
    assert replaced["allowed_countries"] == [] and replaced["retail_allowed"] is True and replaced["kyc_required"]
    for bad in ({"allowed_countries": ["ZZ"]}, {"allowed_countries": ["DE"], "blocked_countries": ["DE"]},
                {"max_holders": 0}, {"kyc_max_age_days": -1}, {"allowed_countries": "DE"}):
        response = alice.client.put(url, bad, format="json")
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR", bad
    assert AuditEntry.objects.filter(action="jurisdiction_rules.changed").count() == 2
