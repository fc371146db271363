"""Post-issuance operations (tokens/chains/algorand_operations.py) on the local devnet: each builder's
transactions are signed with throw-away test keys, broadcast and confirmed, then the chain is read back
independently through an unmodified algosdk `AlgodClient` (account_asset_info, asset_info,
application_info, application_box_by_name), not through the module under test."""
from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from algosdk import account, encoding, transaction
from algosdk.atomic_transaction_composer import AccountTransactionSigner
from algosdk.error import AlgodHTTPError
from algosdk.logic import get_application_address

from biatec.core.errors import TransactionFailed
from tokens.chains import algorand as algo
from tokens.networks import Network

pytestmark = [pytest.mark.chain]


# ------------------------------------------------------------------------------------ helpers
class TestKey:
    """A throw-away account; `signer` is a `SignerContext` that records each time it is opened."""

    __test__ = False

    def __init__(self) -> None:
        self.sk, self.address = account.generate_account()
        self.opened: list[str] = []

    def sign_group(self, txns: list[transaction.Transaction]) -> list[transaction.SignedTransaction]:
        return list(AccountTransactionSigner(self.sk).sign_transactions(txns, list(range(len(txns)))))

    def signer(self, reason: str) -> Any:
        @contextmanager
        def opened() -> Iterator[TestKey]:
            self.opened.append(reason)
            yield self
        return opened()


def funded(net: Network, microalgos: int = 2_000_000) -> TestKey:
    key = TestKey()
    algo.ensure_funded(network=net, address=key.address, needed_microalgos=microalgos)
    return key


def seed() -> str:
    return f"test-op-{uuid.uuid4()}"


def send(net: Network, signed: algo.SignedAlgorandGroup) -> algo.TxStatus:
    assert algo.broadcast(network=net, raw=signed.raw) == signed.txid
    status = algo.wait_for_confirmation(network=net, txid=signed.txid, last_valid=signed.last_valid)
    assert status.state == algo.CONFIRMED
    return status


def send_own(net: Network, key: TestKey, txns: list[transaction.Transaction], reason: str = "test") -> algo.TxStatus:
    return send(net, algo.sign_transactions(signer=key.signer, txns=txns, reason=reason))


@pytest.fixture
def node(algod_devnet_node: Any) -> Any:
    """The independent reader: algosdk's own client straight at the devnet."""
    return algod_devnet_node.algod_client()


def holding(node: Any, address: str, asset_id: int) -> dict[str, Any] | None:
    try:
        return node.account_asset_info(address, asset_id)["asset-holding"]
    except AlgodHTTPError as exc:
        assert exc.code == 404
        return None


def box(node: Any, app_id: int, name: bytes) -> bytes | None:
    try:
        return base64.b64decode(node.application_box_by_name(app_id, name)["value"])
    except AlgodHTTPError as exc:
        assert exc.code == 404
        return None


def box_balance(node: Any, app_id: int, address: str) -> int:
    raw = box(node, app_id, algo.balance_box(address))
    return int.from_bytes(raw, "big") if raw else 0


def global_state(node: Any, app_id: int) -> dict[str, Any]:
    state = {}
    for kv in node.application_info(app_id)["params"].get("global-state", []):
        value = kv["value"]
        state[base64.b64decode(kv["key"]).decode()] = (
            value.get("uint", 0) if value["type"] == 2 else base64.b64decode(value.get("bytes", "")))
    return state


def amount(node: Any, address: str) -> int:
    return int(node.account_info(address, exclude="all")["amount"])


def create_asset(net: Network, key: TestKey, **params: Any) -> int:
    sp = algo.suggested_params(network=net)
    txn = algo.build_asset_create(sp=sp, sender=key.address, params={
        "name": "Ops Test", "unit_name": "OPS", "total": "1000000", "decimals": 0, **params})
    status = send_own(net, key, [txn], "create asset")
    assert status.asset_id
    return status.asset_id


def opt_in(net: Network, funder: TestKey, holder: TestKey, asset_id: int) -> algo.SignedAlgorandGroup:
    top_up = algo.opt_in_top_up(network=net, holder=holder.address)
    txns = algo.asset_opt_in_group(sp=algo.suggested_params(network=net), funder=funder.address,
                                   holder=holder.address, asset_id=asset_id, top_up=top_up, lease_seed=seed())
    signers = {funder.address: funder.signer, holder.address: holder.signer}
    signed = algo.sign_group_multi(signers=signers, txns=txns, reason="opt in")
    send(net, signed)
    return signed


def deploy_app(net: Network, key: TestKey, standard: str, params: dict[str, Any]) -> int:
    deployment_id = str(uuid.uuid4())
    app_id = None
    for step in algo.deployment_steps(standard):
        sp = algo.suggested_params(network=net)
        txns = algo.build_deployment_step(sp=sp, standard=standard, step=step, params=params, sender=key.address,
                                          deployment_id=deployment_id, app_id=app_id)
        status = send_own(net, key, txns, step)
        app_id = app_id or status.app_id
    assert app_id
    return app_id


def app_op(net: Network, key: TestKey, app_id: int, standard: str, kind: str,
           **params: Any) -> tuple[list[transaction.Transaction], algo.TxStatus]:
    txns = algo.app_operation_group(network=net, sp=algo.suggested_params(network=net), sender=key.address,
                                    app_id=app_id, standard=standard, kind=kind, params=params, lease_seed=seed())
    return txns, send_own(net, key, txns, kind)


def app_account_at_min_balance(node: Any, app_id: int) -> None:
    info = node.account_info(get_application_address(app_id), exclude="all")
    assert info["amount"] == info["min-balance"]


# ------------------------------------------------------------------------------- plain assets
def test_transfers_in_groups_of_16_reach_every_holder(algorand_local: Network, node: Any) -> None:
    issuer = funded(algorand_local, 10_000_000)
    asset_id = create_asset(algorand_local, issuer)
    holders = [TestKey() for _ in range(17)]
    for h in holders:  # unfunded holders: the issuer tops each up in the opt-in group
        opt_in(algorand_local, issuer, h, asset_id)
    transfers = [(h.address, 100 + i) for i, h in enumerate(holders)]
    lease_seed = seed()
    groups = algo.asset_transfer_groups(sp=algo.suggested_params(network=algorand_local), sender=issuer.address,
                                        asset_id=asset_id, transfers=transfers, lease_seed=lease_seed)
    assert [len(g) for g in groups] == [16, 1]
    assert len({t.group for t in groups[0]}) == 1 and groups[0][0].group and groups[1][0].group
    leases = [t.lease for g in groups for t in g]
    assert leases == [hashlib.sha256(f"{lease_seed}|{i}".encode()).digest() for i in range(17)]
    signed = [algo.sign_transactions(signer=issuer.signer, txns=g, reason="batch") for g in groups]
    assert len(signed[0].txids) == 16
    for s in signed:
        send(algorand_local, s)

    for h, (_, expected) in zip(holders, transfers, strict=True):
        assert holding(node, h.address, asset_id) == {"amount": expected, "asset-id": asset_id, "is-frozen": False}
    sent = sum(a for _, a in transfers)
    assert holding(node, issuer.address, asset_id)["amount"] == 1_000_000 - sent
    state = algo.read_asset_state(network=algorand_local, asset_id=asset_id)
    assert (state["issuer_balance"], state["circulating"], state["deleted"]) == (1_000_000 - sent, sent, False)
    assert algo.read_asset_holding(network=algorand_local, asset_id=asset_id, address=holders[3].address) == {
        "opted_in": True, "balance": 103, "frozen": False}
    # A rebuilt batch carries the same leases: the ledger refuses it while the first one's window is open.
    again = algo.asset_transfer_groups(sp=algo.suggested_params(network=algorand_local), sender=issuer.address,
                                       asset_id=asset_id, transfers=transfers[16:], lease_seed=lease_seed + "x")
    assert again[0][0].lease != groups[1][0].lease
    rebuilt = algo.asset_transfer_groups(sp=algo.suggested_params(network=algorand_local), sender=issuer.address,
                                         asset_id=asset_id, transfers=transfers, lease_seed=lease_seed)
    with pytest.raises(algo.LeaseInUse):
        algo.broadcast(network=algorand_local,
                       raw=algo.sign_transactions(signer=issuer.signer, txns=rebuilt[1], reason="again").raw)
    assert holding(node, holders[16].address, asset_id)["amount"] == transfers[16][1]


def test_opt_in_top_up_leaves_the_holder_at_its_new_minimum(algorand_local: Network, node: Any) -> None:
    issuer = funded(algorand_local)
    asset_id = create_asset(algorand_local, issuer)
    holder = TestKey()
    top_up = algo.opt_in_top_up(network=algorand_local, holder=holder.address)
    assert top_up == 100_000 + 100_000 + 1000  # account minimum, one asset, the opt-in fee
    before = amount(node, issuer.address)
    signed = opt_in(algorand_local, issuer, holder, asset_id)
    assert len(signed.txids) == 2 and signed.group_id
    assert issuer.opened[-1] == holder.opened[-1] == "opt in"  # each key opened for its own transaction
    info = node.account_info(holder.address, exclude="all")
    assert info["amount"] == info["min-balance"] == 200_000
    assert holding(node, holder.address, asset_id) == {"amount": 0, "asset-id": asset_id, "is-frozen": False}
    assert before - amount(node, issuer.address) == algo.operation_cost(kind="opt_in", top_up=top_up)
    # One more asset needs one more 100_000 (and the fee); a well-funded holder needs nothing.
    assert algo.opt_in_top_up(network=algorand_local, holder=holder.address) == 101_000
    rich = funded(algorand_local)
    assert algo.opt_in_top_up(network=algorand_local, holder=rich.address) == 0
    only = algo.asset_opt_in_group(sp=algo.suggested_params(network=algorand_local), funder=issuer.address,
                                   holder=rich.address, asset_id=asset_id, top_up=0, lease_seed=seed())
    assert len(only) == 1 and isinstance(only[0], transaction.AssetTransferTxn) and only[0].amount == 0
    send_own(algorand_local, rich, only)
    assert algo.read_asset_holding(network=algorand_local, asset_id=asset_id, address=rich.address)["opted_in"]


def test_sign_group_multi_checks_its_signers(algorand_local: Network) -> None:
    funder, holder, stranger = TestKey(), TestKey(), TestKey()
    sp = algo.suggested_params(network=algorand_local)
    txns = algo.asset_opt_in_group(sp=sp, funder=funder.address,
                                   holder=holder.address, asset_id=1234, top_up=5000, lease_seed=seed())
    with pytest.raises(ValueError, match="no signer"):
        algo.sign_group_multi(signers={funder.address: funder.signer}, txns=txns, reason="x")
    with pytest.raises(ValueError, match="holds the key of"):
        algo.sign_group_multi(signers={funder.address: funder.signer, holder.address: stranger.signer},
                              txns=txns, reason="x")
    ungrouped = [transaction.PaymentTxn(funder.address, sp, holder.address, i) for i in range(2)]
    with pytest.raises(ValueError, match="grouped"):
        algo.sign_group_multi(signers={funder.address: funder.signer}, txns=ungrouped, reason="x")
    unused = TestKey()
    signed = algo.sign_group_multi(signers={funder.address: funder.signer, holder.address: holder.signer,
                                            unused.address: unused.signer}, txns=txns, reason="ok")
    assert unused.opened == [] and [s.transaction.sender for s in algo.decode_signed(signed.raw)] == [
        funder.address, holder.address]


def test_freeze_then_unfreeze_a_holding(algorand_local: Network, node: Any) -> None:
    """Needs the devnet's asset-freeze fix (devchain/algod): before it the freeze confirmed but the
    holding's is-frozen flag never changed."""
    issuer = funded(algorand_local)
    asset_id = create_asset(algorand_local, issuer, freeze=issuer.address)
    holder = funded(algorand_local)
    opt_in(algorand_local, issuer, holder, asset_id)
    send_own(algorand_local, issuer, algo.asset_transfer_groups(
        sp=algo.suggested_params(network=algorand_local), sender=issuer.address, asset_id=asset_id,
        transfers=[(holder.address, 50)], lease_seed=seed())[0])

    def freeze(frozen: bool) -> None:
        txn = algo.asset_freeze_txn(sp=algo.suggested_params(network=algorand_local), sender=issuer.address,
                                    asset_id=asset_id, target=holder.address, frozen=frozen, lease_seed=seed())
        send_own(algorand_local, issuer, [txn], "freeze")

    freeze(True)
    assert holding(node, holder.address, asset_id)["is-frozen"] is True
    assert algo.read_asset_holding(network=algorand_local, asset_id=asset_id, address=holder.address) == {
        "opted_in": True, "balance": 50, "frozen": True}
    back = algo.asset_transfer_groups(sp=algo.suggested_params(network=algorand_local), sender=holder.address,
                                      asset_id=asset_id, transfers=[(issuer.address, 1)], lease_seed=seed())[0]
    with pytest.raises(TransactionFailed, match="frozen"):
        send_own(algorand_local, holder, back)
    freeze(False)
    assert holding(node, holder.address, asset_id)["is-frozen"] is False
    send_own(algorand_local, holder, algo.asset_transfer_groups(
        sp=algo.suggested_params(network=algorand_local), sender=holder.address, asset_id=asset_id,
        transfers=[(issuer.address, 1)], lease_seed=seed())[0])
    assert holding(node, holder.address, asset_id)["amount"] == 49


def test_clawback_moves_a_holders_units(algorand_local: Network, node: Any) -> None:
    issuer = funded(algorand_local)
    asset_id = create_asset(algorand_local, issuer, clawback=issuer.address)
    holder, other = TestKey(), TestKey()
    for h in (holder, other):
        opt_in(algorand_local, issuer, h, asset_id)
    send_own(algorand_local, issuer, algo.asset_transfer_groups(
        sp=algo.suggested_params(network=algorand_local), sender=issuer.address, asset_id=asset_id,
        transfers=[(holder.address, 300)], lease_seed=seed())[0])
    txn = algo.asset_clawback_txn(sp=algo.suggested_params(network=algorand_local), sender=issuer.address,
                                  asset_id=asset_id, owner=holder.address, receiver=other.address, amount=120,
                                  lease_seed=seed())
    assert txn.revocation_target == holder.address and txn.sender == issuer.address
    send_own(algorand_local, issuer, [txn], "clawback")
    assert holding(node, holder.address, asset_id)["amount"] == 180
    assert holding(node, other.address, asset_id)["amount"] == 120
    assert holding(node, issuer.address, asset_id)["amount"] == 1_000_000 - 300


def test_reconfigure_roles_and_refusals(algorand_local: Network, node: Any) -> None:
    issuer = funded(algorand_local)
    freezer, new_reserve = TestKey(), TestKey()
    asset_id = create_asset(algorand_local, issuer, freeze=freezer.address, clawback=issuer.address)
    current = algo.read_asset_state(network=algorand_local, asset_id=asset_id)
    assert (current["manager"], current["reserve"], current["freeze"], current["clawback"]) == (
        issuer.address, issuer.address, freezer.address, issuer.address)
    txn = algo.asset_reconfigure_txn(sp=algo.suggested_params(network=algorand_local), sender=issuer.address,
                                     asset_id=asset_id, current=current,
                                     changes={"reserve": new_reserve.address, "clawback": None},
                                     lease_seed=seed())
    send_own(algorand_local, issuer, [txn], "reconfigure")
    params = node.asset_info(asset_id)["params"]
    assert params["manager"] == issuer.address and params["freeze"] == freezer.address  # kept
    assert params["reserve"] == new_reserve.address and not params.get("clawback")  # changed / cleared
    state = algo.read_asset_state(network=algorand_local, asset_id=asset_id)
    assert state["clawback"] == "" and state["reserve"] == new_reserve.address
    assert (state["issuer_balance"], state["circulating"]) == (0, 1_000_000)  # the new reserve holds nothing

    sp = algo.suggested_params(network=algorand_local)
    opened = len(issuer.opened)
    with pytest.raises(ValueError, match="cannot re-set cleared role: clawback"):
        algo.asset_reconfigure_txn(sp=sp, sender=issuer.address, asset_id=asset_id, current=state,
                                   changes={"clawback": issuer.address}, lease_seed=seed())
    with pytest.raises(ValueError, match="only the manager"):
        algo.asset_reconfigure_txn(sp=sp, sender=freezer.address, asset_id=asset_id, current=state,
                                   changes={"freeze": None}, lease_seed=seed())
    with pytest.raises(ValueError, match="destroy"):
        algo.asset_reconfigure_txn(sp=sp, sender=issuer.address, asset_id=asset_id, current=state,
                                   changes=dict.fromkeys(algo.ROLES, ""), lease_seed=seed())
    with pytest.raises(ValueError, match="unknown asset roles"):
        algo.asset_reconfigure_txn(sp=sp, sender=issuer.address, asset_id=asset_id, current=state,
                                   changes={"owner": issuer.address}, lease_seed=seed())
    assert len(issuer.opened) == opened  # refused before any key was opened
    assert node.asset_info(asset_id)["params"]["reserve"] == new_reserve.address


def test_destroy_removes_the_asset(algorand_local: Network, node: Any) -> None:
    issuer = funded(algorand_local)
    asset_id = create_asset(algorand_local, issuer)
    min_before = node.account_info(issuer.address, exclude="all")["min-balance"]
    txn = algo.asset_destroy_txn(sp=algo.suggested_params(network=algorand_local), sender=issuer.address,
                                 asset_id=asset_id, lease_seed=seed())
    send_own(algorand_local, issuer, [txn], "destroy")
    with pytest.raises(AlgodHTTPError) as err:
        node.asset_info(asset_id)
    assert err.value.code == 404
    assert node.account_info(issuer.address, exclude="all")["min-balance"] == min_before - 100_000
    state = algo.read_asset_state(network=algorand_local, asset_id=asset_id)
    assert state["deleted"] is True and state["total"] == 0 and state["manager"] == ""


def test_destroy_with_units_out_fails_on_chain(algorand_local: Network, node: Any) -> None:
    issuer = funded(algorand_local)
    asset_id = create_asset(algorand_local, issuer)
    holder = TestKey()
    opt_in(algorand_local, issuer, holder, asset_id)
    send_own(algorand_local, issuer, algo.asset_transfer_groups(
        sp=algo.suggested_params(network=algorand_local), sender=issuer.address, asset_id=asset_id,
        transfers=[(holder.address, 1)], lease_seed=seed())[0])
    with pytest.raises(TransactionFailed):
        send_own(algorand_local, issuer, [algo.asset_destroy_txn(
            sp=algo.suggested_params(network=algorand_local), sender=issuer.address, asset_id=asset_id,
            lease_seed=seed())])
    assert node.asset_info(asset_id)["params"]["total"] == 1_000_000


# ---------------------------------------------------------------------------------- ARC-200
ARC200 = {"name": "Ops ARC200", "symbol": "OPS2", "decimals": 0, "initial_supply": "1000000", "cap": "2000000"}


def test_arc200_mint_and_transfer_to_new_holders_pay_their_boxes(algorand_local: Network, node: Any) -> None:
    owner = funded(algorand_local, 5_000_000)
    standard = "arc200-mintable"
    app_id = deploy_app(algorand_local, owner, standard, ARC200)
    app_address = get_application_address(app_id)
    holder, second = TestKey(), TestKey()

    before_owner, before_app = amount(node, owner.address), amount(node, app_address)
    txns, _ = app_op(algorand_local, owner, app_id, standard, "mint", to=holder.address, amount=5000)
    assert isinstance(txns[0], transaction.PaymentTxn) and isinstance(txns[1], transaction.ApplicationCallTxn)
    assert txns[0].amt == 28_500 and txns[0].receiver == app_address
    assert txns[1].boxes and {b.name for b in txns[1].boxes} == {algo.balance_box(holder.address)}
    assert amount(node, app_address) - before_app == 28_500
    spent = before_owner - amount(node, owner.address)
    assert spent == algo.spending(txns=txns, sender=owner.address) == algo.operation_cost(kind="mint",
                                                                                           box_mbr=28_500)
    app_account_at_min_balance(node, app_id)
    assert box_balance(node, app_id, holder.address) == 5000
    assert global_state(node, app_id)["total_supply"] == (1_005_000).to_bytes(32, "big")

    # A transfer to a new holder creates its balance box: paid in the same group.
    txns, _ = app_op(algorand_local, owner, app_id, standard, "transfer", to=second.address, amount=700)
    assert len(txns) == 2 and txns[0].amt == 28_500
    assert box_balance(node, app_id, second.address) == 700
    assert box_balance(node, app_id, owner.address) == 1_000_000 - 700
    app_account_at_min_balance(node, app_id)
    # To an existing holder: no payment, just the call.
    txns, _ = app_op(algorand_local, owner, app_id, standard, "transfer", to=holder.address, amount=1)
    assert len(txns) == 1 and isinstance(txns[0], transaction.ApplicationCallTxn)
    assert box_balance(node, app_id, holder.address) == 5001

    state = algo.read_app_token_state(network=algorand_local, app_id=app_id, standard=standard,
                                      holder=holder.address)
    assert state == {"total_supply": 1_005_000, "cap": 2_000_000, "owner": owner.address, "paused": False,
                     "holder_balance": 5001}
    for kind in ("pause", "burn", "whitelist", "forced_transfer"):
        with pytest.raises(ValueError):
            algo.app_operation_group(network=algorand_local, sp=algo.suggested_params(network=algorand_local),
                                     sender=owner.address, app_id=app_id, standard=standard, kind=kind,
                                     params={"amount": 1, "address": holder.address, "eligible": True,
                                             "from": holder.address, "to": second.address}, lease_seed=seed())


def test_arc200_preminted_cannot_mint_and_reads_no_cap(algorand_local: Network) -> None:
    owner = funded(algorand_local, 3_000_000)
    standard = "arc200-preminted"
    app_id = deploy_app(algorand_local, owner, standard, {**ARC200, "cap": "0"})
    with pytest.raises(ValueError, match="not mintable"):
        algo.app_operation_group(network=algorand_local, sp=algo.suggested_params(network=algorand_local),
                                 sender=owner.address, app_id=app_id, standard=standard, kind="mint",
                                 params={"to": owner.address, "amount": 1}, lease_seed=seed())
    state = algo.read_app_token_state(network=algorand_local, app_id=app_id, standard=standard)
    assert state == {"total_supply": 1_000_000, "cap": None, "owner": owner.address, "paused": False}


def test_arc200_batch_transfers_pack_16_per_group(algorand_local: Network, node: Any) -> None:
    owner = funded(algorand_local, 5_000_000)
    standard = "arc200-preminted"
    app_id = deploy_app(algorand_local, owner, standard, {**ARC200, "cap": "0"})
    existing = TestKey()
    app_op(algorand_local, owner, app_id, standard, "transfer", to=existing.address, amount=1)
    new = [TestKey() for _ in range(19)]
    transfers = [(k.address, 10 + i) for i, k in enumerate(new)] + [(existing.address, 5)]
    lease_seed = seed()
    groups = algo.app_transfer_groups(network=algorand_local, sp=algo.suggested_params(network=algorand_local),
                                      sender=owner.address, app_id=app_id, standard=standard,
                                      transfers=transfers, lease_seed=lease_seed)
    assert [len(g) for g in groups] == [16, 6]  # payment + 15 calls, payment + 5 calls
    assert [g[0].amt for g in groups] == [15 * 28_500, 4 * 28_500]  # the existing holder's box is not paid
    calls = [t for g in groups for t in g if isinstance(t, transaction.ApplicationCallTxn)]
    assert all(len(t.boxes) <= algo.MAX_APP_REFERENCES for t in calls)
    assert [c.lease for c in calls] == [hashlib.sha256(f"{lease_seed}|{i}".encode()).digest() for i in range(20)]
    before = amount(node, owner.address)
    spent = 0
    for g in groups:
        spent += algo.spending(txns=g, sender=owner.address)
        send_own(algorand_local, owner, g, "batch")
    assert before - amount(node, owner.address) == spent
    assert spent <= algo.operation_cost(kind="batch_transfer", parts=20, box_mbr=19 * 28_500)
    for k, (_, expected) in zip(new, transfers, strict=False):
        assert box_balance(node, app_id, k.address) == expected
    assert box_balance(node, app_id, existing.address) == 6
    assert box_balance(node, app_id, owner.address) == 1_000_000 - 1 - sum(a for _, a in transfers)
    app_account_at_min_balance(node, app_id)
    # 16 transfers to holders that all have boxes already: one group of 16 calls.
    again = algo.app_transfer_groups(network=algorand_local, sp=algo.suggested_params(network=algorand_local),
                                     sender=owner.address, app_id=app_id, standard=standard,
                                     transfers=[(k.address, 1) for k in new[:16]], lease_seed=seed())
    assert [len(g) for g in again] == [16]
    send_own(algorand_local, owner, again[0])
    assert box_balance(node, app_id, new[0].address) == 11


# --------------------------------------------------------------------------------- ARC-1400
ARC1400 = {"name": "Ops Security", "symbol": "OPSS", "decimals": 0, "initial_supply": "1000", "cap": "10000"}


def test_arc1400_operations_read_back_from_chain(algorand_local: Network, node: Any) -> None:
    owner = funded(algorand_local, 5_000_000)
    standard = "arc1400-mintable"
    app_id = deploy_app(algorand_local, owner, standard, ARC1400)
    app_address = get_application_address(app_id)
    investor, outsider, successor = TestKey(), TestKey(), funded(algorand_local)

    # whitelist: the box is created and its 16_100 paid in the group.
    before = amount(node, app_address)
    txns, _ = app_op(algorand_local, owner, app_id, standard, "whitelist", address=investor.address, eligible=True)
    assert txns[0].amt == 16_100 and amount(node, app_address) - before == 16_100
    assert box(node, app_id, algo.whitelist_box(investor.address)) == b"\x01"

    # issue to the whitelisted investor: arc1594_issue, balance box paid.
    txns, _ = app_op(algorand_local, owner, app_id, standard, "mint", to=investor.address, amount=400)
    assert txns[1].app_args[0] == algo.abi_method(standard, "arc1594_issue").get_selector()
    assert txns[0].amt == 28_500
    assert box_balance(node, app_id, investor.address) == 400
    assert global_state(node, app_id)["total_supply"] == (1400).to_bytes(32, "big")
    app_account_at_min_balance(node, app_id)
    # ... refused by the contract for a holder that is not whitelisted.
    with pytest.raises(TransactionFailed) as err:
        app_op(algorand_local, owner, app_id, standard, "mint", to=outsider.address, amount=1)
    assert err.value.details["contract_error"] == "recipient not eligible"
    assert box(node, app_id, algo.balance_box(outsider.address)) is None

    # transfer between whitelisted holders (four box references).
    txns, _ = app_op(algorand_local, owner, app_id, standard, "transfer", to=investor.address, amount=100)
    assert len(txns[-1].boxes) == 4
    assert box_balance(node, app_id, investor.address) == 500

    # burn: the owner redeems its own units.
    app_op(algorand_local, owner, app_id, standard, "burn", amount=50)
    assert box_balance(node, app_id, owner.address) == 1000 - 100 - 50
    assert global_state(node, app_id)["total_supply"] == (1350).to_bytes(32, "big")

    # pause / unpause
    app_op(algorand_local, owner, app_id, standard, "pause")
    assert global_state(node, app_id)["halted"] == 1
    assert algo.read_app_token_state(network=algorand_local, app_id=app_id, standard=standard)["paused"] is True
    with pytest.raises(TransactionFailed) as err:
        app_op(algorand_local, owner, app_id, standard, "transfer", to=investor.address, amount=1)
    assert err.value.details["contract_error"] == "transfers halted"

    # forced transfer ignores halt and whitelist; the outsider's new box is paid.
    txns, _ = app_op(algorand_local, owner, app_id, standard, "forced_transfer",
                     **{"from": investor.address, "to": outsider.address, "amount": 30})
    assert txns[0].amt == 28_500
    assert (box_balance(node, app_id, investor.address), box_balance(node, app_id, outsider.address)) == (470, 30)
    app_op(algorand_local, owner, app_id, standard, "unpause")
    assert global_state(node, app_id)["halted"] == 0

    state = algo.read_app_token_state(network=algorand_local, app_id=app_id, standard=standard,
                                      holder=investor.address)
    assert state == {"total_supply": 1350, "cap": 10_000, "owner": owner.address, "paused": False,
                     "holder_balance": 470, "holder_whitelisted": True}
    assert algo.read_app_token_state(network=algorand_local, app_id=app_id, standard=standard,
                                     holder=outsider.address)["holder_whitelisted"] is False

    # whitelist removal deletes the box (no payment).
    txns, _ = app_op(algorand_local, owner, app_id, standard, "whitelist", address=investor.address, eligible=False)
    assert len(txns) == 1 and box(node, app_id, algo.whitelist_box(investor.address)) is None

    # ownership moves; the old owner can no longer issue.
    app_op(algorand_local, owner, app_id, standard, "transfer_ownership", new_owner=successor.address)
    assert global_state(node, app_id)["owner"] == encoding.decode_address(successor.address)
    with pytest.raises(TransactionFailed) as err:
        app_op(algorand_local, owner, app_id, standard, "pause")
    assert err.value.details["contract_error"] == "only the owner"
    app_op(algorand_local, successor, app_id, standard, "pause")
    assert global_state(node, app_id)["halted"] == 1


def test_arc1400_batch_transfer_references_whitelist_boxes(algorand_local: Network, node: Any) -> None:
    owner = funded(algorand_local, 5_000_000)
    standard = "arc1400-mintable"
    app_id = deploy_app(algorand_local, owner, standard, ARC1400)
    holders = [TestKey() for _ in range(3)]
    for h in holders:
        app_op(algorand_local, owner, app_id, standard, "whitelist", address=h.address, eligible=True)
    groups = algo.app_transfer_groups(network=algorand_local, sp=algo.suggested_params(network=algorand_local),
                                      sender=owner.address, app_id=app_id, standard=standard,
                                      transfers=[(h.address, 7) for h in holders], lease_seed=seed())
    assert [len(g) for g in groups] == [4] and groups[0][0].amt == 3 * 28_500
    assert all(len(t.boxes) == 4 for t in groups[0][1:])
    send_own(algorand_local, owner, groups[0])
    assert [box_balance(node, app_id, h.address) for h in holders] == [7, 7, 7]
    app_account_at_min_balance(node, app_id)


# ------------------------------------------------------------------------------------- costs
def test_operation_cost() -> None:
    assert algo.operation_cost(kind="freeze") == 1000
    assert algo.operation_cost(kind="transfer", parts=16) == 16_000
    assert algo.operation_cost(kind="mint", box_mbr=28_500) == 28_500 + 2000
    assert algo.operation_cost(kind="batch_transfer", parts=20, box_mbr=10) == 10 + 22 * 1000
    assert algo.operation_cost(kind="opt_in", top_up=201_000) == 202_000
    assert algo.operation_cost(kind="opt_in", top_up=0) == 0
    assert algo.operation_cost(kind="destroy", fee=2000) == 2000
    with pytest.raises(ValueError):
        algo.operation_cost(kind="teleport")
    with pytest.raises(ValueError):
        algo.operation_cost(kind="transfer", parts=0)


def test_builders_refuse_bad_input_before_signing() -> None:
    genesis_hash = base64.b64encode(hashlib.sha256(b"test genesis").digest()).decode()  # any 32 bytes
    sp = transaction.SuggestedParams(1000, 1, 100, genesis_hash, "localnet-v1", flat_fee=True)
    me = TestKey().address
    with pytest.raises(ValueError, match="no transfers"):
        algo.asset_transfer_groups(sp=sp, sender=me, asset_id=1, transfers=[], lease_seed="s")
    with pytest.raises(ValueError, match="address"):
        algo.asset_transfer_groups(sp=sp, sender=me, asset_id=1, transfers=[("nope", 1)], lease_seed="s")
    with pytest.raises(ValueError, match="amount"):
        algo.asset_transfer_groups(sp=sp, sender=me, asset_id=1, transfers=[(me, 2**64)], lease_seed="s")
    with pytest.raises(ValueError, match="lease seed"):
        algo.asset_destroy_txn(sp=sp, sender=me, asset_id=1, lease_seed="")
    with pytest.raises(ValueError, match="current roles missing"):
        algo.asset_reconfigure_txn(sp=sp, sender=me, asset_id=1, current={"manager": me},
                                   changes={"reserve": None}, lease_seed="s")
