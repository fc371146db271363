"""Post-issuance operations on Algorand tokens: the UNSIGNED transactions, live reads of what they
changed, signing a group whose transactions have several senders, and what an operation costs.

Plain assets (ASA / ARC-3): batch transfers in atomic groups, opt-in (with a top-up from a funder
so the holder keeps its minimum balance), freeze, clawback, role reconfiguration, destroy.
Smart-contract tokens (ARC-200 / ARC-1400, `tokens/contracts/avm`): mint/issue, burn (redeem),
transfer, pause/unpause (halt), forced (controller) transfer, ownership transfer, whitelist, each as
one app call with the box references the contract touches, preceded in the same group by a payment
to the app account for the minimum balance of the boxes the call creates (read which exist now).

The flow is the deployment's (`tokens.chains.algorand`): `ensure_funded(operation_cost(...))` (or
`spending(...)` of the built group), `sp = suggested_params()`, build here, `sign_transactions` /
`sign_group_multi` -> store -> `broadcast` -> `wait_for_confirmation`, then read back.

Leases: every transaction carries `operation_lease(lease_seed, index)` = sha256("<seed>|<index>").
A rebuilt operation (same seed) therefore cannot land twice while the earlier bytes' validity
window is open. Indexes are fixed per role so that a rebuild after the chain moved (a box now
exists, a top-up no longer needed) keeps the leases of the transactions that matter: transfer i
of a batch is index i; the one call of `app_operation_group` is 0; an opt-in group's top-up is 0
and its opt-in 1; a box-MBR payment of group g is "box-mbr/g".

No Django model is touched here (chain layer): signers come in as `SignerContext`s.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from algosdk import encoding, transaction
from algosdk.error import AlgodHTTPError
from algosdk.logic import get_application_address

from biatec.core.errors import ChainUnavailable, NotFound
from tokens.contracts.avm import BALANCE_BOX_MIN_BALANCE, WHITELIST_BOX_MIN_BALANCE, WHITELIST_BOX_PREFIX
from tokens.networks import Network

from .algorand_build import (
    ACCOUNT_MIN_BALANCE,
    ASSET_MIN_BALANCE,
    abi_method,
    algorand_standard,
    balance_box,
    build_app_call,
    whitelist_box,
)
from .algorand_node import MIN_FEE, SignedAlgorandGroup, _timeout, algod_client, node_errors, resolve_network
from .algorand_reads import account_info, read_arc200, read_asset, read_box
from .signing import SignerContext

__all__ = [
    "MAX_APP_REFERENCES", "MAX_GROUP", "OPERATION_KINDS", "ROLES", "Transfer",
    "app_operation_group", "app_transfer_groups", "app_whitelist_groups", "asset_clawback_txn",
    "asset_destroy_txn", "asset_freeze_groups", "asset_freeze_txn", "asset_opt_in_group", "asset_reconfigure_txn",
    "asset_transfer_groups",
    "operation_cost", "operation_lease", "opt_in_top_up", "read_app_token_state", "read_asset_holding",
    "native_sweep_group", "native_sweep_plan", "read_asset_state", "sign_group_multi", "spending",
]

Transfer = tuple[str, int]
"""(receiver address, amount in base units)"""

MAX_GROUP = 16  # consensus MaxTxGroupSize
MAX_APP_REFERENCES = 8  # consensus MaxAppBoxReferences / MaxAppTotalTxnReferences per app call
ROLES = ("manager", "reserve", "freeze", "clawback")
FORCED_TRANSFER_JUSTIFICATION = b"biatec-tokens: forced transfer"
"""ARC-1644 refuses an empty justification ("justification required"): used unless params give one."""

OPERATION_KINDS = ("transfer", "batch_transfer", "opt_in", "freeze", "unfreeze", "clawback", "reconfigure",
                   "set_roles", "destroy", "mint", "burn", "pause", "unpause", "forced_transfer", "transfer_ownership",
                   "whitelist")
"""What `operation_cost` prices: the app kinds of `app_operation_group`, the asset builders here, and the
names of `tokens.standards.operations` (batch_transfer, set_roles)."""
APP_KINDS = ("mint", "burn", "transfer", "pause", "unpause", "forced_transfer", "transfer_ownership", "whitelist")


# ---------------------------------------------------------------------------------- helpers
def operation_lease(lease_seed: str, index: int | str = 0) -> bytes:
    """32-byte lease sha256("<lease_seed>|<index>") (see the module docstring for the indexes)."""
    if not lease_seed:
        raise ValueError("an operation needs a lease seed")
    return hashlib.sha256(f"{lease_seed}|{index}".encode()).digest()


def _address(value: Any, what: str) -> str:
    text = str(value or "")
    if not encoding.is_valid_address(text):
        raise ValueError(f"{what}: not a valid Algorand address ({text!r})")
    return text


def _amount(value: Any, what: str, *, bits: int = 64) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise ValueError(f"{what}: an amount is an integer between 0 and 2^{bits} - 1 (got {value!r})")
    return value


def _transfers(transfers: Sequence[Transfer], *, bits: int) -> list[Transfer]:
    if not transfers:
        raise ValueError("no transfers")
    return [(_address(to, f"transfers[{i}] receiver"), _amount(amount, f"transfers[{i}] amount", bits=bits))
            for i, (to, amount) in enumerate(transfers)]


def _group(txns: list[transaction.Transaction]) -> list[transaction.Transaction]:
    """Assign the group id (also to a single transaction: one shape for every builder here)."""
    return transaction.assign_group_id(txns)


# ------------------------------------------------------------------------------ plain assets
def asset_transfer_groups(*, sp: transaction.SuggestedParams, sender: str, asset_id: int,
                          transfers: Sequence[Transfer], lease_seed: str) -> list[list[transaction.Transaction]]:
    """Transfers in atomic groups of up to 16 (group ids assigned), transfer i with lease
    `operation_lease(lease_seed, i)`. Every receiver must already be opted in (else the whole group
    fails: a group is all or nothing, which is why a batch is split into groups, not one txn each)."""
    sender = _address(sender, "sender")
    txns: list[transaction.Transaction] = [
        transaction.AssetTransferTxn(sender, sp, to, amount, asset_id, lease=operation_lease(lease_seed, i))
        for i, (to, amount) in enumerate(_transfers(transfers, bits=64))]
    return [_group(txns[start:start + MAX_GROUP]) for start in range(0, len(txns), MAX_GROUP)]


def asset_opt_in_group(*, sp: transaction.SuggestedParams, funder: str, holder: str, asset_id: int, top_up: int,
                       lease_seed: str) -> list[transaction.Transaction]:
    """[payment funder -> holder of `top_up` microAlgos (omitted when 0), the holder's 0-amount
    opt-in], grouped: the holder is never funded without opting in. Two senders: sign with
    `sign_group_multi` (or `sign_transactions` when no top-up). Leases: payment 0, opt-in 1."""
    funder, holder = _address(funder, "funder"), _address(holder, "holder")
    top_up = _amount(top_up, "top_up")
    txns: list[transaction.Transaction] = []
    if top_up:
        if funder == holder:
            raise ValueError("the holder cannot top itself up")
        txns.append(transaction.PaymentTxn(funder, sp, holder, top_up, lease=operation_lease(lease_seed, 0)))
    txns.append(transaction.AssetOptInTxn(holder, sp, asset_id, lease=operation_lease(lease_seed, 1)))
    return _group(txns)


def opt_in_top_up(*, network: Network | str, holder: str, fee: int = MIN_FEE) -> int:
    """microAlgos the holder needs so that opting in one more asset (and paying the opt-in fee)
    leaves it at its new minimum balance; 0 if it holds enough. An empty account counts its
    100_000 account minimum too (algod reports min-balance 0 for it)."""
    info = account_info(network=network, address=_address(holder, "holder"))
    minimum = max(int(info.get("min-balance", 0)), ACCOUNT_MIN_BALANCE)
    return max(0, minimum + ASSET_MIN_BALANCE + int(fee) - int(info.get("amount", 0)))


def asset_freeze_txn(*, sp: transaction.SuggestedParams, sender: str, asset_id: int, target: str, frozen: bool,
                     lease_seed: str) -> transaction.Transaction:
    """Freeze (or unfreeze) `target`'s holding; the sender must be the asset's freeze address."""
    return transaction.AssetFreezeTxn(_address(sender, "sender"), sp, asset_id, _address(target, "target"),
                                      bool(frozen), lease=operation_lease(lease_seed, 0))


def asset_freeze_groups(*, sp: transaction.SuggestedParams, sender: str, asset_id: int,
                        changes: Sequence[tuple[str, bool]], lease_seed: str) -> list[list[transaction.Transaction]]:
    """Freeze (True) or unfreeze (False) holdings in atomic groups of up to 16, change i with lease
    `operation_lease(lease_seed, i)`. Every target must be opted in (else its whole group fails)."""
    sender = _address(sender, "sender")
    if not changes:
        raise ValueError("no freeze changes")
    txns: list[transaction.Transaction] = [
        transaction.AssetFreezeTxn(sender, sp, asset_id, _address(target, f"changes[{i}] address"), bool(frozen),
                                   lease=operation_lease(lease_seed, i))
        for i, (target, frozen) in enumerate(changes)]
    return [_group(txns[start:start + MAX_GROUP]) for start in range(0, len(txns), MAX_GROUP)]


def asset_clawback_txn(*, sp: transaction.SuggestedParams, sender: str, asset_id: int, owner: str, receiver: str,
                       amount: int, lease_seed: str) -> transaction.Transaction:
    """Move `amount` out of `owner`'s holding to `receiver` (frozen or not); the sender must be the
    clawback address and the receiver opted in."""
    return transaction.AssetTransferTxn(_address(sender, "sender"), sp, _address(receiver, "receiver"),
                                        _amount(amount, "amount"), asset_id,
                                        revocation_target=_address(owner, "owner"),
                                        lease=operation_lease(lease_seed, 0))


def asset_reconfigure_txn(*, sp: transaction.SuggestedParams, sender: str, asset_id: int,
                          current: Mapping[str, str | None], changes: Mapping[str, str | None],
                          lease_seed: str) -> transaction.Transaction:
    """An AssetConfig that changes roles. `current`: all four roles as read from chain ('' or None
    = cleared); `changes`: new values (None or '' clears).

    The ledger sets all four roles from every config transaction (an absent field clears the
    role), so each role not in `changes` is passed again with its current value
    (`strict_empty_address_check=False` lets cleared ones stay cleared). A cleared role can never
    be set again: ValueError('cannot re-set cleared role: <role>'), before anything is signed.
    Refused too: a sender other than the manager, and clearing every role (a config without
    parameters is a destroy on the ledger: use `asset_destroy_txn`)."""
    unknown = sorted(set(changes) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown asset roles: {', '.join(unknown)}")
    if not changes:
        raise ValueError("no role changes")
    missing = [role for role in ROLES if role not in current]
    if missing:
        raise ValueError(f"current roles missing: {', '.join(missing)} (read them from chain)")
    now = {role: current[role] or "" for role in ROLES}
    final = dict(now)
    for role in ROLES:
        if role not in changes:
            continue
        value = changes[role] or ""
        if value and not now[role]:
            raise ValueError(f"cannot re-set cleared role: {role}")
        final[role] = _address(value, role) if value else ""
    sender = _address(sender, "sender")
    if not now["manager"]:
        raise ValueError("the asset has no manager: its roles cannot change")
    if sender != now["manager"]:
        raise ValueError(f"only the manager {now['manager']} can reconfigure the asset")
    if not any(final.values()):
        raise ValueError("clearing every role would destroy the asset; use asset_destroy_txn")
    return transaction.AssetConfigTxn(sender, sp, index=asset_id, manager=final["manager"] or None,
                                      reserve=final["reserve"] or None, freeze=final["freeze"] or None,
                                      clawback=final["clawback"] or None, strict_empty_address_check=False,
                                      lease=operation_lease(lease_seed, 0))


def asset_destroy_txn(*, sp: transaction.SuggestedParams, sender: str, asset_id: int,
                      lease_seed: str) -> transaction.Transaction:
    """Destroy the asset (sender = manager; the ledger requires the creator to hold the whole total)."""
    return transaction.AssetDestroyTxn(_address(sender, "sender"), sp, asset_id,
                                       lease=operation_lease(lease_seed, 0))


# ------------------------------------------------------------------------------ app tokens
@dataclass(frozen=True)
class _Call:
    """One app call: method, ABI arguments, referenced boxes and those it writes (created if absent)."""

    method: str
    args: tuple[Any, ...]
    boxes: tuple[bytes, ...]
    writes: tuple[bytes, ...] = ()


def _box_mbr(name: bytes) -> int:
    """Minimum balance a new box adds to the app account (balance boxes and whitelist boxes only)."""
    return WHITELIST_BOX_MIN_BALANCE if name.startswith(WHITELIST_BOX_PREFIX) else BALANCE_BOX_MIN_BALANCE


def _has_method(standard: str, method: str) -> bool:
    try:
        abi_method(standard, method)
    except KeyError:
        return False
    return True


def _require(standard: str, kind: str, method: str) -> str:
    if not _has_method(standard, method):
        raise ValueError(f"{standard} has no {kind} operation")
    return method


def _param(params: Mapping[str, Any], name: str, kind: str) -> Any:
    if name not in params:
        raise ValueError(f"{kind} needs {name!r}")
    return params[name]


def _transfer_call(standard: str, sender: str, to: str, amount: int) -> _Call:
    """arc200_transfer: both balance boxes (written); ARC-1400 also reads both whitelist boxes."""
    boxes = [balance_box(sender), balance_box(to)]
    if algorand_standard(standard).whitelist:
        boxes += [whitelist_box(sender), whitelist_box(to)]
    return _Call("arc200_transfer", (to, amount), tuple(dict.fromkeys(boxes)),
                 writes=tuple(dict.fromkeys([balance_box(sender), balance_box(to)])))


def _app_call_plan(*, standard: str, kind: str, sender: str, params: Mapping[str, Any]) -> _Call:
    """The method, arguments and boxes of one operation, from the contract sources
    (tokens/contracts/avm/arc200_token.py, arc1400_security_token.py)."""
    spec = algorand_standard(standard)
    if not spec.is_app:
        raise ValueError(f"{standard} is a plain asset, not an application token")
    if kind not in APP_KINDS:
        raise ValueError(f"unknown application token operation {kind!r}")
    if kind == "mint":
        to = _address(_param(params, "to", kind), "to")
        amount = _amount(_param(params, "amount", kind), "amount", bits=256)
        if not spec.mintable:
            raise ValueError(f"{standard} is not mintable")
        if _has_method(standard, "arc1594_issue"):  # ARC-1400: issue to a whitelisted holder
            return _Call("arc1594_issue", (to, amount, b""), (balance_box(to), whitelist_box(to)),
                         writes=(balance_box(to),))
        return _Call("mint", (to, amount), (balance_box(to),), writes=(balance_box(to),))
    if kind == "burn":
        amount = _amount(_param(params, "amount", kind), "amount", bits=256)
        method = _require(standard, kind, "arc1594_redeemFrom")
        return _Call(method, (sender, amount, b""), (balance_box(sender),), writes=(balance_box(sender),))
    if kind == "transfer":
        return _transfer_call(standard, sender, _address(_param(params, "to", kind), "to"),
                              _amount(_param(params, "amount", kind), "amount", bits=256))
    if kind in ("pause", "unpause"):
        return _Call(_require(standard, kind, "set_halt"), (kind == "pause",), ())
    if kind == "forced_transfer":
        source = _address(_param(params, "from", kind), "from")
        to = _address(_param(params, "to", kind), "to")
        amount = _amount(_param(params, "amount", kind), "amount", bits=256)
        justification = params.get("justification") or FORCED_TRANSFER_JUSTIFICATION
        if isinstance(justification, str):
            justification = justification.encode()
        boxes = tuple(dict.fromkeys([balance_box(source), balance_box(to)]))  # whitelist and halt bypassed
        return _Call(_require(standard, kind, "arc1644_controller_transfer"),
                     (source, to, amount, bytes(justification)), boxes, writes=boxes)
    if kind == "transfer_ownership":
        new_owner = _address(_param(params, "new_owner", kind), "new_owner")
        return _Call(_require(standard, kind, "arc88_transfer_ownership"), (new_owner,), ())
    address = _address(_param(params, "address", kind), "address")  # whitelist
    eligible = _param(params, "eligible", kind)
    if not isinstance(eligible, bool):
        raise ValueError("whitelist 'eligible' must be a bool")
    box = whitelist_box(address)
    return _Call(_require(standard, kind, "whitelist_set"), (address, eligible), (box,),
                 writes=(box,) if eligible else ())  # removal deletes the box (frees its MBR)


def _absent_boxes(network: Network, app_id: int, names: Iterable[bytes]) -> set[bytes]:
    """Which of these boxes do not exist now (one read per distinct box)."""
    return {name for name in dict.fromkeys(names) if read_box(network=network, app_id=app_id, name=name) is None}


def _mbr_payment(sp: transaction.SuggestedParams, sender: str, app_id: int, amount: int, lease_seed: str,
                 group_index: int) -> transaction.PaymentTxn:
    return transaction.PaymentTxn(sender, sp, get_application_address(app_id), amount,
                                  lease=operation_lease(lease_seed, f"box-mbr/{group_index}"))


def app_operation_group(*, network: Network | str, sp: transaction.SuggestedParams, sender: str, app_id: int,
                        standard: str, kind: str, params: Mapping[str, Any],
                        lease_seed: str) -> list[transaction.Transaction]:
    """The app call of one operation with its box references, preceded (same group) by a payment
    sender -> app account covering the minimum balance of the boxes the call will create (boxes
    read now; 28_500 per balance box, 16_100 per whitelist box), when any. Grouped; call lease 0.

    kind/params: 'mint' {to, amount} (ARC-200 `mint`, ARC-1400 `arc1594_issue(to, amount, b"")`);
    'burn' {amount} (ARC-1400 `arc1594_redeemFrom(sender, amount, b"")`); 'transfer' {to, amount};
    'pause'/'unpause' {}; 'forced_transfer' {from, to, amount[, justification]} (ARC-1644, a
    non-empty justification is required by the contract: defaults to
    `FORCED_TRANSFER_JUSTIFICATION`); 'transfer_ownership' {new_owner}; 'whitelist' {address,
    eligible}. ValueError for an operation the standard's contract lacks."""
    net = resolve_network(network)
    sender = _address(sender, "sender")
    plan = _app_call_plan(standard=standard, kind=kind, sender=sender, params=params)
    call = build_app_call(sp=sp, sender=sender, app_id=app_id, standard=standard, method=plan.method,
                          args=list(plan.args), boxes=plan.boxes, lease=operation_lease(lease_seed, 0))
    mbr = sum(_box_mbr(name) for name in _absent_boxes(net, app_id, plan.writes))
    txns: list[transaction.Transaction] = [call]
    if mbr:
        txns.insert(0, _mbr_payment(sp, sender, app_id, mbr, lease_seed, 0))
    return _group(txns)


def app_transfer_groups(*, network: Network | str, sp: transaction.SuggestedParams, sender: str, app_id: int,
                        standard: str, transfers: Sequence[Transfer],
                        lease_seed: str) -> list[list[transaction.Transaction]]:
    """Batch `arc200_transfer` calls in atomic groups of up to 16 transactions: 16 calls, or one
    box-MBR payment (for the balance boxes first created in that group) and 15 calls. Each call
    references only its own boxes (2, or 4 with ARC-1400's whitelist boxes: within the 8 per
    transaction, so no group resource sharing is relied on). Transfer i carries lease i."""
    net = resolve_network(network)
    sender = _address(sender, "sender")
    if not algorand_standard(standard).is_app:
        raise ValueError(f"{standard} is a plain asset: use asset_transfer_groups")
    plans = [_transfer_call(standard, sender, to, amount) for to, amount in _transfers(transfers, bits=256)]
    return _app_call_groups(net=net, sp=sp, sender=sender, app_id=app_id, standard=standard, plans=plans,
                            lease_seed=lease_seed)


def app_whitelist_groups(*, network: Network | str, sp: transaction.SuggestedParams, sender: str, app_id: int,
                         standard: str, changes: Sequence[tuple[str, bool]],
                         lease_seed: str) -> list[list[transaction.Transaction]]:
    """`whitelist_set(address, eligible)` calls (ARC-1400, owner only) in atomic groups like
    `app_transfer_groups`: 16 calls, or the MBR payment of the whitelist boxes first created in the
    group and 15 calls. Change i carries lease i."""
    net = resolve_network(network)
    sender = _address(sender, "sender")
    if not changes:
        raise ValueError("no whitelist changes")
    plans = [_app_call_plan(standard=standard, kind="whitelist", sender=sender,
                            params={"address": address, "eligible": eligible}) for address, eligible in changes]
    return _app_call_groups(net=net, sp=sp, sender=sender, app_id=app_id, standard=standard, plans=plans,
                            lease_seed=lease_seed)


def _app_call_groups(*, net: Network, sp: transaction.SuggestedParams, sender: str, app_id: int, standard: str,
                     plans: Sequence[_Call], lease_seed: str) -> list[list[transaction.Transaction]]:
    """Calls in atomic groups of up to 16, a box-MBR payment first in a group that creates boxes
    (then 15 calls); call i carries lease i, the payment of group g lease `box-mbr/g`."""
    absent = _absent_boxes(net, app_id, (name for plan in plans for name in plan.writes))
    groups: list[list[transaction.Transaction]] = []
    start = 0
    while start < len(plans):
        chunk = list(plans[start:start + MAX_GROUP])
        if any(absent & set(plan.writes) for plan in chunk):
            chunk = chunk[:MAX_GROUP - 1]  # room for the payment
        created = [name for name in dict.fromkeys(n for plan in chunk for n in plan.writes) if name in absent]
        absent -= set(created)
        calls: list[transaction.Transaction] = [
            build_app_call(sp=sp, sender=sender, app_id=app_id, standard=standard, method=plan.method,
                           args=list(plan.args), boxes=plan.boxes, lease=operation_lease(lease_seed, start + i))
            for i, plan in enumerate(chunk)]
        mbr = sum(_box_mbr(name) for name in created)
        if mbr:
            calls.insert(0, _mbr_payment(sp, sender, app_id, mbr, lease_seed, len(groups)))
        groups.append(_group(calls))
        start += len(chunk)
    return groups


# ------------------------------------------------------------------------------------ signing
def sign_group_multi(*, signers: Mapping[str, SignerContext], txns: Sequence[transaction.Transaction],
                     reason: str) -> SignedAlgorandGroup:
    """Sign a group whose transactions have different senders, each with its own signer context.
    Each key is opened once, only inside its own `with` block, and only if one of the transactions
    is its sender's (extra signers stay closed). Order and group id are kept."""
    if not txns:
        raise ValueError("nothing to sign")
    if len(txns) > 1 and any(t.group is None for t in txns):
        raise ValueError("a multi-transaction list must be grouped before signing")
    senders = list(dict.fromkeys(t.sender for t in txns))
    missing = [s for s in senders if s not in signers]
    if missing:
        raise ValueError(f"no signer for {missing}")
    signed: dict[int, transaction.SignedTransaction] = {}
    for sender in senders:
        positions = [i for i, t in enumerate(txns) if t.sender == sender]
        with signers[sender](reason) as key:
            if key.address != sender:
                raise ValueError(f"the signer for {sender} holds the key of {key.address}")
            for i, stxn in zip(positions, key.sign_group([txns[i] for i in positions]), strict=True):
                signed[i] = stxn
    return SignedAlgorandGroup.from_signed([signed[i] for i in range(len(txns))])


# --------------------------------------------------------------------------------------- costs
def operation_cost(*, kind: str, parts: int = 1, top_up: int = 0, box_mbr: int = 0, fee: int = MIN_FEE) -> int:
    """microAlgos the sender spends (fees and payments), for `ensure_funded` before building.

    `parts`: transactions of the operation the sender signs (transfers of a batch, 1 otherwise).
    'opt_in': the sender is the funder: `top_up` (total) plus one payment fee per holder (`parts`),
    0 without a top-up (the holder pays its own opt-in fee, covered by `opt_in_top_up`). Others:
    `parts` fees, plus `box_mbr` (total, app tokens) and one payment fee per group that pays it
    (at most ceil(parts / 15)). Exact for a built group: `spending(txns=, sender=)`."""
    if kind not in OPERATION_KINDS:
        raise ValueError(f"unknown operation {kind!r}")
    if parts < 1 or top_up < 0 or box_mbr < 0 or fee < 0:
        raise ValueError("parts >= 1; top_up, box_mbr and fee >= 0")
    if kind == "opt_in":
        return top_up + parts * fee if top_up else 0
    payments = math.ceil(parts / (MAX_GROUP - 1)) if box_mbr else 0
    return (parts + payments) * fee + box_mbr + top_up


def spending(*, txns: Iterable[transaction.Transaction], sender: str) -> int:
    """What `sender` spends on these built transactions: its fees plus its payments' amounts."""
    total = 0
    for t in txns:
        if t.sender != sender:
            continue
        total += int(t.fee)
        if isinstance(t, transaction.PaymentTxn):
            total += int(t.amt)
    return total


# -------------------------------------------------------------------------------- live reads
def _account_asset(net: Network, address: str, asset_id: int) -> dict[str, Any] | None:
    """algod's holding of `address` in `asset_id`, None when not opted in."""
    try:
        with node_errors(net, "read an asset holding"):
            info: dict[str, Any] = algod_client(net).account_asset_info(address, asset_id, timeout=_timeout())
    except AlgodHTTPError as exc:
        if exc.code == 404:
            return None
        raise ChainUnavailable(details={"network": net.slug, "reason": str(exc)[:600]}) from None
    return info.get("asset-holding") or None


def read_asset_state(*, network: Network | str, asset_id: int) -> dict[str, Any]:
    """{'total', 'decimals', 'creator', 'manager', 'reserve', 'freeze', 'clawback' ('' when
    cleared), 'default_frozen', 'deleted', 'issuer_balance' (the reserve's holding, or the
    creator's when no reserve), 'circulating' (total - issuer_balance)}. A destroyed (or never
    created) asset reads as deleted with zeros and empty roles."""
    net = resolve_network(network)
    try:
        asset = read_asset(network=net, asset_id=asset_id)
    except NotFound:
        return {"total": 0, "decimals": 0, "creator": "", **dict.fromkeys(ROLES, ""), "default_frozen": False,
                "deleted": True, "issuer_balance": 0, "circulating": 0}
    issuer = asset["reserve"] or asset["creator"]
    holding = _account_asset(net, issuer, asset_id) if issuer else None
    issuer_balance = int(holding.get("amount", 0)) if holding else 0
    return {"total": asset["total"], "decimals": asset["decimals"], "creator": asset["creator"],
            **{role: asset[role] or "" for role in ROLES}, "default_frozen": asset["default_frozen"],
            "deleted": False, "issuer_balance": issuer_balance, "circulating": asset["total"] - issuer_balance}


def read_asset_holding(*, network: Network | str, asset_id: int, address: str) -> dict[str, Any]:
    """{'opted_in', 'balance', 'frozen'} of `address` in `asset_id`."""
    holding = _account_asset(resolve_network(network), _address(address, "address"), asset_id)
    if holding is None:
        return {"opted_in": False, "balance": 0, "frozen": False}
    return {"opted_in": True, "balance": int(holding.get("amount", 0)), "frozen": bool(holding.get("is-frozen"))}


def read_app_token_state(*, network: Network | str, app_id: int, standard: str,
                         holder: str | None = None) -> dict[str, Any]:
    """{'total_supply', 'cap' (None if the token is not mintable on chain), 'owner', 'paused'
    (ARC-1400 halted; False otherwise)}, plus 'holder_balance' when `holder` is given and
    'holder_whitelisted' for a whitelist standard (ARC-1400) with a holder."""
    spec = algorand_standard(standard)
    if not spec.is_app:
        raise ValueError(f"{standard} is a plain asset, not an application token")
    net = resolve_network(network)
    state = read_arc200(network=net, app_id=app_id, holder=holder)
    result: dict[str, Any] = {"total_supply": state["total_supply"],
                              "cap": state["cap"] if state["mintable"] else None,
                              "owner": state["owner"], "paused": bool(state["halted"])}
    if holder:
        result["holder_balance"] = int(state["holder_balance"] or 0)
        if spec.whitelist:
            result["holder_whitelisted"] = read_box(network=net, app_id=app_id, name=whitelist_box(holder)) is not None
    return result


# ------------------------------------------------------------------------------ native sweep
def native_sweep_plan(*, network: Network | str, sender: str, to: str, fee: int = MIN_FEE) -> dict[str, Any]:
    """What a sweep of `sender`'s ALGO to `to` would do now (read live): {'close_outs': [(asset_id,
    close_to)], 'close': bool, 'keeps': microAlgos left on `sender` afterwards, 'amount', 'fee'}.

    Holdings of 0 of assets `sender` did not create are closed out first (an opt-out with
    `close_assets_to` = `to` when `to` is opted in, else the asset's creator, who can always take a
    0-amount close; this frees their 0.1 ALGO each). The account then closes to `to`
    (`close_remainder_to`: 0 left) unless the protocol forbids it: it created an asset or an app,
    holds a non-zero or own asset holding, or has app local state; then it pays all but its minimum
    balance (after the close-outs), which is exactly what stays. `amount` 0: nothing to sweep."""
    net = resolve_network(network)
    sender, to = _address(sender, "sender"), _address(to, "to")
    with node_errors(net, "read an account for a sweep"):
        info: dict[str, Any] = algod_client(net).account_info(sender, timeout=_timeout())
    created_assets = {int(a["index"]) for a in info.get("created-assets", [])}
    close_outs: list[tuple[int, str]] = []
    blocking = bool(info.get("created-apps") or info.get("apps-local-state") or created_assets)
    for holding in info.get("assets", []):
        asset_id = int(holding["asset-id"])
        if asset_id in created_assets or int(holding.get("amount") or 0) or len(close_outs) >= MAX_GROUP - 1:
            blocking = True
            continue
        if _account_asset(net, to, asset_id) is not None:
            close_to = to
        else:
            close_to = read_asset(network=net, asset_id=asset_id)["creator"]
        close_outs.append((asset_id, close_to))
    fee = max(MIN_FEE, int(fee))
    total_fee = fee * (len(close_outs) + 1)
    amount = int(info.get("amount") or 0)
    minimum = max(0, int(info.get("min-balance") or 0) - ASSET_MIN_BALANCE * len(close_outs))
    keeps = minimum if blocking else 0
    payment = amount - total_fee - keeps
    return {"close_outs": close_outs, "close": not blocking, "keeps": keeps, "fee": fee,
            "amount": max(payment, 0), "balance": amount}


def native_sweep_group(*, sp: transaction.SuggestedParams, sender: str, to: str, plan: Mapping[str, Any],
                       lease_seed: str) -> list[transaction.Transaction]:
    """The sweep of `native_sweep_plan`, grouped: close-out i (lease i), then the payment (lease
    "sweep") with `close_remainder_to` = `to` when the account may close. Flat fees (`plan['fee']`
    each), so the amount is exact."""
    sender, to = _address(sender, "sender"), _address(to, "to")
    params = transaction.SuggestedParams(fee=int(plan["fee"]), first=sp.first, last=sp.last, gh=sp.gh, gen=sp.gen,
                                         flat_fee=True, min_fee=sp.min_fee)
    txns: list[transaction.Transaction] = [
        transaction.AssetTransferTxn(sender, params, close_to, 0, asset_id, close_assets_to=close_to,
                                     lease=operation_lease(lease_seed, i))
        for i, (asset_id, close_to) in enumerate(plan["close_outs"])]
    txns.append(transaction.PaymentTxn(sender, params, to, int(plan["amount"]),
                                       close_remainder_to=to if plan["close"] else None,
                                       lease=operation_lease(lease_seed, "sweep")))
    return _group(txns)
