"""The devnet behaves like algod for an unmodified py-algorand-sdk client.

Each rejection test shows the devnet refusing what a real node refuses, with
the evaluator's own message; none of them needs a database.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable

import pytest
from algosdk import account, encoding, logic, transaction
from algosdk.error import AlgodHTTPError
from algosdk.v2client.algod import AlgodClient

from devchain.algod import GENESIS_HASH_B64, GENESIS_ID, DevnetError, DevnetProcess, start_devnet

from .algod_helpers import CLEAR, Account, compile_teal, rejected, submit

pytestmark = [
    pytest.mark.chain,
    pytest.mark.filterwarnings("ignore:Use sign_transaction_with_signer:DeprecationWarning"),
]

ASSERT_APP = """#pragma version 10
txn ApplicationID
bz create
txn NumAppArgs
int 1
==
assert
txna ApplicationArgs 0
byte "ok"
==
assert
create:
int 1
"""

BOX_APP = """#pragma version 10
txn ApplicationID
bz create
byte "balance"
int 32
box_create
pop
byte "balance"
int 0
byte "written"
box_replace
byte "calls"
byte "calls"
app_global_get
int 1
+
app_global_put
byte "box written"
log
int 1
return
create:
byte "name"
byte "Biatec"
app_global_put
int 1
"""


def create_app(algod: AlgodClient, creator: Account, source: str,
               global_schema: transaction.StateSchema | None = None) -> int:
    sk, addr = creator
    txn = transaction.ApplicationCreateTxn(
        addr, algod.suggested_params(), transaction.OnComplete.NoOpOC, compile_teal(algod, source),
        compile_teal(algod, CLEAR), global_schema or transaction.StateSchema(1, 1), transaction.StateSchema(0, 0))
    return submit(algod, txn.sign(sk))["application-index"]


def test_status_and_params_identify_the_localnet(algod: AlgodClient) -> None:
    sp = algod.suggested_params()
    assert sp.gen == GENESIS_ID == "localnet-v1"
    assert sp.gh == GENESIS_HASH_B64
    assert sp.first == algod.status()["last-round"]
    assert sp.min_fee == 1000


def test_payment_moves_balances(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(5_000_000)
    _, bob = account.generate_account()
    info = submit(algod, transaction.PaymentTxn(alice, algod.suggested_params(), bob, 1_000_000).sign(sk))
    assert info["confirmed-round"] > 0
    assert info["pool-error"] == ""
    assert algod.account_info(alice)["amount"] == 5_000_000 - 1_000_000 - 1000
    assert algod.account_info(bob)["amount"] == 1_000_000


def test_asa_create_returns_index_and_reads_back(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, creator = funded(1_000_000)
    mdhash = os.urandom(32)
    txn = transaction.AssetCreateTxn(
        creator, algod.suggested_params(), total=1_000_000, decimals=2, default_frozen=False, unit_name="BIA",
        asset_name="Biatec Token", manager=creator, reserve=creator, url="ipfs://bafy#arc3", metadata_hash=mdhash)
    info = submit(algod, txn.sign(sk))
    asset_id = info["asset-index"]
    params = algod.asset_info(asset_id)["params"]
    assert params["creator"] == creator
    assert (params["name"], params["unit-name"], params["url"]) == ("Biatec Token", "BIA", "ipfs://bafy#arc3")
    assert (params["total"], params["decimals"], params["manager"]) == (1_000_000, 2, creator)
    assert base64.b64decode(params["metadata-hash"]) == mdhash
    acct = algod.account_info(creator)
    assert acct["assets"] == [{"amount": 1_000_000, "asset-id": asset_id, "is-frozen": False}]
    assert acct["min-balance"] == 200_000
    second = submit(algod, transaction.AssetCreateTxn(
        creator, algod.suggested_params(), 1, 0, False, unit_name="B2", asset_name="n", note=b"2").sign(sk))
    assert second["asset-index"] > asset_id


def test_rejects_bad_signature(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    stxn = transaction.PaymentTxn(alice, algod.suggested_params(), alice, 0).sign(sk)
    sig = bytearray(base64.b64decode(stxn.signature))
    sig[0] ^= 0x01
    stxn.signature = base64.b64encode(bytes(sig)).decode()
    assert "signature" in rejected(algod, stxn)


def test_rejects_signature_by_another_key(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    _, alice = funded(1_000_000)
    mallory_sk, mallory = account.generate_account()
    txn = transaction.PaymentTxn(alice, algod.suggested_params(), mallory, 500_000)
    message = rejected(algod, txn.sign(mallory_sk))
    assert "authorized" in message or "signature" in message


def test_rejects_overspend(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    _, bob = account.generate_account()
    assert "overspend" in rejected(algod, transaction.PaymentTxn(alice, algod.suggested_params(), bob,
                                                                 2_000_000).sign(sk))
    assert algod.account_info(alice)["amount"] == 1_000_000


def test_rejects_min_balance_violation(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    _, bob = account.generate_account()
    message = rejected(algod, transaction.PaymentTxn(alice, algod.suggested_params(), bob, 950_000).sign(sk))
    assert "below min" in message


def test_rejects_expired_last_valid(algod: AlgodClient, algod_devnet: DevnetProcess,
                                    funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    sp = algod.suggested_params()
    sp.last = sp.first + 2
    stxn = transaction.PaymentTxn(alice, sp, alice, 0).sign(sk)
    algod_devnet.advance(3)
    assert algod.status()["last-round"] + 1 > sp.last
    assert "txn dead" in rejected(algod, stxn)


def test_rejects_not_yet_valid(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    sp = algod.suggested_params()
    sp.first, sp.last = sp.first + 10, sp.first + 20
    assert "txn dead" in rejected(algod, transaction.PaymentTxn(alice, sp, alice, 0).sign(sk))


def test_rejects_wrong_genesis_id(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    sp = algod.suggested_params()
    sp.gen = "testnet-v1.0"
    assert "GenesisID" in rejected(algod, transaction.PaymentTxn(alice, sp, alice, 0).sign(sk))


def test_rejects_duplicate_txid(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    _, bob = account.generate_account()
    stxn = transaction.PaymentTxn(alice, algod.suggested_params(), bob, 200_000).sign(sk)
    submit(algod, stxn)
    assert "transaction already in ledger" in rejected(algod, stxn)
    assert algod.account_info(bob)["amount"] == 200_000


def test_rejects_overlapping_lease_until_it_expires(algod: AlgodClient, algod_devnet: DevnetProcess,
                                                    funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    lease = os.urandom(32)
    sp = algod.suggested_params()
    sp.last = sp.first + 5
    submit(algod, transaction.PaymentTxn(alice, sp, alice, 0, note=b"first", lease=lease).sign(sk))
    second = transaction.PaymentTxn(alice, algod.suggested_params(), alice, 0, note=b"second", lease=lease)
    assert "overlapping lease" in rejected(algod, second.sign(sk))
    algod_devnet.advance(6)
    third = transaction.PaymentTxn(alice, algod.suggested_params(), alice, 0, note=b"third", lease=lease)
    assert submit(algod, third.sign(sk))["confirmed-round"] > sp.last


def test_group_is_atomic(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    _, bob = account.generate_account()
    sp = algod.suggested_params()
    txns = [transaction.PaymentTxn(alice, sp, bob, 300_000), transaction.PaymentTxn(alice, sp, bob, 900_000)]
    transaction.assign_group_id(txns)
    assert "overspend" in rejected(algod, *(t.sign(sk) for t in txns))
    assert algod.account_info(bob)["amount"] == 0
    assert algod.account_info(alice)["amount"] == 1_000_000


def test_rejects_avm_assert(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    app_id = create_app(algod, (sk, alice), ASSERT_APP)
    bad = transaction.ApplicationCallTxn(alice, algod.suggested_params(), app_id, 0, app_args=[b"no"])
    message = rejected(algod, bad.sign(sk))
    assert "assert failed" in message
    good = transaction.ApplicationCallTxn(alice, algod.suggested_params(), app_id, 0, app_args=[b"ok"])
    assert submit(algod, good.sign(sk))["confirmed-round"] > 0


def test_app_create_and_box_write_need_funding(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(5_000_000)
    app_id = create_app(algod, (sk, alice), BOX_APP)
    app_addr = logic.get_application_address(app_id)
    app = algod.application_info(app_id)["params"]
    assert app["creator"] == alice
    assert {"key": base64.b64encode(b"name").decode(),
            "value": {"type": 1, "bytes": base64.b64encode(b"Biatec").decode(), "uint": 0}} in app["global-state"]
    # creator min balance counts the app and its global schema (1 uint, 1 byte slice)
    assert algod.account_info(alice)["min-balance"] == 100_000 + 100_000 + 28_500 + 50_000

    call = transaction.ApplicationCallTxn(alice, algod.suggested_params(), app_id, 0, boxes=[(0, b"balance")])
    assert "below min" in rejected(algod, call.sign(sk))

    sp = algod.suggested_params()
    box_mbr = 2_500 + 400 * (len(b"balance") + 32)
    group = [transaction.PaymentTxn(alice, sp, app_addr, 100_000 + box_mbr),
             transaction.ApplicationCallTxn(alice, sp, app_id, 0, boxes=[(0, b"balance")], note=b"bootstrap")]
    transaction.assign_group_id(group)
    info = submit(algod, *(t.sign(sk) for t in group))
    assert info["pool-error"] == ""
    call_info = algod.pending_transaction_info(group[1].get_txid())
    assert base64.b64decode(call_info["logs"][0]) == b"box written"
    box = algod.application_box_by_name(app_id, b"balance")
    assert base64.b64decode(box["value"]) == b"written" + bytes(25)
    assert algod.application_boxes(app_id)["boxes"] == [{"name": base64.b64encode(b"balance").decode()}]
    app_acct = algod.account_info(app_addr)
    assert (app_acct["total-boxes"], app_acct["total-box-bytes"]) == (1, len(b"balance") + 32)
    assert app_acct["min-balance"] == 100_000 + box_mbr
    with pytest.raises(AlgodHTTPError) as err:
        algod.application_box_by_name(app_id, b"missing")
    assert err.value.code == 404


def test_creator_min_balance_is_enforced_after_app_create(algod: AlgodClient,
                                                         funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    create_app(algod, (sk, alice), BOX_APP)
    acct = algod.account_info(alice)
    spendable = acct["amount"] - acct["min-balance"] - 1000
    _, bob = account.generate_account()
    sp = algod.suggested_params()
    too_much = transaction.PaymentTxn(alice, sp, bob, spendable + 1)
    assert "below min" in rejected(algod, too_much.sign(sk))
    submit(algod, transaction.PaymentTxn(alice, sp, bob, spendable).sign(sk))
    assert algod.account_info(alice)["amount"] == acct["min-balance"]


def test_unknown_objects_are_404(algod: AlgodClient) -> None:
    for call in (lambda: algod.asset_info(999_999_999), lambda: algod.application_info(999_999_999),
                 lambda: algod.pending_transaction_info("A" * 52)):
        with pytest.raises(AlgodHTTPError) as err:
            call()
        assert err.value.code == 404


def test_garbage_body_is_a_400(algod_devnet: DevnetProcess) -> None:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(algod_devnet.url + "/v2/transactions", data=b"\xc1not msgpack", method="POST",
                                 headers={"X-Algo-API-Token": algod_devnet.token,
                                          "Content-Type": "application/x-binary"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 400
    assert "msgpack" in json.loads(err.value.read())["message"]


def test_fund_rejects_bad_input(algod_devnet: DevnetProcess) -> None:
    for address, amount in (("not-an-address", 1), (account.generate_account()[1], -5)):
        with pytest.raises(DevnetError) as err:
            algod_devnet.fund(address, amount)
        assert err.value.status == 400


def test_token_is_required(algod_devnet: DevnetProcess) -> None:
    for token in ("", "wrong-token"):
        with pytest.raises(AlgodHTTPError) as err:
            AlgodClient(token, algod_devnet.url).status()
        assert err.value.code == 401


def test_wait_for_block_after_returns_on_new_round(algod: AlgodClient, algod_devnet: DevnetProcess) -> None:
    last = algod.status()["last-round"]
    started = time.monotonic()
    status = algod.status_after_block(last + 100)
    assert status["last-round"] == algod.status()["last-round"]
    assert 3 < time.monotonic() - started < 10
    algod_devnet.advance(1)
    assert algod.status_after_block(last)["last-round"] >= last + 1


def test_block_endpoint_lists_transactions(algod: AlgodClient, funded: Callable[[int], Account]) -> None:
    sk, alice = funded(1_000_000)
    info = submit(algod, transaction.PaymentTxn(alice, algod.suggested_params(), alice, 0, note=b"blk").sign(sk))
    block = algod.block_info(info["confirmed-round"])["block"]
    assert block["rnd"] == info["confirmed-round"]
    assert block["gen"] == GENESIS_ID
    assert block["txns"][0]["txn"]["snd"] == alice
    raw = algod.block_info(info["confirmed-round"], response_format="msgpack")
    assert encoding.msgpack.unpackb(raw, raw=False, strict_map_key=False)["block"]["rnd"] == info["confirmed-round"]


def test_round_timer_and_launcher_stop() -> None:
    devnet = start_devnet(round_interval=0.2, token="other-token")
    try:
        client = devnet.algod_client()
        first = client.status()["last-round"]
        time.sleep(0.7)
        assert client.status()["last-round"] >= first + 2
    finally:
        devnet.stop()
    assert not devnet.alive()
    with pytest.raises(ProcessLookupError):
        os.kill(devnet.pid, 0)
