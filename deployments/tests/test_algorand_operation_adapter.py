"""Token operations on Algorand tokens (ASA, ARC-200, ARC-1400) through the one pipeline and
`AlgorandOperationAdapter`, on the devnet. Tokens are deployed through the API; operations are
`Operation` rows driven by `operation_advance` (the worker's call), and every effect is read back
independently through algosdk's own `AlgodClient` (account_asset_info, asset_info, application_info,
application_box_by_name, pending_transaction_info), not through the product's read-back."""
from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from algosdk import account, encoding, transaction
from algosdk.atomic_transaction_composer import AccountTransactionSigner
from algosdk.error import AlgodHTTPError
from django.db import transaction as db_transaction

from deployments.adapters import adapter_for_job
from deployments.adapters.algorand_operations import AlgorandOperationAdapter
from deployments.adapters.base import ChainJob
from deployments.jobs import OPERATION
from deployments.models import Operation, OperationTransaction, Token
from deployments.pipeline import operation_advance
from deployments.services import job_retry
from tokens.chains import algorand as algo
from tokens.networks import get_network

ALGO = "algorand-localnet"


# ------------------------------------------------------------------------------------ helpers
class Key:
    """A throw-away account (not a platform user): a recipient the issuer pays."""

    def __init__(self) -> None:
        self.sk, self.address = account.generate_account()

    def signer(self, reason: str) -> Any:
        @contextmanager
        def opened() -> Iterator[Key]:
            yield self
        return opened()

    def sign_group(self, txns: list[transaction.Transaction]) -> list[transaction.SignedTransaction]:
        return list(AccountTransactionSigner(self.sk).sign_transactions(txns, list(range(len(txns)))))


@pytest.fixture
def node(algod_devnet_node: Any) -> Any:
    """The independent reader: algosdk's client straight at the devnet."""
    return algod_devnet_node.algod_client()


def _deploy(client: Any, standard: str, fields: dict[str, Any]) -> Token:
    response = client.post(f"/api/v1/token/{standard}/create", {"network": ALGO, **fields}, format="json")
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return Token.objects.get(deployment_id=response.json()["id"])


def _drive(op: Operation, max_passes: int = 200) -> Operation:
    """Play the worker until the pipeline has nothing left to do."""
    for _ in range(max_passes):
        delay = operation_advance(operation_id=op.pk)
        if delay is None:
            break
        time.sleep(min(delay, 0.05))
    else:
        raise AssertionError(f"operation {op.pk} still active after {max_passes} passes")
    op.refresh_from_db()
    return op


def _operate(token: Token, kind: str, request: dict[str, Any], *, expect: str = "completed") -> Operation:
    creator = token.deployment.creator
    op = Operation.objects.create(organization=token.organization, creator=creator, token=token, kind=kind,
                                  standard=token.standard, network=token.network, request=request,
                                  correlation_id="test", status="queued")
    op = _drive(op)
    assert op.status == expect, (op.status, op.error_code, op.error_message, op.error_details)
    return op


def _txs(op: Operation, step: str | None = None) -> list[OperationTransaction]:
    rows = OperationTransaction.objects.filter(operation=op).order_by("part", "created_at")
    return list(rows.filter(step=step) if step else rows)


def _holding(node: Any, address: str, asset_id: int) -> dict[str, Any] | None:
    try:
        return node.account_asset_info(address, asset_id)["asset-holding"]
    except AlgodHTTPError as exc:
        assert exc.code == 404
        return None


def _box_balance(node: Any, app_id: int, address: str) -> int:
    try:
        raw = base64.b64decode(node.application_box_by_name(app_id, algo.balance_box(address))["value"])
    except AlgodHTTPError as exc:
        assert exc.code == 404
        return 0
    return int.from_bytes(raw, "big")


def _global(node: Any, app_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in node.application_info(app_id)["params"].get("global-state", []):
        value = kv["value"]
        out[base64.b64decode(kv["key"]).decode()] = (
            value.get("uint", 0) if value["type"] == 2 else base64.b64decode(value.get("bytes", "")))
    return out


def _opted_in_keys(node: Any, asset_id: int, count: int) -> list[Key]:
    """Fresh accounts, funded and opted in by a funder of their own, 8 per atomic group (the issuer
    pays nothing here: these are outside accounts that opted in themselves)."""
    funder, keys = Key(), [Key() for _ in range(count)]
    net = get_network(ALGO)
    algo.ensure_funded(network=net, address=funder.address, needed_microalgos=count * 300_000)
    signers = {funder.address: funder.signer, **{k.address: k.signer for k in keys}}
    for start in range(0, count, 8):
        sp = algo.suggested_params(network=net)
        txns: list[transaction.Transaction] = []
        for key in keys[start:start + 8]:
            txns += [transaction.PaymentTxn(funder.address, sp, key.address, 202_000),
                     transaction.AssetOptInTxn(key.address, sp, asset_id)]
        signed = algo.sign_group_multi(signers=signers, txns=transaction.assign_group_id(txns), reason="test")
        algo.broadcast(network=net, raw=signed.raw)
        assert algo.wait_for_confirmation(network=net, txid=signed.txid,
                                          last_valid=signed.last_valid).state == algo.CONFIRMED
    assert all(_holding(node, k.address, asset_id) is not None for k in keys)
    return keys


def _lease(txid: str, node: Any) -> bytes:
    return base64.b64decode(node.pending_transaction_info(txid)["txn"]["txn"]["lx"])


# ------------------------------------------------------------------------ steps and parts
def _job(standard: str, kind: str, request: dict[str, Any]) -> ChainJob:
    return ChainJob(id="job-1", standard=standard, network=get_network(ALGO), sender="", signer=Key().signer,
                    request=request, operation=kind)


def test_registered_for_algorand_operations() -> None:
    assert isinstance(adapter_for_job("algorand", operation=True), AlgorandOperationAdapter)


def test_steps_and_parts_follow_the_request_only() -> None:
    adapter = AlgorandOperationAdapter()
    rows = [{"to": f"R{i}", "amount": str(i + 1)} for i in range(40)]
    batch = _job("asa-ft", "batch_transfer", {"transfers": rows})
    assert adapter.steps(batch) == ["transfer"] and adapter.part_count(batch, "transfer") == 3
    with_opt_ins = _job("asa-ft", "batch_transfer", {"transfers": rows, "opt_ins": ["R1", "R7"]})
    assert adapter.steps(with_opt_ins) == ["opt_in", "transfer"]
    assert adapter.part_count(with_opt_ins, "opt_in") == 2 and adapter.part_count(with_opt_ins, "transfer") == 3
    one = _job("asa-ft", "transfer", {"to": "R", "amount": "1", "opt_ins": []})
    assert adapter.steps(one) == ["transfer"] and adapter.part_count(one, "transfer") == 1
    assert {kind: adapter.steps(_job("asa-ft", kind, {})) for kind in
            ("freeze", "unfreeze", "forced_transfer", "set_roles", "destroy")} == {
        "freeze": ["freeze"], "unfreeze": ["freeze"], "forced_transfer": ["clawback"],
        "set_roles": ["reconfigure"], "destroy": ["destroy"]}
    app_batch = _job("arc200-mintable", "batch_transfer", {"transfers": rows})
    assert adapter.steps(app_batch) == ["transfer"] and adapter.part_count(app_batch, "transfer") == 3  # 15 each
    for kind in ("mint", "transfer", "pause", "forced_transfer", "transfer_ownership"):
        app = _job("arc1400-mintable", kind, {"to": "R", "amount": "1"})
        assert adapter.steps(app) == [kind] and adapter.part_count(app, kind) == 1


# -------------------------------------------------------------------------------- plain assets
@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_asa_transfer_to_a_platform_user_who_must_opt_in(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("algo.ops.issuer")
    holder_body, _ = user_factory("algo.ops.holder")
    token = _deploy(client, "asa-ft", {"name": "Ops ASA", "unit_name": "OASA", "total": "1000000"})
    holder = holder_body["algorand_address"]
    assert token.issuer_address == body["algorand_address"]
    assert _holding(node, holder, token.asset_id) is None
    before = int(node.account_info(holder, exclude="all")["amount"])

    op = _operate(token, "transfer", {"to": holder, "amount": "250", "opt_ins": [holder],
                                      "opt_in_users": {holder: holder_body["id"]}})

    assert _holding(node, holder, token.asset_id) == {"amount": 250, "asset-id": token.asset_id,
                                                       "is-frozen": False}
    opt_in, transfer = _txs(op, "opt_in"), _txs(op, "transfer")
    assert [(t.part, t.status) for t in opt_in] == [(0, "confirmed")]
    assert [(t.part, t.status) for t in transfer] == [(0, "confirmed")]
    # The issuer's top-up and the holder's own opt-in, one atomic group (the holder signed its part).
    payment, opt_in_txn = (node.pending_transaction_info(txid)["txn"]["txn"] for txid in opt_in[0].group_tx_ids)
    assert (payment["type"], payment["snd"], payment["rcv"]) == ("pay", token.issuer_address, holder)
    assert (opt_in_txn["type"], opt_in_txn["snd"], opt_in_txn["arcv"]) == ("axfer", holder, holder)
    top_up = opt_in[0].details["top_up"]
    assert payment["amt"] == top_up == 100_000 + 100_000 + 1_000 - before  # account + asset minimum + its fee
    assert opt_in[0].details["spends"] == top_up + 1_000 and transfer[0].details["spends"] == 1_000
    assert _lease(opt_in[0].group_tx_ids[1], node) == hashlib.sha256(f"{op.pk}|opt_in|0|1".encode()).digest()
    assert op.results["holdings"][holder] == {"opted_in": True, "balance": "250", "frozen": False}
    assert op.results["holdings"][token.issuer_address]["balance"] == "999750"
    assert op.results["state"]["circulating"] == "250"


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_asa_batch_of_40_in_three_atomic_groups(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("algo.ops.batch")
    token = _deploy(client, "asa-ft", {"name": "Ops Batch", "unit_name": "OBAT", "total": "1000000"})
    keys = _opted_in_keys(node, token.asset_id, 40)

    op = _operate(token, "batch_transfer",
                  {"transfers": [{"to": k.address, "amount": str(i + 1)} for i, k in enumerate(keys)]})

    assert [_holding(node, k.address, token.asset_id)["amount"] for k in keys] == list(range(1, 41))
    txs = _txs(op)
    assert [(t.step, t.part, t.status, len(t.group_tx_ids)) for t in txs] == [
        ("transfer", 0, "confirmed", 16), ("transfer", 1, "confirmed", 16), ("transfer", 2, "confirmed", 8)]
    assert [t.details["transfers"] for t in txs] == [[0, 16], [16, 32], [32, 40]]
    assert [t.details["spends"] for t in txs] == [16_000, 16_000, 8_000]
    # Part 1's 5th transfer pays recipient 21 with the lease of (operation, step, part, index).
    fifth = node.pending_transaction_info(txs[1].group_tx_ids[4])["txn"]["txn"]
    assert (fifth["arcv"], fifth["aamt"]) == (keys[20].address, 21)
    assert base64.b64decode(fifth["lx"]) == hashlib.sha256(f"{op.pk}|transfer|1|4".encode()).digest()
    assert op.results["holdings"][keys[39].address]["balance"] == "40"


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_asa_freeze_clawback_roles_and_destroy(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("algo.ops.roles")
    issuer = body["algorand_address"]
    token = _deploy(client, "asa-ft", {"name": "Ops Roles", "unit_name": "OROL", "total": "1000",
                                       "freeze": issuer, "clawback": issuer})
    asset_id = token.asset_id
    holder = _opted_in_keys(node, asset_id, 1)[0].address
    _operate(token, "transfer", {"to": holder, "amount": "100"})

    frozen = _operate(token, "freeze", {"address": holder})
    assert _holding(node, holder, asset_id)["is-frozen"] is True
    assert frozen.results["holdings"][holder]["frozen"] is True
    _operate(token, "unfreeze", {"address": holder})
    assert _holding(node, holder, asset_id)["is-frozen"] is False

    _operate(token, "freeze", {"address": holder})  # clawback works on a frozen holding too
    clawed = _operate(token, "forced_transfer", {"from": holder, "to": issuer, "amount": "100",
                                                 "reason": "court order 7"})
    assert _holding(node, holder, asset_id)["amount"] == 0
    assert _holding(node, issuer, asset_id)["amount"] == 1000
    axfer = node.pending_transaction_info(_txs(clawed, "clawback")[0].tx_id)["txn"]["txn"]
    assert (axfer["asnd"], axfer["arcv"], axfer["snd"]) == (holder, issuer, issuer)

    reserve = Key().address
    roles = _operate(token, "set_roles", {"reserve": reserve, "freeze": ""})
    params = node.asset_info(asset_id)["params"]
    assert (params["manager"], params["reserve"], params["clawback"]) == (issuer, reserve, issuer)
    assert "freeze" not in params
    assert {r: roles.results["state"][r] for r in ("manager", "reserve", "freeze", "clawback")} == {
        "manager": issuer, "reserve": reserve, "freeze": "", "clawback": issuer}
    assert Token.objects.get(pk=token.pk).roles["freeze"] == ""

    # A cleared role can never be set again: refused before anything is signed.
    refused = _operate(token, "set_roles", {"freeze": issuer}, expect="failed")
    assert refused.error_code == "VALIDATION_ERROR" and "cannot re-set cleared role" in refused.error_message
    assert _txs(refused) == []

    destroyed = _operate(token, "destroy", {})
    with pytest.raises(AlgodHTTPError) as gone:
        node.asset_info(asset_id)
    assert gone.value.code == 404
    assert destroyed.results["state"]["deleted"] is True
    assert Token.objects.get(pk=token.pk).destroyed is True


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_asa_batch_retry_sends_only_the_refused_group(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("algo.ops.retry")
    token = _deploy(client, "asa-ft", {"name": "Ops Retry", "unit_name": "ORET", "total": "1000000"})
    keys = _opted_in_keys(node, token.asset_id, 39)
    late = Key()  # recipient 20 (group 1) is not opted in: the node refuses that whole group
    algo.ensure_funded(network=get_network(ALGO), address=late.address, needed_microalgos=300_000)
    keys.insert(20, late)
    rows = [{"to": k.address, "amount": str(i + 1)} for i, k in enumerate(keys)]

    op = _operate(token, "batch_transfer", {"transfers": rows}, expect="failed")

    assert op.error_code == "TRANSACTION_FAILED"
    assert op.error_details["partially_failed"] is True and op.error_details["confirmed_parts"] == [0, 2]
    assert [f["part"] for f in op.error_details["failed_parts"]] == [1]
    paid = [(_holding(node, k.address, token.asset_id) or {}).get("amount", 0) for k in keys]
    assert paid == [i + 1 for i in range(16)] + [0] * 16 + [i + 1 for i in range(32, 40)]
    assert [(t.part, t.status) for t in _txs(op)] == [(0, "confirmed"), (1, "failed"), (2, "confirmed")]

    net = get_network(ALGO)  # the holder opts in, then the issuer retries
    signed = algo.sign_transactions(signer=late.signer, reason="test", txns=[
        transaction.AssetOptInTxn(late.address, algo.suggested_params(network=net), token.asset_id)])
    algo.broadcast(network=net, raw=signed.raw)
    assert op.error_retryable and op.error_details["partially_failed"] is True
    with db_transaction.atomic():
        job_retry(job_type=OPERATION, job=op, user=None)
    op = _drive(op)
    assert op.status == "completed", (op.error_code, op.error_message)

    assert [_holding(node, k.address, token.asset_id)["amount"] for k in keys] == list(range(1, 41))
    assert [(t.part, t.status) for t in _txs(op)] == [(0, "confirmed"), (1, "superseded"), (1, "confirmed"),
                                                      (2, "confirmed")]
    issuer = node.account_asset_info(token.issuer_address, token.asset_id)["asset-holding"]["amount"]
    assert issuer == 1_000_000 - sum(range(1, 41))  # every recipient paid exactly once



@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_asa_retry_resigns_a_refused_group_after_the_opt_in_step(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("algo.ops.retry2")
    holder_body, _ = user_factory("algo.ops.retry2.holder")
    holder = holder_body["algorand_address"]
    token = _deploy(client, "asa-ft", {"name": "Ops Retry 2", "unit_name": "ORT2", "total": "1000000"})
    keys = _opted_in_keys(node, token.asset_id, 16)
    late = Key()  # in group 1 with the platform user, who opts in during the first step
    algo.ensure_funded(network=get_network(ALGO), address=late.address, needed_microalgos=300_000)
    rows = [{"to": k.address, "amount": "1"} for k in keys] + [{"to": late.address, "amount": "2"},
                                                                {"to": holder, "amount": "3"}]
    op = _operate(token, "batch_transfer", {"transfers": rows, "opt_ins": [holder],
                                            "opt_in_users": {holder: holder_body["id"]}}, expect="failed")
    assert [(t.step, t.part, t.status) for t in _txs(op)] == [
        ("opt_in", 0, "confirmed"), ("transfer", 0, "confirmed"), ("transfer", 1, "failed")]

    net = get_network(ALGO)
    signed = algo.sign_transactions(signer=late.signer, reason="test", txns=[
        transaction.AssetOptInTxn(late.address, algo.suggested_params(network=net), token.asset_id)])
    algo.broadcast(network=net, raw=signed.raw)
    assert op.error_retryable
    with db_transaction.atomic():
        job_retry(job_type=OPERATION, job=op, user=None)
    op = _drive(op)
    assert op.status == "completed", (op.error_code, op.error_message)
    assert (_holding(node, late.address, token.asset_id) or {}).get("amount") == 2
    assert (_holding(node, holder, token.asset_id) or {}).get("amount") == 3


# --------------------------------------------------------------------------------- app tokens
@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_arc200_mint_transfer_and_batch_to_new_holders(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("algo.ops.arc200")
    token = _deploy(client, "arc200-mintable", {"name": "Ops 200", "symbol": "O200", "decimals": 0,
                                                "initial_supply": "1000", "cap": "9000"})
    app_id, issuer = token.app_id, body["algorand_address"]
    minted_to, sent_to = Key().address, Key().address

    minted = _operate(token, "mint", {"to": minted_to, "amount": "500"})
    assert _box_balance(node, app_id, minted_to) == 500
    assert int.from_bytes(_global(node, app_id)["total_supply"], "big") == 1500
    group = _txs(minted, "mint")[0].group_tx_ids
    assert len(group) == 2  # the new balance box's minimum balance, paid to the app in the same group
    assert node.pending_transaction_info(group[0])["txn"]["txn"]["amt"] == 28_500
    assert minted.results["balances"][minted_to] == "500" and minted.results["state"]["total_supply"] == "1500"

    _operate(token, "transfer", {"to": sent_to, "amount": "40"})
    assert (_box_balance(node, app_id, sent_to), _box_balance(node, app_id, issuer)) == (40, 960)

    holders = [Key().address for _ in range(20)]
    batch = _operate(token, "batch_transfer",
                     {"transfers": [{"to": a, "amount": str(i + 1)} for i, a in enumerate(holders)]})
    assert [_box_balance(node, app_id, a) for a in holders] == list(range(1, 21))
    assert [(t.part, len(t.group_tx_ids), t.details["transfers"]) for t in _txs(batch)] == [
        (0, 16, [0, 15]), (1, 6, [15, 20])]  # 15 calls + 1 box payment; 5 calls + 1
    assert _box_balance(node, app_id, issuer) == 960 - sum(range(1, 21))


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_arc1400_pause_unpause_forced_transfer_and_ownership(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("algo.ops.arc1400")
    token = _deploy(client, "arc1400-mintable", {"name": "Ops Sec", "symbol": "OSEC", "decimals": 0,
                                                 "initial_supply": "100", "cap": "1000"})
    app_id, issuer = token.app_id, body["algorand_address"]

    paused = _operate(token, "pause", {})
    assert _global(node, app_id)["halted"] == 1 and paused.results["state"]["paused"] is True
    assert Token.objects.get(pk=token.pk).paused is True
    _operate(token, "unpause", {})
    assert _global(node, app_id)["halted"] == 0

    outsider = Key().address  # not whitelisted: a controller transfer bypasses the whitelist
    forced = _operate(token, "forced_transfer", {"from": issuer, "to": outsider, "amount": "7",
                                                 "reason": "regulator order 12"})
    assert (_box_balance(node, app_id, outsider), _box_balance(node, app_id, issuer)) == (7, 93)
    call = node.pending_transaction_info(_txs(forced, "forced_transfer")[0].group_tx_ids[-1])["txn"]["txn"]
    assert b"regulator order 12" in base64.b64decode(call["apaa"][-1])

    new_owner = Key().address
    _operate(token, "transfer_ownership", {"new_owner": new_owner})
    owner = _global(node, app_id)["owner"]
    assert encoding.encode_address(owner) == new_owner
    assert Token.objects.get(pk=token.pk).roles["owner"] == new_owner
