"""Token operations on an `erc20-security` token (BiatecTokenSecurity, ERC-3643-style) through the API
and the one pipeline, on a real anvil node. Every effect is read back with plain web3.py, independently
of the product's own read-back.

Holders are made eligible through the allow list (its `allowlist_sync` operation). Where a test
changes the contract behind the product's back it sends from the issuer's own key (the owner and
first agent) with plain web3, then tells the product's nonce sequence about that transaction
(`nonce_reconcile`, the documented repair for "sent by someone else")."""
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from accounts import keyvault
from accounts.models import EvmAccount
from biatec.audit.models import AuditEntry
from deployments.models import Operation, OperationTransaction, Token
from deployments.tests.factories import operation_body
from devchain.anvil import fund
from tokens.chains.evm_artifacts import load_artifact
from tokens.chains.evm_nonces import nonce_reconcile
from tokens.networks import get_available_network

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]

STANDARD = "erc20-security"
FIXED_GAS = 300_000  # a transaction expected to fail is sent with a fixed gas limit, so it is mined


def _w3(node_url: str) -> Web3:
    return Web3(Web3.HTTPProvider(node_url))


def _contract(node_url: str, address: str) -> Any:
    return _w3(node_url).eth.contract(address=address, abi=load_artifact(STANDARD).abi)


def _deploy(client: Any) -> Token:
    request = {"network": "evm-local", "name": "Shares", "symbol": "SHR", "decimals": 0, "initial_supply": "1000",
               "cap": "5000"}
    response = client.post(f"/api/v1/token/{STANDARD}/create", request, format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _op(client: Any, token: Token, kind: str, body: dict) -> dict:
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json")
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return detail


def _refused(client: Any, token: Token, kind: str, body: dict) -> dict:
    before = (Operation.objects.count(), OperationTransaction.objects.count())
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json")
    assert response.status_code in (409, 422), response.content
    assert (Operation.objects.count(), OperationTransaction.objects.count()) == before, "a refusal queued something"
    return {"status": response.status_code, **response.json()}


def _send(node_url: str, key: Any, contract: str, function: str, *args: Any, must_fail: bool = False) -> Any:
    """Sign and send one call with plain web3 (a fixed gas limit when it must fail, so it is mined)."""
    w3 = _w3(node_url)
    call = getattr(w3.eth.contract(address=contract, abi=load_artifact(STANDARD).abi).functions, function)(*args)
    base = {"from": key.address, "nonce": w3.eth.get_transaction_count(key.address, "pending"),
            "chainId": w3.eth.chain_id, **({"gas": FIXED_GAS} if must_fail else {})}
    signed = key.sign_transaction(call.build_transaction(base))
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30)
    assert receipt["status"] == (0 if must_fail else 1), f"{function}{args}: status {receipt['status']}"
    return receipt


def _issuer_send(node_url: str, token: Token, function: str, *args: Any, must_fail: bool = False) -> None:
    """A direct transaction from the issuer's key (what the allow-list sync of issue 19 will queue)."""
    account = EvmAccount.objects.get(address=token.issuer_address, chain_id=31337)
    key = Account.from_key(keyvault.open_sealed(account.secret))
    _send(node_url, key, token.contract_address, function, *args, must_fail=must_fail)
    nonce_reconcile(network=get_available_network("evm-local"), address=token.issuer_address, allow_lower=False)


def _allow(client: Any, token: Token, *addresses: str) -> None:
    """Addresses put on the token's allow list; the sync it queues has completed (eager worker)."""
    answer = client.post(f"/api/v1/tokens/{token.pk}/allowlist/bulk",
                         {"entries": [{"address": a, "jurisdiction": "DE"} for a in addresses]}, format="json")
    assert answer.status_code == 200, answer.content
    sync = Operation.objects.filter(token=token, kind="allowlist_sync").latest("created_at")
    assert sync.status == "completed", sync.status


def test_registry_row_live_state_and_eligibility(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("sec.registry")
    token = _deploy(client)
    detail = client.get(f"/api/v1/tokens/{token.pk}").json()
    assert detail["standard"] == STANDARD and detail["roles"] == {"owner": token.issuer_address}
    assert detail["operations"] == ["mint", "burn", "transfer", "batch_transfer", "pause", "unpause", "freeze",
                                    "unfreeze", "freeze_partial", "unfreeze_partial", "forced_transfer", "recovery",
                                    "transfer_ownership"]
    assert detail["chain_state"] == {"total_supply": "1000", "circulating_supply": "0", "issuer_balance": "1000",
                                     "paused": False, "cap": "5000", "deleted": False,
                                     "roles": {"owner": token.issuer_address}}
    issuer = client.get(f"/api/v1/tokens/{token.pk}/holders/{token.issuer_address}").json()
    assert issuer == {"address": token.issuer_address, "balance": "1000", "frozen": False, "opted_in": True,
                      "eligible": True, "frozen_tokens": "0"}
    someone = Account.create().address
    assert client.get(f"/api/v1/tokens/{token.pk}/holders/{someone}").json()["eligible"] is False
    _issuer_send(anvil_node.url, token, "batchAddEligible", [someone])
    assert _contract(anvil_node.url, token.contract_address).functions.isEligible(someone).call() is True
    assert client.get(f"/api/v1/tokens/{token.pk}/holders/{someone}").json()["eligible"] is True
    for kind in ("set_roles", "destroy"):
        answer = _refused(client, token, kind, operation_body(kind, address=someone))
        assert answer["status"] == 409 and answer["code"] == "OPERATION_NOT_SUPPORTED"


def test_every_operation_on_chain(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("sec.ops")
    token = _deploy(client)
    chain = _contract(anvil_node.url, token.contract_address)
    alice, bob = Account.create(), Account.create()
    # Two holders put on the allow list: its allowlist_sync makes them eligible in the contract.
    _allow(client, token, alice.address, bob.address)
    assert all(chain.functions.isEligible(a).call() for a in (alice.address, bob.address))
    fund(anvil_node.url, alice.address, 10**17)
    fund(anvil_node.url, bob.address, 10**17)

    _op(client, token, "transfer", {"to": alice.address, "amount": "100"})
    assert chain.functions.balanceOf(alice.address).call() == 100
    _op(client, token, "mint", {"to": bob.address, "amount": "50", "reason": "series A"})
    assert chain.functions.balanceOf(bob.address).call() == 50 and chain.functions.totalSupply().call() == 1050
    _op(client, token, "batch_transfer", {"transfers": [{"to": alice.address, "amount": "10"},
                                                        {"to": bob.address, "amount": "20"}]})
    assert [chain.functions.balanceOf(a).call() for a in (alice.address, bob.address)] == [110, 70]
    assert chain.functions.balanceOf(token.issuer_address).call() == 870

    _op(client, token, "freeze", {"address": alice.address})
    assert chain.functions.isFrozen(alice.address).call() is True
    holder = client.get(f"/api/v1/tokens/{token.pk}/holders/{alice.address}").json()
    assert holder["frozen"] is True and holder["eligible"] is True and holder["balance"] == "110"
    _send(anvil_node.url, alice, token.contract_address, "transfer", bob.address, 5, must_fail=True)
    assert chain.functions.balanceOf(alice.address).call() == 110
    refused = _refused(client, token, "transfer", {"to": alice.address, "amount": "1"})
    assert refused["code"] == "HOLDER_FROZEN" and refused["details"]["addresses"] == [alice.address]

    _op(client, token, "unfreeze", {"address": alice.address})
    assert chain.functions.isFrozen(alice.address).call() is False
    _send(anvil_node.url, alice, token.contract_address, "transfer", bob.address, 5)
    assert [chain.functions.balanceOf(a).call() for a in (alice.address, bob.address)] == [105, 75]

    _op(client, token, "forced_transfer", {"from": alice.address, "to": bob.address, "amount": "30",
                                           "reason": "court order 2026/17"})
    assert [chain.functions.balanceOf(a).call() for a in (alice.address, bob.address)] == [75, 105]

    # Partial freeze: only the unfrozen part of a balance moves.
    _op(client, token, "freeze_partial", {"address": alice.address, "amount": "70"})
    assert chain.functions.getFrozenTokens(alice.address).call() == 70
    assert client.get(f"/api/v1/tokens/{token.pk}/holders/{alice.address}").json()["frozen_tokens"] == "70"
    _send(anvil_node.url, alice, token.contract_address, "transfer", bob.address, 6, must_fail=True)
    _send(anvil_node.url, alice, token.contract_address, "transfer", bob.address, 5)
    assert [chain.functions.balanceOf(a).call() for a in (alice.address, bob.address)] == [70, 110]
    refused = _refused(client, token, "freeze_partial", {"address": alice.address, "amount": "1"})
    assert refused["code"] == "FREEZE_EXCEEDS_BALANCE" and refused["details"]["frozen_tokens"] == "70"
    _op(client, token, "unfreeze_partial", {"address": alice.address, "amount": "20"})
    assert chain.functions.getFrozenTokens(alice.address).call() == 50
    assert _refused(client, token, "unfreeze_partial", {"address": alice.address,
                                                        "amount": "51"})["code"] == "UNFREEZE_EXCEEDS_FROZEN"

    # Recovery: alice lost her wallet; her whole position (and its freeze) moves to a new one, which
    # must be on the allow list first.
    carol = Account.create()
    recovery = {"lost_address": alice.address, "new_address": carol.address, "reason": "lost key, ticket 4711"}
    refused = _refused(client, token, "recovery", recovery)
    assert refused["code"] == "TRANSFER_NOT_ALLOWED" and refused["details"]["rules"] == ["not_listed"]
    _allow(client, token, carol.address)
    _op(client, token, "recovery", recovery)
    assert [chain.functions.balanceOf(a).call() for a in (alice.address, carol.address)] == [0, 70]
    assert chain.functions.getFrozenTokens(carol.address).call() == 50
    assert chain.functions.isEligible(alice.address).call() is False
    assert chain.functions.isEligible(carol.address).call() is True
    lost = client.get(f"/api/v1/tokens/{token.pk}/allowlist", {"address": alice.address}).json()["results"][0]
    assert lost["status"] == "revoked" and carol.address in lost["reason"]
    assert client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()["in_sync"] is True
    assert _refused(client, token, "recovery", recovery)["code"] == "NOTHING_TO_RECOVER"

    _op(client, token, "pause", {})
    assert chain.functions.paused().call() is True and Token.objects.get(pk=token.pk).paused is True
    _send(anvil_node.url, bob, token.contract_address, "transfer", carol.address, 1, must_fail=True)
    assert _refused(client, token, "transfer", {"to": bob.address, "amount": "1"})["code"] == "TOKEN_PAUSED"
    # As in ERC-3643 a pause stops holder transfers only: the issuer's agent operations still run.
    _op(client, token, "mint", {"to": carol.address, "amount": "1", "reason": "correction during a pause"})
    _op(client, token, "forced_transfer", {"from": carol.address, "to": bob.address, "amount": "1",
                                           "reason": "correction during a pause"})
    assert [chain.functions.balanceOf(a).call() for a in (carol.address, bob.address)] == [70, 111]
    assert chain.functions.totalSupply().call() == 1051
    _op(client, token, "unpause", {})
    assert chain.functions.paused().call() is False and Token.objects.get(pk=token.pk).paused is False

    _op(client, token, "burn", {"amount": "70"})
    assert chain.functions.totalSupply().call() == 981
    assert chain.functions.balanceOf(token.issuer_address).call() == 800

    new_owner = Account.create().address
    _op(client, token, "transfer_ownership", {"new_owner": new_owner})
    assert chain.functions.owner().call() == new_owner
    assert Token.objects.get(pk=token.pk).roles["owner"] == new_owner
    # The agent role moved with ownership: the old owner can no longer mint, freeze or force.
    assert chain.functions.isAgent(new_owner).call() is True
    assert chain.functions.isAgent(token.issuer_address).call() is False
    refused = client.post(f"/api/v1/tokens/{token.pk}/operations/mint", {"to": carol.address, "amount": "1"},
                          format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "OPERATION_NOT_SUPPORTED", refused.content
    assert client.get(f"/api/v1/tokens/{token.pk}").json()["operations"] == ["transfer", "batch_transfer"]


def test_non_eligible_recipients_are_refused_at_post_and_on_chain(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("sec.refusals")
    token = _deploy(client)
    chain = _contract(anvil_node.url, token.contract_address)
    listed, outsider = Account.create().address, Account.create().address
    _issuer_send(anvil_node.url, token, "batchAddEligible", [listed])
    _op(client, token, "transfer", {"to": listed, "amount": "1"})

    for kind, body in (("transfer", {"to": outsider, "amount": "1"}), ("mint", {"to": outsider, "amount": "1"}),
                       ("batch_transfer", {"transfers": [{"to": listed, "amount": "1"},
                                                         {"to": outsider, "amount": "1"}]}),
                       ("forced_transfer", {"from": listed, "to": outsider, "amount": "1", "reason": "x"})):
        answer = _refused(client, token, kind, body)
        assert answer["status"] == 422 and answer["code"] == "TRANSFER_NOT_ALLOWED", (kind, answer)
        assert answer["details"]["rules"] == ["not_eligible"] and answer["details"]["recipients"] == [outsider]
    assert chain.functions.balanceOf(outsider).call() == 0
    # The chain's refusal is a denial like the registry's: an audit entry each, after the rollback.
    denied = AuditEntry.objects.filter(action="transfer.denied", object_id=str(token.pk)).order_by("sequence")
    assert [e.payload["kind"] for e in denied] == ["transfer", "mint", "batch_transfer", "forced_transfer"]
    assert all(e.payload["checked_by"] == "chain" and e.payload["rules"] == ["not_eligible"] for e in denied)

    # The chain refuses the same transfer when it is sent directly with web3, not through the API.
    _issuer_send(anvil_node.url, token, "transfer", outsider, 1, must_fail=True)
    assert chain.functions.balanceOf(outsider).call() == 0
    # ... and the product's nonce sequence still lines up: the next operation completes.
    _op(client, token, "transfer", {"to": listed, "amount": "2"})
    assert chain.functions.balanceOf(listed).call() == 3

    # An issuer that is no longer eligible cannot send a holder transfer (the chain: SenderNotEligible).
    _issuer_send(anvil_node.url, token, "setEligible", token.issuer_address, False)
    answer = _refused(client, token, "transfer", {"to": listed, "amount": "1"})
    assert answer["code"] == "TRANSFER_NOT_ALLOWED" and answer["details"]["rules"] == ["sender_not_eligible"]
    assert answer["details"]["sender"] == token.issuer_address
