"""The transfer pre-check names every failed rule: registry rules always, the live chain state
(paused, frozen, balance) when the token's node answers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance import transfer_check
from compliance.models import AllowListEntry
from compliance.tests.allowlist_support import add, address, base, rules, token_for, validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(alice):
    return token_for(alice)


@pytest.fixture
def pair(alice, token):
    sender, recipient = address(), address()
    for holder in (sender, recipient):
        assert add(alice, token, address=holder, jurisdiction="DE").status_code == 201
    return sender, recipient


@pytest.fixture
def live(monkeypatch):
    """The chain as the test sets it (token_live_state's shape)."""
    state = {"paused": False, "holders": {}}

    def fake(token, holders=()):
        found = {h: {"balance": 100, "frozen": False, **state["holders"].get(h, {})} for h in holders}
        return {"paused": state["paused"], "holders": found}

    monkeypatch.setattr(transfer_check, "token_live_state", fake)
    return state


def _set(alice, token, holder, **values):
    entry = alice.client.get(f"{base(token)}/allowlist?address={holder}").json()["results"][0]
    response = alice.client.patch(f"{base(token)}/allowlist/{entry['id']}", values, format="json")
    assert response.status_code == 200, response.content


def test_two_active_entries_may_transfer(alice, token, pair, live):
    result = validate(alice, token, *pair, amount="5")
    assert result == {"allowed": True, "rules": [], "failures": [], "chain": {"checked": True}}


def test_not_listed(alice, token, pair, live):
    result = validate(alice, token, pair[0], address())
    assert result["allowed"] is False and result["rules"] == ["not_listed"]
    assert result["failures"][0]["party"] == "to"


def test_suspended_and_revoked(alice, token, pair, live):
    _set(alice, token, pair[0], status="suspended")
    _set(alice, token, pair[1], status="revoked")
    assert validate(alice, token, *pair)["rules"] == ["suspended", "revoked"]


def test_kyc_expired(alice, token, pair, live):
    entry = AllowListEntry.objects.get(token=token, address=pair[1])  # verified, and the time has passed since
    entry.kyc_verified, entry.kyc_expires_at = True, timezone.now() - timedelta(days=1)
    entry.save()
    result = validate(alice, token, *pair)
    assert result["rules"] == ["kyc_expired"] and result["failures"][0]["party"] == "to"


def test_blocked(alice, token, pair, live):
    alice.client.post("/api/v1/compliance/blocklist", {"address": pair[1], "category": "sanctions"}, format="json")
    result = validate(alice, token, *pair)
    assert result["rules"] == ["blocked"] and result["failures"][0]["party"] == "to"


def test_country_not_allowed_after_the_rules_changed(alice, token, pair, live):
    rules(alice, token, allowed_countries=["FR"])
    result = validate(alice, token, *pair)
    assert result["rules"] == ["country_not_allowed"] and [f["party"] for f in result["failures"]] == ["from", "to"]


def test_holder_limit_reached(alice, token, pair, live):
    newcomer = address()
    add(alice, token, address=newcomer, status="suspended")
    rules(alice, token, max_holders=2)
    assert validate(alice, token, pair[0], newcomer)["rules"] == ["suspended", "holder_limit_reached"]
    assert validate(alice, token, *pair)["allowed"] is True  # an active holder is within the limit


def test_token_paused_sender_frozen_insufficient_balance_from_the_chain(alice, token, pair, live):
    live["paused"] = True
    live["holders"] = {pair[0]: {"frozen": True, "balance": 3}, pair[1]: {"frozen": True}}
    result = validate(alice, token, *pair, amount="4")
    assert result["rules"] == ["token_paused", "sender_frozen", "recipient_frozen", "insufficient_balance"]
    assert result["chain"] == {"checked": True}


def test_every_failed_rule_is_named_at_once(alice, token, pair, live):
    alice.client.post("/api/v1/compliance/blocklist", {"address": pair[0], "category": "fraud"}, format="json")
    _set(alice, token, pair[0], status="suspended")
    rules(alice, token, allowed_countries=["FR"], max_holders=1)
    live["paused"] = True
    result = validate(alice, token, pair[0], address(), amount="1000")
    assert result["rules"] == ["blocked", "suspended", "country_not_allowed", "not_listed", "holder_limit_reached",
                               "token_paused", "insufficient_balance"]


def test_the_issuer_is_exempt_from_the_holder_rules(alice, token, pair, live):
    assert validate(alice, token, token.issuer_address, pair[1])["allowed"] is True


def test_without_an_answering_node_the_registry_verdict_stands_and_says_so(alice, token, pair, settings):
    settings.CHAIN_NODES = {}
    result = validate(alice, token, *pair)
    assert result["allowed"] is True and result["chain"]["checked"] is False
    assert result["chain"]["code"] == "NETWORK_UNAVAILABLE"


@pytest.mark.parametrize("body", [{}, {"from": "0x1", "to": "0x2", "amount": "1"},
                                  {"from": "0x000000000000000000000000000000000000dead",
                                   "to": "0x000000000000000000000000000000000000dead", "amount": "0"}])
def test_a_malformed_check_is_400(alice, token, body):
    response = alice.client.post(f"{base(token)}/transfers/validate", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
