"""The Algorand client against the local devnet (go-algorand's evaluator behind algod's REST API):
ASA, ARC-200 and ARC-1400 deployments signed with a registered user's ARC-76 key and read back from
the chain; re-broadcasts, leases, expiry, funding and node failures."""
from __future__ import annotations

import base64
import time
import uuid

import pytest
from algosdk import account, transaction
from algosdk.atomic_transaction_composer import AccountTransactionSigner
from algosdk.logic import get_application_address
from django.conf import settings

from accounts.models import SecurityEvent, User
from accounts.services import user_register
from accounts.signing import algorand_signer
from biatec.core.errors import (
    ChainUnavailable,
    InsufficientFunds,
    TransactionExpired,
    TransactionFailed,
    ValidationFailed,
)
from conftest import DEFAULT_PASSWORD
from tokens.chains import algorand as algo
from tokens.networks import ALGORAND, Network
from tokens.standards import STANDARDS

pytestmark = [pytest.mark.chain, pytest.mark.django_db]

DEPLOYER = "algo-deployer@example.com"
ROLE_ADDRESS = "5AHWQJ5D52K4GRW4JWQ5GMR53F7PDSJEGT4PXVFSBQYE7VXDVG3WSPWSBM"  # ARC-76 published vector


def _user(email: str = DEPLOYER) -> User:
    user, _ = user_register(email=email, password=DEFAULT_PASSWORD)
    return user


def _signer(user: User):
    """The user's key as chain code takes it (`tokens.chains.signing`)."""
    return lambda reason: algorand_signer(user=user, reason=reason)


def _validated(standard: str, data: dict) -> dict:
    serializer = STANDARDS[standard].serializer(data={"network": "algorand-localnet", **data})
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.validated_data)


def run_step(user: User, network: Network, *, standard: str, step: str, params: dict, deployment_id: str,
             app_id: int | None = None) -> tuple[algo.SignedAlgorandGroup, algo.TxStatus]:
    """What the pipeline does for one step: fund, build, sign, (store), broadcast, confirm."""
    algo.ensure_funded(network=network, address=user.algorand_address,
                       needed_microalgos=algo.step_cost(standard=standard, step=step))
    sp = algo.suggested_params(network=network)
    txns = algo.build_deployment_step(sp=sp, standard=standard, step=step, params=params,
                                      sender=user.algorand_address, deployment_id=deployment_id, app_id=app_id)
    signed = algo.sign_transactions(signer=_signer(user), txns=txns, reason=f"test {standard} {step}")
    assert algo.broadcast(network=network, raw=signed.raw) == signed.txid
    status = algo.wait_for_confirmation(network=network, txid=signed.txid, last_valid=signed.last_valid)
    assert status.state == algo.CONFIRMED
    return signed, status


def deploy_app(user: User, network: Network, standard: str, params: dict) -> tuple[int, algo.SignedAlgorandGroup]:
    deployment_id = str(uuid.uuid4())
    _, created = run_step(user, network, standard=standard, step=algo.APP_CREATE, params=params,
                          deployment_id=deployment_id)
    assert created.app_id and created.app_id > 1000
    signed, _ = run_step(user, network, standard=standard, step=algo.BOOTSTRAP, params=params,
                         deployment_id=deployment_id, app_id=created.app_id)
    return created.app_id, signed


def call(user: User, network: Network, *, app_id: int, standard: str, method: str, args: list, boxes: list,
         pay_app: int = 0) -> algo.TxStatus:
    algo.ensure_funded(network=network, address=user.algorand_address, needed_microalgos=pay_app + 2 * algo.MIN_FEE)
    sp = algo.suggested_params(network=network)
    txn = algo.build_app_call(sp=sp, sender=user.algorand_address, app_id=app_id, standard=standard,
                              method=method, args=args, boxes=boxes)
    txns = [txn]
    if pay_app:
        pay = transaction.PaymentTxn(user.algorand_address, sp, get_application_address(app_id), pay_app)
        txns = transaction.assign_group_id([pay, txn])
    signed = algo.sign_transactions(signer=_signer(user), txns=txns, reason=f"test {method}")
    algo.broadcast(network=network, raw=signed.raw)
    return algo.wait_for_confirmation(network=network, txid=signed.txid, last_valid=signed.last_valid)


# ---------------------------------------------------------------------------------------- ASA
ASA_CASES = {
    "asa-ft": {"name": "Biatec Gold Ünit", "unit_name": "BGLD", "total": "21000000000000", "decimals": 6,
               "url": "https://biatec.io/tokens/gold.json", "metadata_hash": "ab" * 32,
               "manager": ROLE_ADDRESS, "freeze": ROLE_ADDRESS, "clawback": "", "default_frozen": True},
    "asa-nft": {"name": "Biatec Art #1", "unit_name": "BART", "url": "https://biatec.io/art/1.png"},
    "asa-fnft": {"name": "Biatec Villa shares", "unit_name": "BVILLA", "decimals": 3},
}


@pytest.mark.parametrize("standard", list(ASA_CASES))
def test_asa_created_with_the_users_arc76_key_and_read_back(algorand_local: Network, standard: str) -> None:
    user = _user()
    params = _validated(standard, ASA_CASES[standard])
    before = algo.account_info(network=algorand_local, address=user.algorand_address)
    started = time.perf_counter()
    signed, status = run_step(user, algorand_local, standard=standard, step=algo.ASSET_CREATE, params=params,
                              deployment_id=str(uuid.uuid4()))
    elapsed = time.perf_counter() - started
    assert status.asset_id and status.asset_id > 1000
    assert status.confirmed_round and status.confirmed_round <= signed.last_valid
    assert signed.sender == user.algorand_address and len(signed.txids) == 1

    onchain = algo.read_asset(network=algorand_local, asset_id=status.asset_id)
    expected_total = {"asa-ft": 21_000_000_000_000, "asa-nft": 1, "asa-fnft": 1000}[standard]
    expected_decimals = {"asa-ft": 6, "asa-nft": 0, "asa-fnft": 3}[standard]
    assert onchain["creator"] == user.algorand_address
    assert onchain["name"] == params["name"]
    assert onchain["unit_name"] == params["unit_name"]
    assert onchain["total"] == expected_total
    assert onchain["decimals"] == expected_decimals
    assert onchain["url"] == params.get("url", "")
    assert onchain["metadata_hash"] == params.get("metadata_hash")
    assert onchain["default_frozen"] is (standard == "asa-ft")
    if standard == "asa-ft":
        assert onchain["metadata_hash"] == base64.b64encode(bytes.fromhex("ab" * 32)).decode()
        assert (onchain["manager"], onchain["freeze"], onchain["clawback"]) == (ROLE_ADDRESS, ROLE_ADDRESS, "")
        assert onchain["reserve"] == user.algorand_address
    else:  # defaults: creator manages and reserves, nobody freezes or claws back
        assert (onchain["manager"], onchain["reserve"]) == (user.algorand_address, user.algorand_address)
        assert (onchain["freeze"], onchain["clawback"]) == ("", "")
    after = algo.account_info(network=algorand_local, address=user.algorand_address)
    assert after["total-created-assets"] == before["total-created-assets"] + 1
    assert after["min-balance"] == max(before["min-balance"], 100_000) + 100_000  # 0 while unfunded
    print(f"\n{standard}: fund+build+sign+broadcast+confirm {elapsed * 1000:.0f} ms")


@pytest.mark.parametrize(("field", "value"), [("unit_name", "ÄÄÄÄÄ"), ("url", "https://x.io/" + "a" * 84),
                                              ("name", "N" * 33)])
def test_over_long_fields_rejected_before_signing(algorand_local: Network, field: str, value: str) -> None:
    user = _user()
    params = {**ASA_CASES["asa-ft"], field: value}
    key_uses = SecurityEvent.objects.filter(user=user, event_type=SecurityEvent.Type.KEY_USE).count()
    with pytest.raises(ValidationFailed) as err:
        algo.build_deployment_step(sp=algo.suggested_params(network=algorand_local), standard="asa-ft",
                                   step=algo.ASSET_CREATE, params=params, sender=user.algorand_address,
                                   deployment_id="d-1")
    assert err.value.code == "VALIDATION_ERROR"
    assert list(err.value.details["fields"]) == [field]
    assert SecurityEvent.objects.filter(user=user, event_type=SecurityEvent.Type.KEY_USE).count() == key_uses


def test_other_asa_limits_are_checked() -> None:
    sender = ROLE_ADDRESS
    base = {"name": "X", "unit_name": "X", "total": "1", "decimals": 0}
    cases = [({"metadata_hash": base64.b64encode(b"x" * 31).decode()}, "metadata_hash"),
             ({"decimals": 20}, "decimals"), ({"total": "0"}, "total"), ({"total": str(2**64)}, "total"),
             ({"manager": "not-an-address"}, "manager")]
    for change, field in cases:
        with pytest.raises(ValidationFailed) as err:
            algo.asset_params_check(params={**base, **change}, sender=sender)
        assert field in err.value.details["fields"], change
    with pytest.raises(ValidationFailed) as err:
        algo.asset_params_check(params={**base, "total": "10", "decimals": 0}, standard="asa-nft", sender=sender)
    assert "total" in err.value.details["fields"]
    with pytest.raises(ValidationFailed):
        algo.asset_params_check(params={**base, "total": "1000", "decimals": 2}, standard="asa-fnft", sender=sender)
    assert algo.asset_params_check(params={**base, "total": str(2**64 - 1), "decimals": 19},
                                   sender=sender)["total"] == 2**64 - 1


def test_rebroadcast_is_harmless_and_a_rebuilt_step_cannot_land_twice(algorand_local: Network) -> None:
    user = _user()
    params = _validated("asa-ft", {"name": "Once Only", "unit_name": "ONCE", "total": "100"})
    deployment_id = str(uuid.uuid4())
    signed, status = run_step(user, algorand_local, standard="asa-ft", step=algo.ASSET_CREATE, params=params,
                              deployment_id=deployment_id)
    created = algo.account_info(network=algorand_local, address=user.algorand_address)["total-created-assets"]
    # The same stored bytes again: accepted as already known, nothing new on chain.
    assert algo.broadcast(network=algorand_local, raw=signed.raw) == signed.txid
    assert algo.broadcast(network=algorand_local, raw=signed.raw) == signed.txid
    assert algo.SignedAlgorandGroup.from_raw(signed.raw) == signed
    # A transaction rebuilt and re-signed for the same step (new window, new txid) carries the same lease.
    sp = algo.suggested_params(network=algorand_local)
    again = algo.sign_transactions(signer=_signer(user), reason="rebuild", txns=algo.build_deployment_step(
        sp=sp, standard="asa-ft", step=algo.ASSET_CREATE, params=params, sender=user.algorand_address,
        deployment_id=deployment_id))
    assert again.txid != signed.txid and again.leases == signed.leases
    with pytest.raises(algo.LeaseInUse) as err:
        algo.broadcast(network=algorand_local, raw=again.raw)
    assert err.value.code == "TRANSACTION_FAILED" and "overlapping lease" in err.value.details["reason"]
    assert algo.account_info(network=algorand_local, address=user.algorand_address)[
        "total-created-assets"] == created
    assert algo.transaction_status(network=algorand_local, txid=signed.txid,
                                   last_valid=signed.last_valid).asset_id == status.asset_id


def test_transaction_past_last_valid_is_refused_and_reported_expired(
        algorand_local: Network, algod_devnet_node) -> None:
    user = _user()
    algo.ensure_funded(network=algorand_local, address=user.algorand_address, needed_microalgos=200_000)
    params = _validated("asa-nft", {"name": "Too Late", "unit_name": "LATE"})
    sp = algo.suggested_params(network=algorand_local, validity_rounds=3)
    signed = algo.sign_transactions(signer=_signer(user), reason="expiry", txns=algo.build_deployment_step(
        sp=sp, standard="asa-nft", step=algo.ASSET_CREATE, params=params, sender=user.algorand_address,
        deployment_id=str(uuid.uuid4())))
    assert signed.last_valid == signed.first_valid + 3
    status = algo.transaction_status(network=algorand_local, txid=signed.txid, last_valid=signed.last_valid)
    assert status.state == algo.PENDING  # not sent yet, still inside its window
    algod_devnet_node.advance(5)
    status = algo.transaction_status(network=algorand_local, txid=signed.txid, last_valid=signed.last_valid)
    assert status.state == algo.EXPIRED
    assert isinstance(status.error(algorand_local), TransactionExpired)
    with pytest.raises(TransactionExpired) as err:
        algo.broadcast(network=algorand_local, raw=signed.raw)
    assert err.value.code == "TRANSACTION_EXPIRED" and err.value.retryable
    assert err.value.details["last_valid"] == signed.last_valid
    with pytest.raises(TransactionExpired):
        algo.wait_for_confirmation(network=algorand_local, txid=signed.txid, last_valid=signed.last_valid)


def test_pool_error_is_reported_as_transaction_failed() -> None:
    status = algo.TxStatus("TXID", algo.FAILED, 10, 20, pool_error="overspend")
    error = status.error("algorand-localnet")
    assert isinstance(error, TransactionFailed) and error.details["reason"] == "overspend"
    assert error.code == "TRANSACTION_FAILED" and not error.retryable


# --------------------------------------------------------------------------------- ARC-200
ARC200_CASES = {
    "arc200-mintable": {"name": "Biatec Mintable", "symbol": "BMNT", "decimals": 6,
                        "initial_supply": "1000000000", "cap": "5000000000"},
    "arc200-preminted": {"name": "Biatec Preminted Ünit", "symbol": "BPRE", "decimals": 18,
                         "initial_supply": str(21 * 10**24)},
}


@pytest.mark.parametrize("standard", list(ARC200_CASES))
def test_arc200_deployed_and_read_back_from_chain(algorand_local: Network, standard: str) -> None:
    user = _user()
    receiver = account.generate_account()[1] if standard == "arc200-preminted" else None
    params = _validated(standard, {**ARC200_CASES[standard], **({"receiver": receiver} if receiver else {})})
    started = time.perf_counter()
    app_id, bootstrap = deploy_app(user, algorand_local, standard, params)
    elapsed = time.perf_counter() - started
    holder = receiver or user.algorand_address
    state = algo.read_arc200(network=algorand_local, app_id=app_id, holder=holder)
    assert state["name"] == params["name"] and state["symbol"] == params["symbol"]
    assert state["decimals"] == params["decimals"]
    assert state["total_supply"] == int(params["initial_supply"])
    assert state["holder_balance"] == int(params["initial_supply"])
    assert state["owner"] == state["creator"] == user.algorand_address
    assert state["bootstrapped"] is True and state["halted"] is None
    if standard == "arc200-mintable":
        assert state["mintable"] is True and state["cap"] == 5_000_000_000
    else:
        assert state["mintable"] is False and state["cap"] == int(params["initial_supply"])
    assert algo.get_balance(network=algorand_local, address=get_application_address(app_id)) == 128_500
    assert len(bootstrap.txids) == 2 and bootstrap.group_id

    # Re-broadcasting the stored bootstrap group changes nothing.
    assert algo.broadcast(network=algorand_local, raw=bootstrap.raw) == bootstrap.txid
    again = algo.read_arc200(network=algorand_local, app_id=app_id, holder=holder)
    assert again == state
    assert algo.get_balance(network=algorand_local, address=get_application_address(app_id)) == 128_500
    print(f"\n{standard}: app create + funded bootstrap group, end to end {elapsed * 1000:.0f} ms")


def test_arc200_transfer_above_balance_fails_on_chain(algorand_local: Network) -> None:
    user = _user()
    standard = "arc200-mintable"
    params = _validated(standard, ARC200_CASES[standard])
    app_id, _ = deploy_app(user, algorand_local, standard, params)
    other = account.generate_account()[1]
    boxes = [algo.balance_box(user.algorand_address), algo.balance_box(other)]
    with pytest.raises(TransactionFailed) as err:
        call(user, algorand_local, app_id=app_id, standard=standard, method="arc200_transfer",
             args=[other, int(params["initial_supply"]) + 1], boxes=boxes, pay_app=28_500)
    assert err.value.details["contract_error"] == "insufficient balance"
    assert "insufficient balance" in err.value.message
    assert algo.arc200_balance_of(network=algorand_local, app_id=app_id, address=other) == 0
    # Within the balance it goes through.
    call(user, algorand_local, app_id=app_id, standard=standard, method="arc200_transfer",
         args=[other, 250], boxes=boxes, pay_app=28_500)
    assert algo.arc200_balance_of(network=algorand_local, app_id=app_id, address=other) == 250
    assert algo.arc200_balance_of(network=algorand_local, app_id=app_id,
                                  address=user.algorand_address) == int(params["initial_supply"]) - 250


def test_arc1400_whitelist_halt_and_controller_transfer(algorand_local: Network) -> None:
    owner = _user()
    standard = "arc1400-mintable"
    params = _validated(standard, {"name": "Biatec Security", "symbol": "BSEC", "decimals": 0,
                                   "initial_supply": "1000", "cap": "10000"})
    app_id, _ = deploy_app(owner, algorand_local, standard, params)
    assert algo.get_balance(network=algorand_local, address=get_application_address(app_id)) == 144_600
    state = algo.read_arc200(network=algorand_local, app_id=app_id, holder=owner.algorand_address)
    assert (state["total_supply"], state["holder_balance"], state["halted"]) == (1000, 1000, False)
    assert algo.arc1400_is_whitelisted(network=algorand_local, app_id=app_id, address=owner.algorand_address)

    holder, outsider = account.generate_account()[1], account.generate_account()[1]
    me = owner.algorand_address

    def transfer(to: str, amount: int) -> algo.TxStatus:
        return call(owner, algorand_local, app_id=app_id, standard=standard, method="arc200_transfer",
                    args=[to, amount], boxes=[algo.balance_box(me), algo.balance_box(to), algo.whitelist_box(me),
                                              algo.whitelist_box(to)], pay_app=28_500)

    call(owner, algorand_local, app_id=app_id, standard=standard, method="whitelist_set", args=[holder, True],
         boxes=[algo.whitelist_box(holder)], pay_app=16_100)
    assert algo.arc1400_is_whitelisted(network=algorand_local, app_id=app_id, address=holder)
    transfer(holder, 100)  # between whitelisted holders
    assert algo.arc200_balance_of(network=algorand_local, app_id=app_id, address=holder) == 100

    with pytest.raises(TransactionFailed) as err:
        transfer(outsider, 1)
    assert err.value.details["contract_error"] == "recipient not eligible"

    call(owner, algorand_local, app_id=app_id, standard=standard, method="set_halt", args=[True], boxes=[])
    assert algo.read_arc200(network=algorand_local, app_id=app_id)["halted"] is True
    with pytest.raises(TransactionFailed) as err:
        transfer(holder, 1)
    assert err.value.details["contract_error"] == "transfers halted"

    controller_boxes = [algo.balance_box(holder), algo.balance_box(outsider)]
    with pytest.raises(TransactionFailed) as err:
        call(owner, algorand_local, app_id=app_id, standard=standard, method="arc1644_controller_transfer",
             args=[holder, outsider, 40, b""], boxes=controller_boxes, pay_app=28_500)
    assert err.value.details["contract_error"] == "justification required"
    call(owner, algorand_local, app_id=app_id, standard=standard, method="arc1644_controller_transfer",
         args=[holder, outsider, 40, b"court order 2024/17"], boxes=controller_boxes, pay_app=28_500)
    assert algo.arc200_balance_of(network=algorand_local, app_id=app_id, address=holder) == 60
    assert algo.arc200_balance_of(network=algorand_local, app_id=app_id, address=outsider) == 40

    call(owner, algorand_local, app_id=app_id, standard=standard, method="set_halt", args=[False], boxes=[])
    transfer(holder, 5)
    assert algo.arc200_balance_of(network=algorand_local, app_id=app_id, address=holder) == 65


def test_arc200_parameters_checked_before_anything_is_sent(algorand_local: Network) -> None:
    user = _user()
    sp = algo.suggested_params(network=algorand_local)
    bad = {"name": "N" * 33, "symbol": "TOOLONGSYM", "decimals": 6, "initial_supply": "10", "cap": "5"}
    with pytest.raises(ValidationFailed) as err:
        algo.build_deployment_step(sp=sp, standard="arc200-mintable", step=algo.APP_CREATE, params=bad,
                                   sender=user.algorand_address, deployment_id="d")
    assert set(err.value.details["fields"]) == {"name", "symbol", "cap"}


# ---------------------------------------------------------------------------- funding, errors
def test_costs_and_local_funding(algorand_local: Network) -> None:
    assert algo.step_cost(standard="asa-ft", step=algo.ASSET_CREATE) == 101_000
    # ARC-200: 3 uints, 5 byte slices, no extra page.
    assert algo.step_cost(standard="arc200-mintable", step=algo.APP_CREATE) == 100_000 + 3 * 28_500 + 5 * 50_000 + 1000
    assert algo.step_cost(standard="arc1400-mintable", step=algo.BOOTSTRAP) == 144_600 + 2000
    assert algo.deployment_cost(standard="arc200-preminted") == 436_500 + 128_500 + 2000
    address = account.generate_account()[1]
    buffer = settings.LOCAL_FUNDING_BUFFER_STEPS
    balance = algo.ensure_funded(network=algorand_local, address=address, needed_microalgos=50_000)
    assert balance == 150_000 + buffer * 50_000  # the minimum, what was asked, and as much for `buffer` more
    assert algo.ensure_funded(network=algorand_local, address=address, needed_microalgos=10_000) == balance


def test_shortfall_on_a_non_local_network_is_insufficient_funds(algod_devnet_node) -> None:
    remote = Network("algorand-remote-test", ALGORAND, "Remote test", genesis_id="localnet-v1")
    settings.CHAIN_NODES[remote.slug] = {"url": algod_devnet_node.url, "token": algod_devnet_node.token}
    try:
        address = account.generate_account()[1]
        with pytest.raises(InsufficientFunds) as err:
            algo.ensure_funded(network=remote, address=address, needed_microalgos=1_000)
        assert err.value.code == "INSUFFICIENT_FUNDS"
        assert err.value.details["needed_microalgos"] == 101_000
        assert err.value.details["balance_microalgos"] == 0
        assert err.value.details["address"] == address
    finally:
        settings.CHAIN_NODES.pop(remote.slug, None)


def test_node_down_is_chain_unavailable() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = Network("algorand-down-test", ALGORAND, "Down", genesis_id="localnet-v1", is_local=True)
    settings.CHAIN_NODES[down.slug] = {"url": f"http://127.0.0.1:{port}", "token": "x"}
    try:
        for attempt in (lambda: algo.suggested_params(network=down),
                        lambda: algo.transaction_status(network=down, txid="A" * 52, last_valid=10),
                        lambda: algo.broadcast(network=down, raw=_any_signed_bytes())):
            with pytest.raises(ChainUnavailable) as err:
                attempt()
            assert err.value.retryable and err.value.code == "CHAIN_UNAVAILABLE"
    finally:
        settings.CHAIN_NODES.pop(down.slug, None)


def test_wrong_api_token_is_chain_unavailable(algod_devnet_node) -> None:
    net = Network("algorand-badtoken-test", ALGORAND, "Bad token", genesis_id="localnet-v1")
    settings.CHAIN_NODES[net.slug] = {"url": algod_devnet_node.url, "token": "wrong"}
    try:
        with pytest.raises(ChainUnavailable) as err:
            algo.current_round(network=net)
        assert err.value.details["status"] == 401
    finally:
        settings.CHAIN_NODES.pop(net.slug, None)


def _any_signed_bytes() -> bytes:
    sk, address = account.generate_account()
    sp = transaction.SuggestedParams(1000, 1, 100, "mwEI4/JRLTYf2QF6nAeKYOONUsVE6TxX69g5qbnfd0A=", "localnet-v1",
                                     flat_fee=True)
    signed = AccountTransactionSigner(sk).sign_transactions([transaction.PaymentTxn(address, sp, address, 0)], [0])
    return algo.SignedAlgorandGroup.from_signed(signed).raw


def test_lease_is_deterministic_per_deployment_step_and_index() -> None:
    a = algo.lease_for(deployment_id="d1", step="bootstrap", index=0)
    assert len(a) == 32 and a == algo.lease_for(deployment_id="d1", step="bootstrap", index=0)
    assert len({a, algo.lease_for(deployment_id="d1", step="bootstrap", index=1),
                algo.lease_for(deployment_id="d2", step="bootstrap", index=0),
                algo.lease_for(deployment_id="d1", step="app_create", index=0)}) == 4
