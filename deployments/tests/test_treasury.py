"""The organization treasury account (issue 20 item 3, docs/treasury.md): a token the treasury
deployed keeps working after its creator is removed; a member's token moves to the treasury on chain
(owner / manager read back from the chain) before the member can be removed, separately or in the
removal's own request. Real anvil and Algorand devnet nodes; every effect read back from the chain."""
import pytest
from algosdk.v2client.algod import AlgodClient
from eth_account import Account
from web3 import Web3

from accounts.models import EncryptedSecret, Membership, OrganizationAccount, SecurityEvent
from deployments.models import Token
from tokens.chains.evm_artifacts import load_artifact

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
ALGO = "algorand-localnet"


@pytest.fixture
def team(user_factory, settings):  # noqa: ANN001, ANN201
    """alice owns an organization; bob joined it as an issuer (two members: the default is the treasury)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    alice, alice_client = user_factory("treasury.alice")
    bob, bob_client = user_factory("treasury.bob")
    organization = Membership.objects.get(user_id=alice["id"]).organization
    bob_membership = Membership.objects.create(user_id=bob["id"], organization=organization,
                                               role=Membership.Role.ISSUER)
    for client in (alice_client, bob_client):
        client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
                           HTTP_X_ORGANIZATION_ID=str(organization.pk))
    return organization, alice_client, bob_client, bob_membership


def _evm_token(client, **extra) -> Token:  # noqa: ANN001
    response = client.post("/api/v1/token/erc20-mintable/create", {
        "network": "evm-local", "name": "Treasury", "symbol": "TRS", "decimals": 0, "initial_supply": "1000",
        "cap": "5000", **extra}, format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _asa_token(client, **extra) -> Token:  # noqa: ANN001
    response = client.post("/api/v1/token/asa-ft/create", {
        "network": ALGO, "decimals": 0, "name": "Treasury", "unit_name": "TRS", "total": "1000", **extra},
        format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _op(client, token: Token, kind: str, body: dict) -> dict:  # noqa: ANN001
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json")
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return detail


def _contract(node_url: str, address: str):  # noqa: ANN202
    return Web3(Web3.HTTPProvider(node_url)).eth.contract(address=address, abi=load_artifact("erc20-mintable").abi)


def _remove(client, membership: Membership, **query):  # noqa: ANN001, ANN202
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return client.delete(f"/api/v1/organizations/{membership.organization_id}/members/{membership.pk}{suffix}")


def _treasury(organization, family: str, chain_id: int = 0) -> OrganizationAccount:  # noqa: ANN001
    return OrganizationAccount.objects.get(organization=organization, family=family, chain_id=chain_id)


def test_a_treasury_token_is_minted_from_after_its_creator_was_removed(anvil_node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _evm_token(bob_client)  # no issuer_account: two members, so the organization's treasury
    treasury = _treasury(organization, "evm", 31337)
    bob_address = Membership.objects.get(pk=bob_membership.pk).user.evm_accounts.filter(chain_id=31337).first()
    assert token.issuer_account == "organization" and token.issuer_address == treasury.address
    assert token.deployment.request["issuer_account"] == "organization"
    chain = _contract(anvil_node.url, token.contract_address)
    assert chain.functions.owner().call() == treasury.address
    assert chain.functions.balanceOf(treasury.address).call() == 1000
    assert bob_address is None or bob_address.address != treasury.address  # no key of bob's was involved

    assert _remove(alice_client, bob_membership).status_code == 204  # bob's keys control nothing
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()

    holder = Account.create().address
    _op(alice_client, token, "mint", {"to": holder, "amount": "250"})
    assert chain.functions.balanceOf(holder).call() == 250 and chain.functions.totalSupply().call() == 1250
    # The treasury's key use is audited in the organization, with no user; the secret shows nowhere.
    uses = SecurityEvent.objects.filter(event_type="key_use", user=None, details__account="organization")
    assert uses.count() >= 2
    detail = alice_client.get(f"/api/v1/tokens/{token.pk}").json()
    assert detail["issuer_address"] == treasury.address
    sealed = EncryptedSecret.objects.get(pk=treasury.secret_id)
    assert bytes(sealed.ciphertext).hex() not in str(detail)


def test_a_members_evm_token_moves_to_the_treasury_then_the_member_is_removed(anvil_node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _evm_token(bob_client, issuer_account="member")
    bob_address = token.issuer_address
    assert token.issuer_account == "member"
    chain = _contract(anvil_node.url, token.contract_address)
    assert chain.functions.owner().call() == bob_address

    refused = _remove(alice_client, bob_membership)
    assert refused.status_code == 409, refused.content
    assert refused.json()["code"] == "MEMBER_CONTROLS_TOKENS"
    assert [t["token_id"] for t in refused.json()["details"]["tokens"]] == [str(token.pk)]
    assert refused.json()["details"]["tokens"][0]["issuer_address"] == bob_address
    assert Membership.objects.filter(pk=bob_membership.pk).exists()

    moved = _op(alice_client, token, "transfer_ownership", {"to_treasury": True})
    treasury = _treasury(organization, "evm", 31337)
    assert moved["request"]["new_owner"] == treasury.address
    assert chain.functions.owner().call() == treasury.address  # read back from the contract
    token.refresh_from_db()
    assert token.issuer_account == "organization" and token.issuer_address == treasury.address

    assert _remove(alice_client, bob_membership).status_code == 204
    holder = Account.create().address
    _op(alice_client, token, "mint", {"to": holder, "amount": "7"})  # signed by the treasury now
    assert chain.functions.balanceOf(holder).call() == 7
    again = alice_client.post(f"/api/v1/tokens/{token.pk}/operations/transfer_ownership", {"to_treasury": True},
                              format="json")
    assert again.status_code == 409 and again.json()["code"] == "TOKEN_IN_TREASURY"


def test_the_removal_moves_the_tokens_to_the_treasury_in_the_same_request(anvil_node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _evm_token(bob_client, issuer_account="member")
    chain = _contract(anvil_node.url, token.contract_address)
    response = _remove(alice_client, bob_membership, move_tokens_to_treasury="true")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "removal_pending" and len(response.json()["operations"]) == 1
    # The move ran (eager worker) and its completion finished the removal.
    assert chain.functions.owner().call() == _treasury(organization, "evm", 31337).address
    assert not Membership.objects.filter(pk=bob_membership.pk).exists()


def test_invalid_body_shapes_for_the_move(anvil_node, team):
    _, alice_client, bob_client, bob_membership = team
    token = _evm_token(bob_client, issuer_account="member")
    both = alice_client.post(f"/api/v1/tokens/{token.pk}/operations/transfer_ownership",
                             {"to_treasury": True, "new_owner": Account.create().address}, format="json")
    assert both.status_code == 400 and "new_owner" in both.json()["details"]["fields"]
    neither = alice_client.post(f"/api/v1/tokens/{token.pk}/operations/transfer_ownership", {}, format="json")
    assert neither.status_code == 400 and "new_owner" in neither.json()["details"]["fields"]
    bad_flag = _remove(alice_client, bob_membership, move_tokens_to_treasury="maybe")
    assert bad_flag.status_code == 400


@pytest.fixture
def node(algod_devnet_node) -> AlgodClient:  # noqa: ANN001
    return AlgodClient(algod_devnet_node.token, algod_devnet_node.url)


def test_a_members_asset_moves_to_the_treasury_then_the_member_is_removed(algod_devnet_node, node, team):
    organization, alice_client, bob_client, bob_membership = team
    token = _asa_token(bob_client, issuer_account="member")
    bob_address = token.issuer_address
    before = node.asset_info(token.asset_id)["params"]
    held = [r for r in ("manager", "reserve", "freeze", "clawback") if before.get(r) == bob_address]
    assert "manager" in held
    refused = _remove(alice_client, bob_membership)
    assert refused.status_code == 409 and refused.json()["code"] == "MEMBER_CONTROLS_TOKENS"

    _op(alice_client, token, "set_roles", {"to_treasury": True})
    treasury = _treasury(organization, "algorand")
    params = node.asset_info(token.asset_id)["params"]  # read back from algod
    assert {r: params.get(r) for r in held} == {r: treasury.address for r in held}  # every role bob held
    assert bob_address not in {params.get(r) for r in ("manager", "reserve", "freeze", "clawback")}
    assert _remove(alice_client, bob_membership).status_code == 204


def test_a_treasury_asset_keeps_working_after_its_creator_was_removed(algod_devnet_node, node, team, user_factory):
    organization, alice_client, bob_client, bob_membership = team
    token = _asa_token(bob_client)  # default: the treasury
    treasury = _treasury(organization, "algorand")
    assert node.asset_info(token.asset_id)["params"]["creator"] == treasury.address
    assert _remove(alice_client, bob_membership).status_code == 204
    carol, _ = user_factory("treasury.carol")
    _op(alice_client, token, "transfer", {"to": {"email": "treasury.carol@example.com"}, "amount": "40"})
    holding = node.account_asset_info(carol["algorand_address"], token.asset_id)["asset-holding"]
    assert holding["amount"] == 40


def test_naming_the_treasury_address_by_hand_is_a_move_too(anvil_node, team):
    from accounts.treasury import treasury_address
    from tokens.networks import get_network

    organization, alice_client, bob_client, bob_membership = team
    token = _evm_token(bob_client, issuer_account="member")
    address = treasury_address(organization_id=organization.pk, network=get_network("evm-local"))
    moved = _op(alice_client, token, "transfer_ownership", {"new_owner": address})
    assert moved["request"]["to_treasury"] is True
    assert _contract(anvil_node.url, token.contract_address).functions.owner().call() == address
    token.refresh_from_db()
    assert token.issuer_account == "organization"
    assert _remove(alice_client, bob_membership).status_code == 204
