"""Talking to an algod node: client, suggested params with a validity window, leases, broadcast,
pending info and the status of a broadcast transaction.

Every function that reaches the node raises only `ChainUnavailable` (connection errors, timeouts,
5xx: retryable), `InsufficientFunds`, `TransactionFailed` (with the node's reason) or
`TransactionExpired` (the validity window has passed), so the pipeline can decide on retries
from the exception alone.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import msgpack
from algosdk import encoding, transaction
from algosdk.error import AlgodHTTPError, AlgodRequestError, AlgodResponseError
from algosdk.v2client.algod import AlgodClient
from django.conf import settings

from biatec.core.errors import (
    ChainError,
    ChainUnavailable,
    InsufficientFunds,
    TransactionExpired,
    TransactionFailed,
)
from tokens.contracts.avm import error_message, load_artifact
from tokens.networks import ALGORAND, Network, NetworkUnavailable, get_network

MIN_FEE = 1000
MAX_VALIDITY_ROUNDS = 1000  # consensus MaxTxnLife
DEFAULT_VALIDITY_ROUNDS = 1000
DEFAULT_TIMEOUT_SECONDS = 10
LEASE_DOMAIN = "biatec-tokens/algorand-lease/v1"
_MAX_REASON = 600


class LeaseInUse(TransactionFailed):
    """Another transaction of the same sender holds this lease (same deployment step) and its
    validity window is still open: the earlier transaction has landed or still may land. Check the
    stored transaction's status instead of sending a rebuilt one."""

    default_message = "An earlier transaction for this deployment step holds the lease; check its status."
    retryable = True


# --------------------------------------------------------------------------- client and errors
def resolve_network(network: Network | str) -> Network:
    """A registry `Network` (slugs accepted); only Algorand-family networks with a node."""
    net = get_network(network) if isinstance(network, str) else network
    if net.family != ALGORAND:
        raise ValueError(f"{net.slug} is not an Algorand network")
    if not net.node_url:
        raise NetworkUnavailable(details={"network": net.slug})
    return net


def _timeout() -> int:
    return int(getattr(settings, "ALGOD_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


_opener_lock = threading.Lock()
_opener_installed = False


def _default_opener_install() -> None:
    """py-algorand-sdk calls `urllib.request.urlopen` for every request, which builds a new opener
    (every handler, and a scan of the proxy environment) per call unless a global one is installed.
    Install the default opener once per process (`urllib.request.install_opener`, the documented way):
    the same handlers, the proxy environment read once, as a running process's environment does not
    change. An opener installed by someone else first is kept."""
    global _opener_installed
    with _opener_lock:
        if not _opener_installed:
            if getattr(urllib.request, "_opener", None) is None:
                urllib.request.install_opener(urllib.request.build_opener())
            _opener_installed = True


def algod_client(network: Network | str) -> Any:
    """An unmodified py-algorand-sdk client for the network's node (URL and token from settings).
    Typed `Any`: its methods are annotated `dict | bytes` (response formats), we only ask for JSON."""
    net = resolve_network(network)
    if not _opener_installed:
        _default_opener_install()
    return AlgodClient(net.node_token, net.node_url or "", headers={"User-Agent": "biatec-tokens"})


@contextmanager
def node_errors(network: Network, action: str) -> Iterator[None]:
    """Map transport failures and 5xx/401 answers to `ChainUnavailable`; 4xx `AlgodHTTPError`s
    other than 401/403 pass through for the caller to interpret."""
    details = {"network": network.slug, "action": action}
    try:
        yield
    except AlgodHTTPError as exc:
        code = exc.code or 0
        if code >= 500 or code in (0, 401, 403, 429):
            raise ChainUnavailable(f"The {network.name} node answered {code or 'an error'} while trying to {action}.",
                                   details={**details, "status": code, "reason": _short(str(exc))}) from None
        raise
    except (AlgodResponseError, AlgodRequestError, urllib.error.URLError, TimeoutError, ConnectionError,
            http.client.HTTPException, OSError) as exc:
        raise ChainUnavailable(f"The {network.name} node could not be reached while trying to {action}.",
                               details={**details, "reason": _short(str(exc))}) from None


def _short(text: str) -> str:
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON] + "..."


# ---------------------------------------------------------------------- params and leases
def lease_for(*, deployment_id: object, step: str, index: int = 0) -> bytes:
    """32-byte lease derived from the deployment and its step (and the transaction's position in a
    group: two transactions of one sender in one group cannot share a lease). A rebuilt transaction
    for the same step carries the same lease, so the ledger refuses it while an earlier one's
    validity window is open ("overlapping lease")."""
    return hashlib.sha256(f"{LEASE_DOMAIN}|{deployment_id}|{step}|{index}".encode()).digest()


def suggested_params(*, network: Network | str, validity_rounds: int | None = None) -> transaction.SuggestedParams:
    """Params from the node with the window [last round, last round + validity_rounds].

    `validity_rounds` defaults to `settings.ALGORAND_VALIDITY_ROUNDS` (1000, the consensus maximum,
    about 47 minutes on MainNet). The fee is the flat minimum unless the node reports congestion
    (per-byte fee > 0), in which case algosdk computes fee = size x per-byte fee at build time.
    """
    net = resolve_network(network)
    rounds = validity_rounds or int(getattr(settings, "ALGORAND_VALIDITY_ROUNDS", DEFAULT_VALIDITY_ROUNDS))
    if not 1 <= rounds <= MAX_VALIDITY_ROUNDS:
        raise ValueError(f"validity_rounds must be 1..{MAX_VALIDITY_ROUNDS}")
    with node_errors(net, "read suggested params"):
        sp = algod_client(net).suggested_params(timeout=_timeout())
    if net.genesis_id and sp.gen != net.genesis_id:
        raise ChainUnavailable(f"The node for {net.slug} serves genesis {sp.gen!r}, not {net.genesis_id!r}.",
                               details={"network": net.slug, "genesis_id": sp.gen}, retryable=False)
    if net.genesis_hash and sp.gh != net.genesis_hash:
        raise ChainUnavailable(f"The node for {net.slug} serves another genesis hash.",
                               details={"network": net.slug, "genesis_hash": sp.gh}, retryable=False)
    sp.last = sp.first + rounds
    if not sp.fee:
        sp.flat_fee, sp.fee = True, max(sp.min_fee or MIN_FEE, MIN_FEE)
    return sp


# ---------------------------------------------------------------------------- signed groups
@dataclass(frozen=True)
class SignedAlgorandGroup:
    """What the pipeline stores before broadcasting: the exact bytes and their txids.

    `raw` is the msgpack of every signed transaction, concatenated (what `POST /v2/transactions`
    takes); `txids[0]` is the transaction whose pending info carries the created asset/app id for
    single-transaction steps. `from_raw` recovers everything from stored bytes.
    """

    raw: bytes
    txids: tuple[str, ...]
    sender: str
    first_valid: int
    last_valid: int
    group_id: str | None = None
    leases: tuple[str | None, ...] = field(default=())

    @property
    def txid(self) -> str:
        return self.txids[0]

    @classmethod
    def from_signed(cls, stxns: Sequence[transaction.SignedTransaction]) -> SignedAlgorandGroup:
        raw = b"".join(base64.b64decode(encoding.msgpack_encode(s)) for s in stxns)
        txns = [s.transaction for s in stxns]
        group = txns[0].group
        return cls(
            raw=raw,
            txids=tuple(s.get_txid() for s in stxns),
            sender=txns[0].sender,
            first_valid=max(t.first_valid_round for t in txns),
            last_valid=min(t.last_valid_round for t in txns),
            group_id=base64.b64encode(group).decode() if group else None,
            leases=tuple(base64.b64encode(t.lease).decode() if t.lease else None for t in txns),
        )

    @classmethod
    def from_raw(cls, raw: bytes) -> SignedAlgorandGroup:
        return cls.from_signed(decode_signed(raw))


def decode_signed(raw: bytes) -> list[transaction.SignedTransaction]:
    """The signed transactions in concatenated msgpack bytes."""
    unpacker = msgpack.Unpacker(BytesIO(raw), raw=False, strict_map_key=False)
    return [transaction.SignedTransaction.undictify(item) for item in unpacker]


# -------------------------------------------------------------------------------- broadcast
_ALREADY_KNOWN = re.compile(r"already in (ledger|pool)|transaction already|txn already in", re.I)
_TXN_DEAD = re.compile(r"txn dead: round (\d+) outside of (\d+)--(\d+)")
_PC = re.compile(r"pc=(\d+)")
_FAILED_TXID = re.compile(r"transaction ([A-Z2-7]{52})")
_BELOW_MIN = re.compile(r"account ([A-Z2-7]{58}) balance (\d+) below min (\d+)")
_OVERSPEND = re.compile(r"overspend \(account ([A-Z2-7]{58}).*?MicroAlgos:\{Raw:(\d+)\}.*tried to spend \{(\d+)\}",
                        re.S)


def broadcast(*, network: Network | str, raw: bytes) -> str:
    """Send signed bytes (one transaction or a group) and return the first txid.

    Sending bytes the ledger already holds ("transaction already in ledger") is harmless and
    answers the same txid, so a retry re-broadcasts the stored bytes rather than signing anew.
    """
    net = resolve_network(network)
    stxns = decode_signed(raw)
    if not stxns:
        raise ValueError("no signed transaction in raw bytes")
    txid = stxns[0].get_txid()
    try:
        with node_errors(net, "broadcast a transaction"):
            algod_client(net).send_raw_transaction(base64.b64encode(raw), timeout=_timeout())
    except AlgodHTTPError as exc:
        message = str(exc)
        named = re.findall(r"[A-Z2-7]{52}", message)
        ours = {s.get_txid() for s in stxns}
        if _ALREADY_KNOWN.search(message) and (not named or ours & set(named)):
            return txid
        raise rejection_error(net, message, stxns) from None
    return txid


def rejection_error(network: Network, message: str, stxns: Sequence[transaction.SignedTransaction]) -> ChainError:
    """Classify a node's refusal of a submission."""
    details: dict[str, Any] = {"network": network.slug, "reason": _short(message),
                               "txids": [s.get_txid() for s in stxns]}
    dead = _TXN_DEAD.search(message)
    if dead:
        rnd, first, last = (int(x) for x in dead.groups())
        details.update(round=rnd, first_valid=first, last_valid=last)
        if rnd > last:
            return TransactionExpired("The transaction's validity window has passed (current round "
                                      f"{rnd} > last valid {last}).", details=details)
        return TransactionFailed(f"The transaction is not valid yet (round {rnd} < first valid {first}).",
                                 details=details, retryable=True)
    if "overlapping lease" in message:
        return LeaseInUse(details=details)
    senders = {s.transaction.sender for s in stxns}
    over = _OVERSPEND.search(message)
    if over:
        address, balance, spend = over.group(1), int(over.group(2)), int(over.group(3))
        return InsufficientFunds(f"Account {address} cannot pay {spend} microAlgos.",
                                 details={**details, "address": address, "balance_microalgos": balance,
                                          "needed_microalgos": spend})
    below = _BELOW_MIN.search(message)
    if below and below.group(1) in senders:
        address, balance, minimum = below.group(1), int(below.group(2)), int(below.group(3))
        return InsufficientFunds(f"Account {address} would fall below its minimum balance.",
                                 details={**details, "address": address, "balance_microalgos": balance,
                                          "min_balance_microalgos": minimum})
    reason = _contract_reason(network, message, stxns)
    if reason:
        details["contract_error"] = reason
    return TransactionFailed(f"The node rejected the transaction: {reason or _short(message)}", details=details)


def _contract_reason(network: Network, message: str, stxns: Sequence[transaction.SignedTransaction]) -> str | None:
    """Map `assert failed pc=N` back to the contract source's message via the ARC-56 source map."""
    pc_match = _PC.search(message)
    if not pc_match or "logic eval error" not in message:
        return None
    failed = _FAILED_TXID.search(message)
    app_ids = [getattr(s.transaction, "index", 0) for s in stxns
               if isinstance(s.transaction, transaction.ApplicationCallTxn)
               and (not failed or s.get_txid() == failed.group(1))]
    for app_id in app_ids:
        if not app_id:
            continue
        try:
            with node_errors(network, "read an application"):
                params = algod_client(network).application_info(app_id, timeout=_timeout())["params"]
        except (ChainError, AlgodHTTPError, KeyError):
            continue
        approval = base64.b64decode(params.get("approval-program", ""))
        for name in ("arc200", "arc1400"):
            if load_artifact(name)["approval"] == approval:
                return error_message(name, int(pc_match.group(1)))
    return None


# ------------------------------------------------------------------------------ status checks
CONFIRMED, PENDING, FAILED, EXPIRED = "confirmed", "pending", "failed", "expired"


@dataclass(frozen=True)
class TxStatus:
    """Where a broadcast transaction stands. `state` is confirmed / pending / failed / expired."""

    txid: str
    state: str
    current_round: int
    last_valid: int
    confirmed_round: int | None = None
    pool_error: str = ""
    info: dict[str, Any] | None = None

    @property
    def asset_id(self) -> int | None:
        return (self.info or {}).get("asset-index")

    @property
    def app_id(self) -> int | None:
        return (self.info or {}).get("application-index")

    def error(self, network: Network | str | None = None) -> ChainError | None:
        """The exception for a failed or expired transaction (None otherwise)."""
        slug = network if isinstance(network, str) else getattr(network, "slug", None)
        details = {"network": slug, "txid": self.txid, "current_round": self.current_round,
                   "last_valid": self.last_valid}
        if self.state == FAILED:
            return TransactionFailed(f"The node dropped the transaction: {self.pool_error}",
                                     details={**details, "reason": self.pool_error})
        if self.state == EXPIRED:
            return TransactionExpired(details=details)
        return None


def current_round(*, network: Network | str) -> int:
    net = resolve_network(network)
    with node_errors(net, "read the node status"):
        return int(algod_client(net).status(timeout=_timeout())["last-round"])


def pending_info(*, network: Network | str, txid: str) -> dict[str, Any] | None:
    """algod's pending-transaction info (confirmed-round, asset-index, application-index, pool-error),
    or None when the node does not know the txid."""
    net = resolve_network(network)
    try:
        with node_errors(net, "read a pending transaction"):
            return algod_client(net).pending_transaction_info(txid, timeout=_timeout())
    except AlgodHTTPError as exc:
        if exc.code == 404:
            return None
        raise ChainUnavailable(details={"network": net.slug, "reason": _short(str(exc))}) from None


def transaction_status(*, network: Network | str, txid: str, last_valid: int) -> TxStatus:
    """Confirmed (with round and pending info), pending, failed (pool-error) or expired.

    The round is read *before* the pending info: a transaction that confirms in between is then
    seen as confirmed, never as expired. Expired means: not confirmed and current round > last_valid,
    so these bytes can never land and a rebuilt transaction cannot double-spend the step.
    """
    net = resolve_network(network)
    rnd = current_round(network=net)
    info = pending_info(network=net, txid=txid)
    if info and info.get("confirmed-round"):
        return TxStatus(txid, CONFIRMED, rnd, last_valid, int(info["confirmed-round"]), info=info)
    if info and info.get("pool-error"):
        return TxStatus(txid, FAILED, rnd, last_valid, pool_error=str(info["pool-error"]), info=info)
    if rnd > last_valid:
        return TxStatus(txid, EXPIRED, rnd, last_valid, info=info)
    return TxStatus(txid, PENDING, rnd, last_valid, info=info)


def wait_for_confirmation(*, network: Network | str, txid: str, last_valid: int, max_rounds: int = 20,
                          timeout_seconds: float = 60.0) -> TxStatus:
    """Follow a broadcast transaction round by round until it is confirmed (returned), failed
    (`TransactionFailed`) or expired (`TransactionExpired`). Bounded by `last_valid`, by `max_rounds`
    and by `timeout_seconds`: when one of the last two is hit first, the pending status is returned
    (the caller checks again later; nothing is lost)."""
    net = resolve_network(network)
    deadline = time.monotonic() + timeout_seconds
    status = transaction_status(network=net, txid=txid, last_valid=last_valid)
    start = status.current_round
    while True:
        if status.state == CONFIRMED:
            return status
        error = status.error(net)
        if error:
            raise error
        if status.current_round - start >= max_rounds or time.monotonic() >= deadline:
            return status
        with node_errors(net, "wait for the next round"):
            algod_client(net).status_after_block(status.current_round, timeout=_timeout())
        status = transaction_status(network=net, txid=txid, last_valid=last_valid)
