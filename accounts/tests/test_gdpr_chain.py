"""GDPR erasure against a real chain (anvil): refused with 409 ACCOUNT_CONTROLS_TOKENS while the user's
address owns a token (read from the contract), 409 ACCOUNT_HOLDS_ASSETS while an address holds a
balance; once the balance is gone and ownership moved (the treasury move), the erasure goes through
and the audit chain still verifies."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from eth_account import Account

from accounts.models import User
from conftest import DEFAULT_PASSWORD
from deployments.tests.test_operations_evm import _contract, _deploy, _op

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def _erase(client):  # noqa: ANN001, ANN202
    return client.post("/api/v1/account/erase", {"password": DEFAULT_PASSWORD}, format="json")


def test_erase_refused_while_the_account_controls_or_holds_tokens(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    issuer_body, issuer = user_factory("gdpr.chain.issuer")
    holder_body, holder = user_factory("gdpr.chain.holder")
    token = _deploy(issuer)
    chain = _contract(anvil_node.url, token.contract_address, "erc20-mintable")
    assert chain.functions.owner().call() == token.issuer_address

    refused = _erase(issuer)
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["code"] == "ACCOUNT_CONTROLS_TOKENS"
    assert [(t["token_id"], t["roles"]) for t in body["details"]["tokens"]] == [
        (str(token.pk), {"owner": token.issuer_address})]
    assert body["details"]["holdings"][0]["balance"] == "1000"

    sent = _op(issuer, token, "transfer", {"to": {"email": "gdpr.chain.holder@example.com"}, "amount": "40"})
    held = _erase(holder)
    assert held.status_code == 409 and held.json()["code"] == "ACCOUNT_HOLDS_ASSETS"
    assert held.json()["details"]["holdings"] == [
        {"token_id": str(token.pk), "name": token.name, "standard": token.standard, "network": token.network,
         "chain_id": token.chain_id, "address": sent["request"]["to"], "balance": "40"}]
    assert chain.functions.balanceOf(sent["request"]["to"]).call() == 40

    # The treasury move: the issuer's balance burnt, the ownership moved to another account.
    _op(issuer, token, "burn", {"amount": "960"})
    treasury = Account.create().address
    _op(issuer, token, "transfer_ownership", {"new_owner": treasury})
    assert chain.functions.owner().call() == treasury
    done = _erase(issuer)
    assert done.status_code == 204, done.content
    erased = User.objects.get(pk=issuer_body["id"])
    assert erased.email.endswith("@invalid") and not erased.is_active
    token.refresh_from_db()
    assert token.deployment.creator_id == erased.pk  # the regulated record stays, pointing at the pseudonym
    call_command("verify_audit_chain")
    assert User.objects.get(pk=holder_body["id"]).is_active  # the holder, refused, is untouched
