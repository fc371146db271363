"""Issue 20 item 7: a password change rotates the chain accounts. The ARC-76 account of the new password
becomes the user's; what the old addresses held and controlled is moved through the one pipeline
(signed by the old keys, server side), then the old sealed secrets are destroyed. Everything is read
back from the chain with the node's own clients (algosdk, web3.py)."""
import pytest
from algosdk.v2client.algod import AlgodClient
from web3 import Web3

from accounts import arc76
from accounts.models import EncryptedSecret, EvmAccount, KeyRotation, RetiredKey, SecurityEvent, User
from conftest import DEFAULT_PASSWORD
from deployments.models import Operation, Token
from tokens.chains.evm_artifacts import load_artifact

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "a different horse, battery & staple 43?"
ALGO = "algorand-localnet"


def _change_password(client, new: str = NEW_PASSWORD, current: str = DEFAULT_PASSWORD):  # noqa: ANN001, ANN202
    return client.post("/api/v1/auth/change-password", {"current_password": current, "new_password": new},
                       format="json")


def _signed_in(tokens: dict):  # noqa: ANN202
    from conftest import auth_client

    return auth_client(tokens)


def _op(client, token: Token, kind: str, body: dict) -> dict:  # noqa: ANN001
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json")
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return detail


def _retired_secrets_gone(user: User, old_secret_ids: list) -> None:
    assert not EncryptedSecret.objects.filter(pk__in=old_secret_ids).exists()
    assert not EncryptedSecret.objects.filter(owner_id=str(user.pk), purpose__startswith="retired:").exists()
    assert RetiredKey.objects.filter(rotation__user=user).exists()
    assert not RetiredKey.objects.filter(rotation__user=user, secret__isnull=False).exists()


def _holding(node: AlgodClient, address: str, asset_id: int) -> dict | None:
    try:
        return node.account_asset_info(address, asset_id)["asset-holding"]
    except Exception:  # noqa: BLE001 - 404: not opted in
        return None


def _account(node: AlgodClient, address: str) -> dict:
    return node.account_info(address)


def test_password_change_moves_an_asa_with_its_roles_and_destroys_the_old_seed(algod_devnet_node, user_factory,
                                                                                 settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    node = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    body, client = user_factory("rotation.algo")
    bob_body, bob_client = user_factory("rotation.algo.bob")
    _other_body, other_client = user_factory("rotation.algo.other")  # another organization's issuer
    old = body["algorand_address"]
    response = client.post("/api/v1/token/asa-ft/create", {
        "network": ALGO, "decimals": 0, "name": "Rotated", "unit_name": "ROT", "total": "1000",
        "freeze": old, "clawback": old}, format="json")
    assert response.status_code == 202, response.content
    token = Token.objects.get(deployment_id=response.json()["id"])
    bob = _op(client, token, "transfer", {"to": {"email": "rotation.algo.bob@example.com"}, "amount": "100"})[
        "request"]["to"]
    # Another organization's token distributed to the user by e-mail: the old address holds 50 of it.
    response = other_client.post("/api/v1/token/asa-ft/create", {
        "network": ALGO, "decimals": 0, "name": "Theirs", "unit_name": "OTH", "total": "500"}, format="json")
    assert response.status_code == 202, response.content
    theirs = Token.objects.get(deployment_id=response.json()["id"])
    assert theirs.organization_id != token.organization_id
    _op(other_client, theirs, "transfer", {"to": {"email": "rotation.algo@example.com"}, "amount": "50"})
    user = User.objects.get(pk=body["id"])
    old_secret_ids = [user.arc76_secret_id, *EvmAccount.objects.filter(user=user).values_list("secret_id", flat=True)]
    old_evm = set(EvmAccount.objects.filter(user=user).values_list("address", flat=True))
    assert _account(node, old)["amount"] > 0

    answer = _change_password(client)
    assert answer.status_code == 200, answer.content
    client = _signed_in(answer.json())

    new = arc76.algorand_address(arc76.arc76_seed("rotation.algo@example.com", NEW_PASSWORD))
    assert new != old
    user.refresh_from_db()
    assert user.algorand_address == new
    rotation = KeyRotation.objects.get(user=user)
    assert rotation.status == KeyRotation.Status.COMPLETED, rotation.moves
    moves = [(m["kind"], m["status"]) for m in rotation.moves if m.get("network", ALGO) == ALGO]
    assert moves == [("transfer", "completed"), ("set_roles", "completed"), ("issuer_switch", "completed"),
                     ("holder_transfer", "completed"), ("native_sweep", "completed")]
    # Read from chain: the old address holds nothing and controls nothing; the new one everything.
    assert _holding(node, old, token.asset_id)["amount"] == 0
    assert _holding(node, new, token.asset_id)["amount"] == 900
    assert _holding(node, bob, token.asset_id)["amount"] == 100  # other holders are not touched
    params = node.asset_info(token.asset_id)["params"]
    assert {r: params.get(r) for r in ("manager", "reserve", "freeze", "clawback")} == {
        "manager": new, "reserve": new, "freeze": new, "clawback": new}
    # The other issuer's token: moved whole, and the old account opted out of it (close-out to the new one).
    assert _holding(node, old, theirs.asset_id) is None
    assert _holding(node, new, theirs.asset_id)["amount"] == 50
    # The native coin: the old account created an asset that still exists, so the protocol forbids
    # closing it (and closing out of its own asset): it keeps exactly its minimum balance, 100,000
    # microALGO for the account + 100,000 for its one asset holding (its own asset, at 0), nothing more.
    account = _account(node, old)
    assert [(a["asset-id"], a["amount"]) for a in account.get("assets", [])] == [(token.asset_id, 0)]
    assert account["min-balance"] == 200_000
    assert account["amount"] == 200_000
    assert _account(node, new)["amount"] > 0
    # The moves were signed by the old key: its transactions' sender is the old address.
    moved = Operation.objects.filter(request__key_rotation=str(rotation.pk))
    assert {tx.sender for op in moved for tx in op.transactions.all()} == {old}
    sweep = moved.get(kind="native_sweep")
    assert sweep.token_id is None and sweep.status == "completed"
    assert sweep.results["left"] == "200000" and sweep.results["closed"] is False
    held = moved.get(token=theirs)  # the holder's organization's operation, not the issuer's
    assert held.kind == "transfer" and held.organization_id == token.organization_id
    assert other_client.get(f"/api/v1/tokens/{theirs.pk}/operations/{held.pk}").status_code == 404
    _retired_secrets_gone(user, old_secret_ids)
    assert not EvmAccount.objects.filter(user=user, address__in=old_evm).exists()
    assert SecurityEvent.objects.filter(user=user, event_type=SecurityEvent.Type.KEY_DESTROYED).count() == len(
        old_secret_ids)
    assert not [e for e in rotation.left_behind if e["blocking"]], rotation.left_behind
    assert [e for e in rotation.left_behind if e["network"] == ALGO] == [{
        "address": old, "network": ALGO, "native_balance": "200000", "blocking": False,
        "reason": "the protocol's minimum balance (the account cannot close)"}]

    token.refresh_from_db()
    assert token.issuer_address == new
    # Bob holds the token (another issuer's, for him) on his old address: his password change moves it
    # with his old key, then closes his old account into the new one (he created nothing): 0 is left.
    assert _change_password(bob_client).status_code == 200
    bob_rotation = KeyRotation.objects.get(user_id=bob_body["id"])
    assert bob_rotation.status == KeyRotation.Status.COMPLETED
    assert [(m["kind"], m["status"]) for m in bob_rotation.moves if m.get("network", ALGO) == ALGO] == [
        ("holder_transfer", "completed"), ("native_sweep", "completed")]
    assert not [e for e in bob_rotation.left_behind if e["blocking"]], bob_rotation.left_behind
    bob_new = arc76.algorand_address(arc76.arc76_seed("rotation.algo.bob@example.com", NEW_PASSWORD))
    assert _holding(node, bob, token.asset_id) is None
    assert _holding(node, bob_new, token.asset_id)["amount"] == 100
    bob_account = _account(node, bob)
    assert bob_account["amount"] == 0 and bob_account["min-balance"] == 0 and not bob_account.get("assets")
    assert RetiredKey.objects.get(rotation=bob_rotation, family="algorand").secret_id is None

    # The new key works for new work: a clawback signed by the new clawback address.
    _op(client, token, "forced_transfer", {"from": bob_new, "to": new, "amount": "100", "reason": "rotation check"})
    assert _holding(node, new, token.asset_id)["amount"] == 1000

    status = client.get("/api/v1/account/key-rotation").json()["rotation"]
    assert status["status"] == "completed" and status["new_algorand_address"] == new
    assert all(k["destroyed"] for k in status["retired_keys"])
    assert client.get("/api/v1/auth/profile").json()["algorand_address"] == new


def test_password_change_moves_an_erc20_balance_and_ownership(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("rotation.evm")
    _other_body, other_client = user_factory("rotation.evm.other")  # another organization's issuer
    response = client.post("/api/v1/token/erc20-mintable/create", {
        "network": "evm-local", "name": "Rotated", "symbol": "ROT", "decimals": 0, "initial_supply": "1000",
        "cap": "5000"}, format="json")
    assert response.status_code == 202, response.content
    token = Token.objects.get(deployment_id=response.json()["id"])
    response = other_client.post("/api/v1/token/erc20-preminted/create", {
        "network": "evm-local", "name": "Theirs", "symbol": "OTH", "decimals": 0, "initial_supply": "500"},
        format="json")
    assert response.status_code == 202, response.content
    theirs = Token.objects.get(deployment_id=response.json()["id"])
    assert theirs.organization_id != token.organization_id
    _op(other_client, theirs, "transfer", {"to": {"email": "rotation.evm@example.com"}, "amount": "70"})
    user = User.objects.get(pk=body["id"])
    old = token.issuer_address
    old_secret_ids = [user.arc76_secret_id, *EvmAccount.objects.filter(user=user).values_list("secret_id", flat=True)]
    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    assert w3.eth.get_balance(old) > 0  # the local faucet paid its deployment's gas

    answer = _change_password(client)
    assert answer.status_code == 200, answer.content
    client = _signed_in(answer.json())

    from eth_account import Account

    seed = arc76.arc76_seed("rotation.evm@example.com", NEW_PASSWORD)
    new = Account.from_key(arc76.evm_private_key(seed, 31337)).address
    assert new != old
    rotation = KeyRotation.objects.get(user=user)
    assert rotation.status == KeyRotation.Status.COMPLETED, rotation.moves
    assert [(m["kind"], m["status"]) for m in rotation.moves if m.get("network", "evm-local") == "evm-local"] == [
        ("transfer", "completed"), ("transfer_ownership", "completed"), ("issuer_switch", "completed"),
        ("holder_transfer", "completed"), ("native_sweep", "completed")]
    contract = w3.eth.contract(address=token.contract_address, abi=load_artifact("erc20-mintable").abi)
    other = w3.eth.contract(address=theirs.contract_address, abi=load_artifact("erc20-preminted").abi)
    # Read from chain: the old address holds nothing (no token of any issuer, 0 wei) and owns nothing.
    assert contract.functions.balanceOf(old).call() == 0
    assert contract.functions.balanceOf(new).call() == 1000
    assert contract.functions.owner().call() == new
    assert other.functions.balanceOf(old).call() == 0
    assert other.functions.balanceOf(new).call() == 70
    assert w3.eth.get_balance(old) == 0  # value = balance - 21,000 x the one gas price: exactly 0 left
    assert w3.eth.get_balance(new) > 0
    moved = Operation.objects.filter(request__key_rotation=str(rotation.pk))
    assert {tx.sender for op in moved for tx in op.transactions.all()} == {old}
    sweep = moved.get(kind="native_sweep")
    assert sweep.token_id is None and sweep.results["left"] == "0"
    assert not [e for e in rotation.left_behind if e["blocking"]], rotation.left_behind
    assert not [e for e in rotation.left_behind if e.get("network") == "evm-local"], rotation.left_behind
    _retired_secrets_gone(user, old_secret_ids)
    assert EvmAccount.objects.get(user=user, chain_id=31337).address == new
    # The new key mints (onlyOwner) through the pipeline.
    _op(client, token, "mint", {"to": new, "amount": "5"})
    assert contract.functions.balanceOf(new).call() == 1005


def test_a_frozen_holding_of_another_issuers_token_keeps_the_old_key_and_its_algo(algod_devnet_node, user_factory,
                                                                                    settings):
    """The chain would refuse the move (the issuer froze the holding): it is left behind (blocking) with
    its reason, the old Algorand key is kept, and its ALGO is not swept (it pays for moving the holding
    by hand once unfrozen); the retired EVM keys, which hold nothing, are destroyed."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    node = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    body, client = user_factory("rotation.frozen")
    other_body, other_client = user_factory("rotation.frozen.issuer")
    old = body["algorand_address"]
    response = other_client.post("/api/v1/token/asa-ft/create", {
        "network": ALGO, "decimals": 0, "name": "Frozen", "unit_name": "FRZ", "total": "100",
        "freeze": other_body["algorand_address"]}, format="json")
    assert response.status_code == 202, response.content
    theirs = Token.objects.get(deployment_id=response.json()["id"])
    _op(other_client, theirs, "transfer", {"to": {"email": "rotation.frozen@example.com"}, "amount": "30"})
    _op(other_client, theirs, "freeze", {"address": old})
    user = User.objects.get(pk=body["id"])
    before = _account(node, old)["amount"]

    assert _change_password(client).status_code == 200
    rotation = KeyRotation.objects.get(user=user)
    assert rotation.status == KeyRotation.Status.COMPLETED
    assert [(m["kind"], m["status"]) for m in rotation.moves if m.get("network", ALGO) == ALGO] == [
        ("holder_transfer", "left"), ("native_sweep", "skipped")]
    refused = [e for e in rotation.left_behind if e.get("token_id") == str(theirs.pk)]
    assert refused == [{"token_id": str(theirs.pk), "kind": "holder_transfer", "address": old, "blocking": True,
                        "reason": "KEY_ROTATION_MOVE_REFUSED", "message": refused[0]["message"]}]
    assert {"address": old, "network": ALGO, "native_balance": str(before), "blocking": False,
            "reason": "not swept"} in rotation.left_behind
    assert _holding(node, old, theirs.asset_id) == {"amount": 30, "asset-id": theirs.asset_id, "is-frozen": True}
    assert _account(node, old)["amount"] == before
    assert RetiredKey.objects.get(rotation=rotation, family="algorand").secret_id is not None
    assert not RetiredKey.objects.filter(rotation=rotation, family="evm", secret__isnull=False).exists()
    assert not Operation.objects.filter(request__key_rotation=str(rotation.pk)).exists()


def test_an_interrupted_sweep_resumes_from_its_stored_bytes(anvil_node, user_factory, settings, monkeypatch):
    """The exactly-once rule for the sweep: a pass interrupted right after the signed sweep was stored
    (before any broadcast) is resumed by the next pass from those bytes, never signed again (a second
    signature would take a new nonce and compute another amount)."""
    from biatec.core.errors import ChainUnavailable
    from deployments import pipeline
    from deployments.models import OperationTransaction
    from devchain.faucet import fund

    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("rotation.sweep")
    user = User.objects.get(pk=body["id"])
    from accounts.signing import evm_account_ensure

    old = evm_account_ensure(user=user, chain_id=31337).address
    fund(family="evm", node_url=anvil_node.url, node_token=None, address=old, amount=3 * 10**17)
    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    assert w3.eth.get_balance(old) == 3 * 10**17
    stored: list[str] = []
    original = pipeline.fault_point

    def interrupt(name: str) -> None:
        sweeps = OperationTransaction.objects.filter(operation__kind="native_sweep")
        if name == "after_store_signed" and not stored and sweeps.exists():
            stored.extend(sweeps.values_list("tx_id", flat=True))
            raise ChainUnavailable("interrupted after the signed sweep was stored")
        original(name)

    monkeypatch.setattr(pipeline, "fault_point", interrupt)

    assert _change_password(client).status_code == 200
    rotation = KeyRotation.objects.get(user=user)
    assert rotation.status == KeyRotation.Status.COMPLETED, rotation.moves
    assert [(m["kind"], m["status"]) for m in rotation.moves if m.get("network") == "evm-local"] == [
        ("native_sweep", "completed")]
    sweep = Operation.objects.get(request__key_rotation=str(rotation.pk), kind="native_sweep")
    assert len(stored) == 1
    assert list(sweep.transactions.values_list("tx_id", "status")) == [(stored[0], "confirmed")]
    assert w3.eth.get_balance(old) == 0
    new = EvmAccount.objects.get(user=user, chain_id=31337).address
    receipt = w3.eth.get_transaction_receipt(stored[0])
    sent = w3.eth.get_transaction(stored[0])
    assert sent["to"] == new and sent["value"] + receipt["gasUsed"] * receipt["effectiveGasPrice"] == 3 * 10**17
    assert not RetiredKey.objects.filter(rotation=rotation, secret__isnull=False).exists()


def test_a_second_change_while_the_first_moves_is_refused(user_factory, settings):
    body, client = user_factory("rotation.busy")
    user = User.objects.get(pk=body["id"])
    KeyRotation.objects.create(user=user, status=KeyRotation.Status.MOVING, old_algorand_address="X",
                               new_algorand_address=user.algorand_address)
    answer = _change_password(client)
    assert answer.status_code == 409 and answer.json()["code"] == "KEY_ROTATION_IN_PROGRESS"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert KeyRotation.objects.filter(user=user).count() == 1


def test_a_user_without_tokens_rotates_at_once(user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("rotation.empty")
    user = User.objects.get(pk=body["id"])
    old_secret = user.arc76_secret_id
    answer = _change_password(client)
    assert answer.status_code == 200
    user.refresh_from_db()
    assert user.algorand_address == arc76.algorand_address(arc76.arc76_seed("rotation.empty@example.com",
                                                                            NEW_PASSWORD))
    assert user.arc76_secret_id != old_secret and not EncryptedSecret.objects.filter(pk=old_secret).exists()
    rotation = KeyRotation.objects.get(user=user)
    # Nothing to move; the native sweeps (one per retired key and network with a node here) find nothing.
    assert rotation.status == KeyRotation.Status.COMPLETED
    assert {(m["kind"], m["status"]) for m in rotation.moves} <= {("native_sweep", "skipped")}
    assert user.check_password(NEW_PASSWORD)


def test_a_token_the_move_cannot_reach_keeps_its_old_key_and_the_rest_completes(user_factory, settings):
    """A token on a network without a node here: its move is left behind (blocking), the old key of that
    address is kept (destroying it would lose the token), every other old key is destroyed."""
    from accounts.models import Membership
    from accounts.signing import evm_account_ensure, retired_chain_key
    from deployments.models import DeploymentStatus
    from deployments.tests.factories import DeploymentFactory, token_of
    from tokens.networks import get_network

    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("rotation.unreachable")
    user = User.objects.get(pk=body["id"])
    old_base = evm_account_ensure(user=user, chain_id=8453).address  # base-mainnet: no node in the tests
    organization = Membership.objects.get(user=user).organization
    deployment = DeploymentFactory(organization=organization, creator=user, network="base-mainnet",
                                   status=DeploymentStatus.COMPLETED)
    token = token_of(deployment, network="base-mainnet", issuer_address=old_base, roles={"owner": old_base})
    old_algorand = user.arc76_secret_id

    assert _change_password(client).status_code == 200
    rotation = KeyRotation.objects.get(user=user)
    assert rotation.status == KeyRotation.Status.COMPLETED
    assert [(m["kind"], m["status"]) for m in rotation.moves if m["kind"] != "native_sweep"] == [
        ("transfer", "left"), ("transfer_ownership", "left"), ("issuer_switch", "left")]
    assert {m["status"] for m in rotation.moves if m["kind"] == "native_sweep"} <= {"skipped"}  # never funded
    blocking = [entry for entry in rotation.left_behind if entry["blocking"]]
    assert blocking == [{"token_id": str(token.pk), "kind": "transfer", "address": old_base, "blocking": True,
                         "reason": "NETWORK_UNAVAILABLE", "message": blocking[0]["message"]}]
    kept = RetiredKey.objects.get(rotation=rotation, address=old_base)
    assert kept.secret_id is not None and kept.destroyed_at is None
    assert not EncryptedSecret.objects.filter(pk=old_algorand).exists()
    assert RetiredKey.objects.filter(rotation=rotation, secret__isnull=True).count() == \
        RetiredKey.objects.filter(rotation=rotation).count() - 1
    token.refresh_from_db()
    assert token.issuer_address == old_base  # still the old account's: the server can still sign for it
    assert retired_chain_key(user=user, network=get_network("base-mainnet"), address=old_base).address == old_base
    status = client.get("/api/v1/account/key-rotation")
    assert status.status_code == 401  # the change revoked the tokens the client holds


def test_an_evm_key_derived_from_a_stale_user_comes_from_the_new_seed(user_factory, settings):
    """A worker holding the user as read before the password change derives from the new seed, never
    from the retired one (accounts.signing.evm_account_ensure)."""
    from eth_account import Account

    from accounts.signing import evm_account_ensure

    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("rotation.stale")
    stale = User.objects.get(pk=body["id"])
    assert _change_password(client).status_code == 200
    derived = EvmAccount.objects.get(user=stale, chain_id=31337)
    derived.delete()  # as if not derived yet
    EncryptedSecret.objects.filter(pk=derived.secret_id).delete()
    account = evm_account_ensure(user=stale, chain_id=31337)
    seed = arc76.arc76_seed("rotation.stale@example.com", NEW_PASSWORD)
    assert account.address == Account.from_key(arc76.evm_private_key(seed, 31337)).address
