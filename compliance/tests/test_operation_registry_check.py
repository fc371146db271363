"""The holder registry at the operations' `POST` (issue 19 item 4): a mint, transfer or batch transfer
to a recipient the registry refuses answers 422 TRANSFER_NOT_ALLOWED naming every failed rule, creates
no operation, and leaves a `transfer.denied` webhook event and audit entry although the request's
transaction rolled back. Most tests use a token with no contract behind it: the gate refuses before
the live read (a request the gate let through would fail at that read instead). One test runs on anvil."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from eth_account import Account
from web3 import Web3

from biatec.audit.models import AuditEntry
from compliance.holder_operation_gate import holder_operation_gate
from compliance.models import AllowListEntry
from compliance.tests.allowlist_support import add, address, base, rules, token_for, validate
from deployments.models import Operation, Token
from deployments.operation_services import TransferNotAllowed
from tokens.chains.evm_artifacts import load_artifact
from webhooks.models import WebhookEvent
from webhooks.services import webhook_subscription_create

MOVING = ("mint", "transfer", "batch_transfer", "forced_transfer")


@pytest.fixture
def token(alice):
    token = token_for(alice)
    assert add(alice, token, address=address(), jurisdiction="DE").status_code == 201  # the registry is in use
    return token


@pytest.fixture
def hooked(alice):
    webhook_subscription_create(organization=alice.organization, actor=alice.user, url="http://127.0.0.1:9/h",
                                event_types=["transfer.denied"])


def _post(party, token, kind, body):
    return party.client.post(f"{base(token)}/operations/{kind}", body, format="json")


def _denied(party, token, kind, body):
    response = _post(party, token, kind, body)
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == "TRANSFER_NOT_ALLOWED" and set(error) == {"code", "message", "details", "correlation_id"}
    assert not Operation.objects.filter(token=token, kind__in=MOVING).exists()  # (a registry sync may exist)
    return error["details"]


def _listed(party, token, **values):
    holder = address()
    response = add(party, token, address=holder, **{"jurisdiction": "DE", **values})
    assert response.status_code == 201, response.content
    return holder


def _transfer(to, amount="1"):
    return {"to": to, "amount": amount}


@pytest.mark.django_db
def test_a_transfer_to_a_non_listed_address_is_denied_recorded_and_sent(alice, token, hooked):
    outsider = address()
    details = _denied(alice, token, "transfer", _transfer(outsider))
    assert details["rules"] == ["not_listed"]
    assert details["recipients"] == [outsider] and details["count"] == 1
    assert [(f["address"], f["rule"]) for f in details["failures"]] == [(outsider, "not_listed")]

    [event] = WebhookEvent.objects.filter(type="transfer.denied")
    assert event.organization_id == alice.organization.pk and event.deliveries.count() == 1
    data = event.payload["data"]
    assert data["token_id"] == str(token.pk) and data["kind"] == "transfer"
    assert data["rules"] == ["not_listed"] and data["recipients"] == [outsider] and data["count"] == 1

    [entry] = AuditEntry.objects.filter(action="transfer.denied")
    assert (entry.object_type, entry.object_id) == ("token", str(token.pk))
    assert entry.actor == f"user:{alice.user.pk}" and entry.organization_id == alice.organization.pk
    assert entry.payload["rules"] == ["not_listed"] and entry.payload["recipients"] == [outsider]
    assert entry.payload["kind"] == "transfer"


@pytest.mark.django_db
def test_without_a_subscription_the_denial_is_still_audited(alice, token):
    _denied(alice, token, "mint", _transfer(address()))
    assert not WebhookEvent.objects.filter(type="transfer.denied").exists()
    assert AuditEntry.objects.filter(action="transfer.denied", object_id=str(token.pk)).count() == 1


def _suspended(alice, token):
    return _listed(alice, token, status="suspended")


def _revoked(alice, token):
    return _listed(alice, token, status="revoked")


def _kyc_expired(alice, token):
    holder = _listed(alice, token)
    entry = AllowListEntry.objects.get(token=token, address=holder)  # verified, and the expiry has passed since
    entry.kyc_verified, entry.kyc_expires_at = True, timezone.now() - timedelta(days=1)
    entry.save()
    return holder


def _kyc_missing(alice, token):
    holder = _listed(alice, token)
    rules(alice, token, kyc_required=True)
    return holder


def _blocked(alice, token):
    holder = _listed(alice, token)
    response = alice.client.post("/api/v1/compliance/blocklist", {"address": holder, "category": "sanctions"},
                                 format="json")
    assert response.status_code == 201, response.content
    return holder


def _country_not_allowed(alice, token):
    holder = _listed(alice, token)
    rules(alice, token, allowed_countries=["FR"])
    return holder


def _country_blocked(alice, token):
    holder = _listed(alice, token)
    rules(alice, token, blocked_countries=["DE"])
    return holder


def _retail_not_allowed(alice, token):
    holder = _listed(alice, token, investor_category="retail")
    rules(alice, token, retail_allowed=False)
    return holder


def _holder_limit(alice, token):
    rules(alice, token, max_holders=1)  # the fixture's entry is the one active holder
    return address()


@pytest.mark.django_db
@pytest.mark.parametrize(("setup", "kind", "expected"), [
    (_suspended, "transfer", ["suspended"]),
    (_revoked, "mint", ["revoked"]),
    (_kyc_expired, "transfer", ["kyc_expired"]),
    (_kyc_missing, "mint", ["kyc_required"]),
    (_blocked, "transfer", ["blocked"]),
    (_country_not_allowed, "transfer", ["country_not_allowed"]),
    (_country_blocked, "mint", ["country_not_allowed"]),
    (_retail_not_allowed, "transfer", ["retail_not_allowed"]),
    (_holder_limit, "transfer", ["not_listed", "holder_limit_reached"]),
])
def test_each_rule_denies_with_its_name(alice, token, hooked, setup, kind, expected):
    holder = setup(alice, token)
    details = _denied(alice, token, kind, _transfer(holder))
    assert details["rules"] == expected and details["recipients"] == [holder]
    assert [f["rule"] for f in details["failures"]] == expected
    [event] = WebhookEvent.objects.filter(type="transfer.denied")
    assert event.payload["data"]["rules"] == expected and event.payload["data"]["kind"] == kind


@pytest.mark.django_db
def test_an_active_holder_is_within_the_holder_limit(alice, token):
    holder = _listed(alice, token)
    rules(alice, token, max_holders=2)
    assert holder_operation_gate(organization=alice.organization, token=token, kind="transfer",
                                 request=_transfer(holder)) == {
        "holder_registry": {"decision": "allowed", "recipients": 1}}


@pytest.mark.django_db
def test_a_batch_with_one_bad_row_is_refused_naming_that_row(alice, token, hooked):
    good, other = _listed(alice, token), _listed(alice, token)
    bad = _suspended(alice, token)
    body = {"transfers": [_transfer(good), _transfer(bad, "2"), _transfer(other)]}
    details = _denied(alice, token, "batch_transfer", body)
    assert details["rules"] == ["suspended"] and details["recipients"] == [bad] and details["count"] == 1
    assert [(f["row"], f["address"], f["rule"]) for f in details["failures"]] == [(1, bad, "suspended")]
    assert WebhookEvent.objects.get(type="transfer.denied").payload["data"]["kind"] == "batch_transfer"


@pytest.mark.django_db
def test_a_large_batch_names_the_first_50_and_counts_all(alice, token):
    outsiders = [address() for _ in range(60)]
    details = _denied(alice, token, "batch_transfer", {"transfers": [_transfer(a) for a in outsiders]})
    assert details["recipients"] == outsiders[:50] and details["count"] == 60
    assert [f["row"] for f in details["failures"]] == list(range(50))
    assert AuditEntry.objects.get(action="transfer.denied").payload["count"] == 60


@pytest.mark.django_db
def test_every_failed_rule_of_a_recipient_is_named(alice, token):
    holder = _listed(alice, token, status="suspended", investor_category="retail")
    rules(alice, token, allowed_countries=["FR"], retail_allowed=False)
    details = _denied(alice, token, "transfer", _transfer(holder))
    assert details["rules"] == ["suspended", "country_not_allowed", "retail_not_allowed"]


@pytest.mark.django_db
def test_the_gate_applies_to_moving_kinds_only_and_exempts_the_issuer(alice, token):
    outsider = address()
    gate = {"organization": alice.organization, "token": token}
    assert holder_operation_gate(**gate, kind="freeze", request={"address": outsider}) == {}
    assert holder_operation_gate(**gate, kind="burn", request={"amount": "1"}) == {}
    assert holder_operation_gate(**gate, kind="mint", request=_transfer(token.issuer_address))[
        "holder_registry"]["decision"] == "allowed"
    listed = _listed(alice, token)
    # A forced transfer: the receiver is checked, the holder it takes from is not.
    assert holder_operation_gate(**gate, kind="forced_transfer",
                                 request={"from": outsider, "to": listed, "amount": "1"})
    with pytest.raises(TransferNotAllowed) as refused:
        holder_operation_gate(**gate, kind="forced_transfer", request={"from": listed, "to": outsider, "amount": "1"})
    assert refused.value.details["rules"] == ["not_listed"] and refused.value.details["recipients"] == [outsider]


@pytest.mark.django_db
def test_a_token_without_registry_entries_or_rules_is_unaffected(alice):
    bare = token_for(alice)
    outsider = address()
    for kind in ("mint", "transfer"):
        assert holder_operation_gate(organization=alice.organization, token=bare, kind=kind,
                                     request=_transfer(outsider)) == {}
    response = _post(alice, bare, "transfer", _transfer(outsider))
    assert response.json()["code"] != "TRANSFER_NOT_ALLOWED"  # it got past the gates to the chain read
    assert not AuditEntry.objects.filter(action="transfer.denied").exists()
    rules(alice, bare, max_holders=10)  # jurisdiction rules alone put the registry in use
    assert _denied(alice, bare, "transfer", _transfer(outsider))["rules"] == ["not_listed"]


@pytest.mark.django_db
def test_the_pre_check_stays_a_dry_run(alice, token, hooked, settings):
    settings.CHAIN_NODES = {}  # the pre-check's chain read answers "not checked"; the registry verdict stands
    assert validate(alice, token, token.issuer_address, address())["rules"] == ["not_listed"]
    assert not WebhookEvent.objects.filter(type="transfer.denied").exists()
    assert not AuditEntry.objects.filter(action="transfer.denied").exists()


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_on_chain_the_registry_decides_which_transfers_are_queued(alice, anvil_node, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    created = alice.client.post("/api/v1/token/erc20-preminted/create",
                                {"network": "evm-local", "name": "Reg", "symbol": "REG", "decimals": 0,
                                 "initial_supply": "1000"}, format="json")
    assert created.status_code == 202, created.content
    token = Token.objects.get(deployment_id=created.json()["id"])
    chain = Web3(Web3.HTTPProvider(anvil_node.url)).eth.contract(address=token.contract_address,
                                                                 abi=load_artifact("erc20-preminted").abi)
    early, outsider, investor = (Account.create().address for _ in range(3))

    def sent(to: str, amount: str) -> dict:
        response = _post(alice, token, "transfer", _transfer(to, amount))
        assert response.status_code == 202, response.content
        return alice.client.get(f"{base(token)}/operations/{response.json()['id']}").json()

    assert sent(early, "3")["status"] == "completed"  # no registry yet: the chain's rules only
    assert chain.functions.balanceOf(early).call() == 3

    assert add(alice, token, address=investor, jurisdiction="DE", kyc_verified=True).status_code == 201
    refused = _post(alice, token, "transfer", _transfer(outsider, "5"))
    assert refused.status_code == 422 and refused.json()["details"]["rules"] == ["not_listed"]
    assert chain.functions.balanceOf(outsider).call() == 0
    assert AuditEntry.objects.filter(action="transfer.denied", object_id=str(token.pk)).count() == 1

    detail = sent(investor, "7")
    assert detail["status"] == "completed", detail
    assert detail["history"][0]["facts"]["holder_registry"] == {"decision": "allowed", "recipients": 1}
    assert chain.functions.balanceOf(investor).call() == 7
    assert Operation.objects.filter(token=token, kind__in=MOVING).count() == 2
