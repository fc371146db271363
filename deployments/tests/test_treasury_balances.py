"""A move to the organization treasury takes the member address's balance along (issue 20 item 3,
docs/treasury.md "Moving a member's token to the treasury"): the supply the member's address holds
ends on the treasury address in the same operation as the control. Real anvil and Algorand devnet
nodes; every balance, role and owner read back with web3 / algosdk, not through the product."""
# ruff: noqa: F811  (the fixtures `team` and `node` are test_treasury's, imported)
import base64

import pytest
from algosdk.error import AlgodHTTPError
from algosdk.v2client.algod import AlgodClient
from eth_account import Account
from web3 import Web3

from accounts.models import Membership
from deployments.models import Operation, OperationTransaction, Token
from deployments.tests.test_operations_app_tokens_api import _balance as _app_balance
from deployments.tests.test_treasury import ALGO, _op, _remove, _treasury, node, team  # noqa: F401 (fixtures)
from tokens.chains import algorand as algo
from tokens.chains.evm_artifacts import load_artifact

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore:Use sign_transaction_with_signer:DeprecationWarning")]


def _deploy(client, standard: str, body: dict) -> Token:  # noqa: ANN001
    response = client.post(f"/api/v1/token/{standard}/create", {**body, "issuer_account": "member"}, format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _evm(client, standard: str) -> Token:  # noqa: ANN001
    return _deploy(client, standard, {"network": "evm-local", "name": "Supply", "symbol": "SUP", "decimals": 0,
                                      "initial_supply": "1000", "cap": "5000"})


def _contract(node_url: str, token: Token):  # noqa: ANN202
    abi = load_artifact(token.standard).abi
    return Web3(Web3.HTTPProvider(node_url)).eth.contract(address=token.contract_address, abi=abi)


def _holding(node: AlgodClient, address: str, asset_id: int) -> dict:
    try:
        return node.account_asset_info(address, asset_id)["asset-holding"]
    except AlgodHTTPError as exc:
        assert exc.code == 404
        return {"amount": 0, "is-frozen": False, "opted_in": False}


def _steps(operation_id: str) -> list[str]:
    return list(OperationTransaction.objects.filter(operation_id=operation_id).order_by("created_at")
                .values_list("step", flat=True))


def test_a_members_erc20_moves_to_the_treasury_with_its_whole_supply(anvil_node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _evm(bob_client, "erc20-mintable")
    bob = token.issuer_address
    chain = _contract(anvil_node.url, token)
    holder = Account.create().address
    _op(bob_client, token, "transfer", {"to": holder, "amount": "100"})  # a holder's tokens stay theirs
    assert chain.functions.balanceOf(bob).call() == 900

    moved = _op(alice_client, token, "transfer_ownership", {"to_treasury": True})
    treasury = _treasury(organization, "evm", 31337).address
    assert moved["request"]["balance_to_treasury"] == "900"
    assert chain.functions.owner().call() == treasury  # read back from the contract
    assert chain.functions.balanceOf(bob).call() == 0
    assert chain.functions.balanceOf(treasury).call() == 900
    assert chain.functions.balanceOf(holder).call() == 100
    assert _steps(moved["id"]) == ["treasury_balance", "transfer_ownership"]

    assert _remove(alice_client, bob_membership).status_code == 204
    other = Account.create().address
    _op(alice_client, token, "transfer", {"to": other, "amount": "25"})  # the treasury sends from its supply
    assert chain.functions.balanceOf(other).call() == 25 and chain.functions.balanceOf(treasury).call() == 875


def test_removing_a_member_moves_an_erc20_security_supply_to_an_eligible_treasury(anvil_node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _evm(bob_client, "erc20-security")
    bob = token.issuer_address
    chain = _contract(anvil_node.url, token)
    _op(bob_client, token, "freeze_partial", {"address": bob, "amount": "300"})  # a forced transfer unfreezes
    _op(bob_client, token, "pause", {})  # and ignores the pause

    response = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert response.status_code == 202, response.content
    treasury = _treasury(organization, "evm", 31337).address
    assert chain.functions.owner().call() == treasury
    assert chain.functions.isEligible(treasury).call() is True
    assert chain.functions.balanceOf(bob).call() == 0
    assert chain.functions.balanceOf(treasury).call() == 1000
    assert _steps(response.json()["operations"][0]) == ["treasury_eligible", "treasury_balance",
                                                         "transfer_ownership"]
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def test_a_paused_erc20_mintable_balance_cannot_move_and_nothing_is_queued(anvil_node, team):
    _, alice_client, bob_client, bob_membership = team
    token = _evm(bob_client, "erc20-mintable")
    _op(bob_client, token, "pause", {})
    queued = Operation.objects.count()
    refused = alice_client.post(f"/api/v1/tokens/{token.pk}/operations/transfer_ownership", {"to_treasury": True},
                                format="json")
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["code"] == "BALANCE_NOT_MOVABLE"
    assert body["details"] == {"token_id": str(token.pk), "address": token.issuer_address, "amount": "1000",
                               "reason": "paused"}
    removal = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert removal.status_code == 409 and removal.json()["code"] == "BALANCE_NOT_MOVABLE"
    assert Operation.objects.count() == queued
    assert _contract(anvil_node.url, token).functions.owner().call() == token.issuer_address
    assert Membership.objects.filter(pk=bob_membership.pk).exists()


def test_a_members_asset_moves_with_its_supply_the_treasury_opting_in(algod_devnet_node, node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _deploy(bob_client, "asa-ft", {"network": ALGO, "decimals": 0, "name": "Supply", "unit_name": "SUP",
                                           "total": "1000", "clawback": ""})  # no clawback: a plain transfer
    bob = token.issuer_address
    before = node.asset_info(token.asset_id)["params"]
    held = [r for r in ("manager", "reserve", "freeze", "clawback") if before.get(r) == bob]
    assert "clawback" not in held and {"manager", "reserve"} <= set(held)
    moved = _op(alice_client, token, "set_roles", {"to_treasury": True})
    treasury = _treasury(organization, "algorand").address
    params = node.asset_info(token.asset_id)["params"]
    assert {r: params.get(r) for r in held} == dict.fromkeys(held, treasury)
    assert not params.get("clawback")  # cleared stays cleared
    assert _holding(node, bob, token.asset_id)["amount"] == 0
    assert _holding(node, treasury, token.asset_id)["amount"] == 1000
    assert _steps(moved["id"]) == ["opt_in", "transfer", "reconfigure"]
    assert _remove(alice_client, bob_membership).status_code == 204


def test_removing_a_member_claws_a_regulated_assets_supply_back_to_the_treasury(algod_devnet_node, node,
                                                                                  team):
    organization, alice_client, bob_client, bob_membership = team
    token = _deploy(bob_client, "asa-ft", {"network": ALGO, "decimals": 0, "name": "Regulated", "unit_name": "REG",
                                           "total": "1000", "regulated": True})  # default-frozen
    bob = token.issuer_address
    response = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert response.status_code == 202, response.content
    treasury = _treasury(organization, "algorand").address
    params = node.asset_info(token.asset_id)["params"]
    assert {r: params.get(r) for r in ("manager", "reserve", "freeze", "clawback")} == dict.fromkeys(
        ("manager", "reserve", "freeze", "clawback"), treasury)
    assert _holding(node, bob, token.asset_id)["amount"] == 0
    held = _holding(node, treasury, token.asset_id)
    assert held["amount"] == 1000  # default-frozen: moved by the clawback
    assert held["is-frozen"] is False  # then unfrozen: the treasury, the new issuer, sends from it
    assert _steps(response.json()["operations"][0]) == ["opt_in", "clawback", "freeze", "reconfigure"]
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def _app_owner(node: AlgodClient, app_id: int) -> str:
    from algosdk import encoding

    for kv in node.application_info(app_id)["params"]["global-state"]:
        if base64.b64decode(kv["key"]) == b"owner":
            return str(encoding.encode_address(base64.b64decode(kv["value"]["bytes"])))
    raise AssertionError("no owner in the app's global state")




def test_removing_a_member_moves_an_arc1400_supply_to_a_whitelisted_treasury(algod_devnet_node, node,
                                                                             team):
    organization, alice_client, bob_client, bob_membership = team
    token = _deploy(bob_client, "arc1400-mintable", {"network": ALGO, "decimals": 0, "name": "Sec", "symbol": "SEC",
                                                     "initial_supply": "100", "cap": "1000"})
    bob = token.issuer_address
    response = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert response.status_code == 202, response.content
    treasury = _treasury(organization, "algorand").address
    assert _app_owner(node, token.app_id) == treasury
    assert _app_balance(node, token.app_id, bob) == 0
    assert _app_balance(node, token.app_id, treasury) == 100
    assert algo.arc1400_is_whitelisted(network=ALGO, app_id=token.app_id, address=treasury) is True
    assert _steps(response.json()["operations"][0]) == ["whitelist", "forced_transfer", "transfer_ownership"]
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def _preminted(client) -> Token:  # noqa: ANN001
    return _deploy(client, "erc20-preminted", {"network": "evm-local", "name": "Fixed", "symbol": "FIX",
                                               "decimals": 0, "initial_supply": "1000"})


def test_a_fixed_supply_erc20_blocks_the_removal_until_its_supply_is_the_treasurys(anvil_node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _preminted(bob_client)
    bob = token.issuer_address
    chain = _contract(anvil_node.url, token)
    holder = Account.create().address
    _op(bob_client, token, "transfer", {"to": holder, "amount": "150"})

    refused = _remove(alice_client, bob_membership)
    assert refused.status_code == 409 and refused.json()["code"] == "MEMBER_CONTROLS_TOKENS"
    listed = refused.json()["details"]["tokens"]
    assert [(t["token_id"], t["control"], t["movable"]) for t in listed] == [(str(token.pk), "supply", True)]

    response = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert response.status_code == 202, response.content
    treasury = _treasury(organization, "evm", 31337).address
    assert chain.functions.balanceOf(bob).call() == 0
    assert chain.functions.balanceOf(treasury).call() == 850
    assert chain.functions.balanceOf(holder).call() == 150
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()
    token.refresh_from_db()
    assert (token.issuer_account, token.issuer_address) == ("organization", treasury)
    other = Account.create().address
    _op(alice_client, token, "transfer", {"to": other, "amount": "50"})  # signed by the treasury
    assert chain.functions.balanceOf(other).call() == 50 and chain.functions.balanceOf(treasury).call() == 800


def test_a_fixed_supply_token_its_member_holds_none_of_is_switched_and_the_member_removed_at_once(anvil_node,
                                                                                                  team):
    organization, alice_client, bob_client, bob_membership = team
    token = _preminted(bob_client)
    _op(bob_client, token, "transfer", {"to": Account.create().address, "amount": "1000"})
    nothing = alice_client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", {"to_treasury": True},
                                format="json")
    assert nothing.status_code == 409 and nothing.json()["details"]["reason"] == "nothing_held"
    queued = Operation.objects.count()
    response = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert response.status_code == 204, response.content
    assert Operation.objects.count() == queued  # nothing on chain to move
    token.refresh_from_db()
    assert (token.issuer_account, token.issuer_address) == ("organization", _treasury(organization, "evm",
                                                                                        31337).address)
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def test_transfer_to_the_treasury_body_shapes_and_tokens_with_an_owner(anvil_node, team):
    _, alice_client, bob_client, _ = team
    fixed, owned = _preminted(bob_client), _evm(bob_client, "erc20-mintable")
    url = f"/api/v1/tokens/{fixed.pk}/operations/transfer"
    both = alice_client.post(url, {"to_treasury": True, "amount": "5"}, format="json")
    assert both.status_code == 400 and set(both.json()["details"]["fields"]) == {"amount"}
    neither = alice_client.post(url, {"to": Account.create().address}, format="json")
    assert neither.status_code == 400 and set(neither.json()["details"]["fields"]) == {"amount"}
    with_owner = alice_client.post(f"/api/v1/tokens/{owned.pk}/operations/transfer", {"to_treasury": True},
                                   format="json")
    assert with_owner.status_code == 409 and with_owner.json()["code"] == "MOVE_WITH_CONTROL"


def test_removing_a_member_moves_an_arc200_preminted_supply_to_the_treasury(algod_devnet_node, node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _deploy(bob_client, "arc200-preminted", {"network": ALGO, "decimals": 0, "name": "Fixed200",
                                                     "symbol": "F200", "initial_supply": "500"})
    bob = token.issuer_address
    response = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert response.status_code == 202, response.content
    treasury = _treasury(organization, "algorand").address
    assert _app_balance(node, token.app_id, bob) == 0
    assert _app_balance(node, token.app_id, treasury) == 500
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()
