"""Building Algorand transactions for the token standards, signing them, and what they cost.

Builders are pure (no node access): they take `SuggestedParams` (from `suggested_params`, one per
step so a group shares its window) and the validated request dict of `tokens.standards`, check the
ledger's byte limits before anything is signed (`ValidationFailed` naming the field), and return
unsigned transactions carrying the step's lease.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from typing import Any

from algosdk import abi, encoding, transaction
from algosdk.logic import get_application_address

from biatec.core.errors import ValidationFailed
from tokens.contracts.avm import (
    ALLOWANCE_BOX_PREFIX,
    BALANCE_BOX_PREFIX,
    WHITELIST_BOX_PREFIX,
    load_artifact,
)
from tokens.standards import (
    ALGORAND_STEP_APP_CREATE,
    ALGORAND_STEP_ASSET_CREATE,
    ALGORAND_STEP_BOOTSTRAP,
    STANDARDS,
    UINT64_MAX,
    UINT256_MAX,
    Standard,
)
from tokens.standards.fields import CAP_BELOW_SUPPLY, cap_below_supply

from .algorand_node import MIN_FEE, SignedAlgorandGroup, lease_for
from .signing import SignerContext

MAX_UNIT_NAME_BYTES, MAX_ASSET_NAME_BYTES, MAX_URL_BYTES, METADATA_HASH_BYTES = 8, 32, 96, 32
MAX_ARC200_NAME_BYTES, MAX_ARC200_SYMBOL_BYTES = 32, 8

ACCOUNT_MIN_BALANCE = 100_000
ASSET_MIN_BALANCE = 100_000  # per created (or held) asset
APP_FLAT_MIN_BALANCE = 100_000  # per created app and per extra program page
SCHEMA_UINT_MIN_BALANCE = 28_500  # 25_000 per entry + 3_500 per uint
SCHEMA_BYTES_MIN_BALANCE = 50_000  # 25_000 per entry + 25_000 per byte slice

ASSET_CREATE, APP_CREATE, BOOTSTRAP = ALGORAND_STEP_ASSET_CREATE, ALGORAND_STEP_APP_CREATE, ALGORAND_STEP_BOOTSTRAP
REGULATED_FREEZE_IS_ISSUER = "A regulated asset's freeze address is the issuer (your address); leave freeze out."


def algorand_standard(standard: str) -> Standard:
    """The standards-table row of an Algorand standard slug (ValueError for anything else)."""
    spec = STANDARDS.get(standard)
    if spec is None or not (spec.is_asset or spec.is_app):
        raise ValueError(f"{standard!r} is not an Algorand token standard")
    return spec


def _app_contract(standard: str) -> str:
    spec = algorand_standard(standard)
    if spec.contract is None:
        raise ValueError(f"{standard!r} deploys no application")
    return spec.contract


def deployment_steps(standard: str) -> tuple[str, ...]:
    """The on-chain steps of a standard, in order (from the standards table). ARC-3 pins its metadata
    (`tokens.chains.arc3`) before its one step; ARC-200/1400 need the app id of `app_create` to build
    `bootstrap`."""
    return algorand_standard(standard).steps


# ------------------------------------------------------------------------------- validation
def _utf8(value: Any) -> bytes:
    return str(value or "").encode("utf-8")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip(), 10)
    except (TypeError, ValueError):
        return None


def _address(value: Any, field_name: str, errors: dict[str, list[str]]) -> str:
    text = str(value or "")
    if text and not encoding.is_valid_address(text):
        errors.setdefault(field_name, []).append("Not a valid Algorand address.")
    return text


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        fields = ", ".join(sorted(errors))
        raise ValidationFailed(f"Invalid token parameters: {fields}.", details={"fields": errors})


def _metadata_hash(value: Any, errors: dict[str, list[str]]) -> bytes | None:
    """The 32-byte metadata hash from bytes, hex or base64 (None when absent; an error when malformed)."""
    if not value:
        return None
    metadata_hash: bytes | None
    try:
        if isinstance(value, bytes):
            metadata_hash = value
        elif len(value) == 64 and re.fullmatch(r"[0-9a-fA-F]{64}", value):
            metadata_hash = bytes.fromhex(value)  # hex, as the request schema also accepts
        else:
            metadata_hash = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        metadata_hash = None
    if metadata_hash is None or len(metadata_hash) != METADATA_HASH_BYTES:
        errors.setdefault("metadata_hash", []).append("The metadata hash must be exactly 32 bytes.")
    return metadata_hash


def asset_params_check(*, params: dict[str, Any], standard: str | None = None, sender: str) -> dict[str, Any]:
    """The ASA create fields, checked against the ledger's limits (docs/architecture.md, "Standards").

    Roles: a missing `manager`/`reserve` defaults to the creator (so the asset stays manageable);
    a missing `freeze`/`clawback` stays empty (nobody can freeze or claw back). An explicit ""
    means "no such role". A `regulated` asset is default-frozen with the creator as freeze address
    (any other is refused) and, unless given, as clawback address.
    """
    errors: dict[str, list[str]] = {}
    name, unit, url = _utf8(params.get("name")), _utf8(params.get("unit_name")), _utf8(params.get("url"))
    for field_name, raw, limit in (("unit_name", unit, MAX_UNIT_NAME_BYTES), ("name", name, MAX_ASSET_NAME_BYTES),
                                   ("url", url, MAX_URL_BYTES)):
        if len(raw) > limit:
            errors.setdefault(field_name, []).append(f"At most {limit} bytes of UTF-8 (got {len(raw)}).")
    metadata_hash = _metadata_hash(params.get("metadata_hash"), errors)
    decimals = _int(params.get("decimals", 0))
    if decimals is None or not 0 <= decimals <= 19:
        errors.setdefault("decimals", []).append("Decimals must be between 0 and 19.")
    total = _int(params.get("total"))
    if total is None or not 1 <= total <= UINT64_MAX:
        errors.setdefault("total", []).append(f"Total must be between 1 and {UINT64_MAX}.")
    spec = algorand_standard(standard) if standard else None
    if spec is not None and not errors.get("total") and not errors.get("decimals"):
        if spec.unique and (total, decimals) != (1, 0):
            errors.setdefault("total", []).append("An NFT has total 1 and decimals 0.")
        if spec.fractional and (decimals == 0 or total != 10**decimals):  # type: ignore[operator]
            errors.setdefault("total", []).append("A fractional NFT has total 10^k with decimals k >= 1.")
    regulated = bool(params.get("regulated", False))
    roles = {}
    for role in ("manager", "reserve", "freeze", "clawback"):
        default = sender if role in ("manager", "reserve") or regulated else ""
        roles[role] = _address(params.get(role, default), role, errors)
    if regulated and roles["freeze"] != sender:
        errors.setdefault("freeze", []).append(REGULATED_FREEZE_IS_ISSUER)
    _raise(errors)
    return {"asset_name": name.decode(), "unit_name": unit.decode(), "url": url.decode(),
            "metadata_hash": metadata_hash, "decimals": decimals, "total": total,
            "default_frozen": regulated or bool(params.get("default_frozen", False)), **roles}


def arc200_params_check(*, params: dict[str, Any], standard: str, sender: str) -> dict[str, Any]:
    """bootstrap arguments: name, symbol, decimals, supply, receiver (default: sender), cap (0 = preminted)."""
    errors: dict[str, list[str]] = {}
    name, symbol = _utf8(params.get("name")), _utf8(params.get("symbol"))
    if len(name) > MAX_ARC200_NAME_BYTES:
        errors["name"] = [f"At most {MAX_ARC200_NAME_BYTES} bytes of UTF-8 (got {len(name)})."]
    if len(symbol) > MAX_ARC200_SYMBOL_BYTES:
        errors["symbol"] = [f"At most {MAX_ARC200_SYMBOL_BYTES} bytes of UTF-8 (got {len(symbol)})."]
    decimals = _int(params.get("decimals", 6))
    if decimals is None or not 0 <= decimals <= 255:
        errors["decimals"] = ["Decimals must be between 0 and 255."]
    supply = _int(params.get("initial_supply"))
    if supply is None or not 0 <= supply <= UINT256_MAX:
        errors["initial_supply"] = ["The initial supply must be an unsigned 256-bit integer."]
    cap = _int(params.get("cap", 0)) if algorand_standard(standard).mintable else 0
    if cap is None or not 0 <= cap <= UINT256_MAX or cap_below_supply(cap=cap, initial_supply=supply):
        errors["cap"] = [CAP_BELOW_SUPPLY]
    receiver = _address(params.get("receiver") or sender, "receiver", errors)
    _raise(errors)
    return {"name": name.decode(), "symbol": symbol.decode(), "decimals": decimals, "total_supply": supply,
            "initial_supply": supply, "receiver": receiver, "cap": cap}


# -------------------------------------------------------------------------------- builders
def build_asset_create(*, sp: transaction.SuggestedParams, sender: str, params: dict[str, Any],
                       standard: str | None = None, lease: bytes | None = None) -> transaction.AssetCreateTxn:
    """AssetConfig create for asa-* and arc3-* (ARC-3: `params` carries the computed url and hash)."""
    p = asset_params_check(params=params, standard=standard, sender=sender)
    return transaction.AssetCreateTxn(
        sender, sp, total=p["total"], decimals=p["decimals"], default_frozen=p["default_frozen"],
        unit_name=p["unit_name"], asset_name=p["asset_name"], url=p["url"], metadata_hash=p["metadata_hash"],
        manager=p["manager"] or None, reserve=p["reserve"] or None, freeze=p["freeze"] or None,
        clawback=p["clawback"] or None, lease=lease)


def build_app_create(*, sp: transaction.SuggestedParams, sender: str, standard: str,
                     lease: bytes | None = None) -> transaction.ApplicationCreateTxn:
    """Bare NoOp create of the standard's contract from the committed artifacts (schemas from ARC-56)."""
    art = load_artifact(_app_contract(standard))
    return transaction.ApplicationCreateTxn(
        sender, sp, transaction.OnComplete.NoOpOC, art["approval"], art["clear"],
        transaction.StateSchema(art["global_ints"], art["global_bytes"]),
        transaction.StateSchema(art["local_ints"], art["local_bytes"]),
        extra_pages=art["extra_pages"], lease=lease)


def abi_method(standard_or_contract: str, name: str) -> abi.Method:
    """An ABI method of the ARC-200 / ARC-1400 contract (by standard slug or contract name)."""
    contract = _app_contract(standard_or_contract) if standard_or_contract in STANDARDS else standard_or_contract
    for spec in load_artifact(contract)["arc56"]["methods"]:
        if spec["name"] == name:
            return abi.Method.undictify(spec)
    raise KeyError(f"{contract} has no method {name!r}")


def balance_box(address: str) -> bytes:
    """Box name of an ARC-200 balance: b"b" + 32-byte public key."""
    return BALANCE_BOX_PREFIX + encoding.decode_address(address)


def whitelist_box(address: str) -> bytes:
    """Box name of an ARC-1400 whitelist entry: b"w" + 32-byte public key."""
    return WHITELIST_BOX_PREFIX + encoding.decode_address(address)


def allowance_box(owner: str, spender: str) -> bytes:
    return ALLOWANCE_BOX_PREFIX + hashlib.sha256(encoding.decode_address(owner)
                                                 + encoding.decode_address(spender)).digest()


def build_app_call(*, sp: transaction.SuggestedParams, sender: str, app_id: int, standard: str, method: str,
                   args: Sequence[Any] = (), boxes: Sequence[bytes] = (), lease: bytes | None = None,
                   note: bytes | None = None) -> transaction.ApplicationNoOpTxn:
    """An ABI NoOp call (selector + ARC-4 encoded arguments) with box references."""
    m = abi_method(standard, method)
    if len(args) != len(m.args):
        raise ValueError(f"{method} takes {len(m.args)} arguments")
    app_args: list[bytes] = [m.get_selector()]
    for arg, value in zip(m.args, args, strict=True):
        if not isinstance(arg.type, abi.ABIType):
            raise ValueError(f"{method}: reference/transaction arguments are not supported")
        app_args.append(arg.type.encode(value))
    return transaction.ApplicationNoOpTxn(sender, sp, app_id, app_args=app_args,
                                          boxes=[(app_id, name) for name in boxes], lease=lease, note=note)


def bootstrap_funding(standard: str) -> int:
    """microAlgos the bootstrap group pays to the app account: its minimum balance after bootstrap."""
    return algorand_standard(standard).bootstrap_min_balance


def build_bootstrap_group(*, sp: transaction.SuggestedParams, sender: str, app_id: int, standard: str,
                          params: dict[str, Any], leases: Sequence[bytes | None] = (None, None),
                          ) -> list[transaction.Transaction]:
    """[payment sender -> app account (its minimum balance), bootstrap(...)] as one atomic group."""
    p = arc200_params_check(params=params, standard=standard, sender=sender)
    spec = algorand_standard(standard)
    boxes = [balance_box(p["receiver"])]
    if spec.whitelist:
        boxes.append(whitelist_box(p["receiver"]))
    pay = transaction.PaymentTxn(sender, sp, get_application_address(app_id), bootstrap_funding(standard),
                                 lease=leases[0])
    call = build_app_call(sp=sp, sender=sender, app_id=app_id, standard=standard, method="bootstrap",
                          args=[p[name] for name in spec.chain_args],
                          boxes=boxes, lease=leases[1])
    return transaction.assign_group_id([pay, call])


def build_deployment_step(*, sp: transaction.SuggestedParams, standard: str, step: str, params: dict[str, Any],
                          sender: str, deployment_id: object, app_id: int | None = None,
                          ) -> list[transaction.Transaction]:
    """The unsigned transaction(s) of one step, each with its lease `lease_for(deployment_id, step, i)`.
    ARC-3: `params` must already carry `url` and `metadata_hash` (`tokens.chains.arc3.arc3_asset_params`)."""
    if step not in deployment_steps(standard):
        raise ValueError(f"{standard} has no step {step!r}")
    if step == ASSET_CREATE:
        return [build_asset_create(sp=sp, sender=sender, params=params, standard=standard,
                                   lease=lease_for(deployment_id=deployment_id, step=step))]
    if step == APP_CREATE:
        arc200_params_check(params=params, standard=standard, sender=sender)  # fail before spending fees
        return [build_app_create(sp=sp, sender=sender, standard=standard,
                                 lease=lease_for(deployment_id=deployment_id, step=step))]
    if not app_id:
        raise ValueError("bootstrap needs the app id from the app_create step")
    leases = [lease_for(deployment_id=deployment_id, step=step, index=i) for i in range(2)]
    return build_bootstrap_group(sp=sp, sender=sender, app_id=app_id, standard=standard, params=params,
                                 leases=leases)


# ------------------------------------------------------------------------------------ signing
def sign_transactions(*, signer: SignerContext, txns: Sequence[transaction.Transaction],
                      reason: str) -> SignedAlgorandGroup:
    """Sign with the sender's key, opened only inside `signer` (`tokens.chains.signing`). A
    multi-transaction list must already carry its group id (`build_bootstrap_group` assigns it)."""
    if not txns:
        raise ValueError("nothing to sign")
    if len(txns) > 1 and any(t.group is None for t in txns):
        raise ValueError("a multi-transaction list must be grouped before signing")
    with signer(reason) as key:
        foreign = {t.sender for t in txns} - {key.address}
        if foreign:
            raise ValueError(f"transactions from {sorted(foreign)} cannot be signed by {key.address}")
        stxns = key.sign_group(list(txns))
    return SignedAlgorandGroup.from_signed(stxns)


# --------------------------------------------------------------------------------------- costs
def app_min_balance(*, global_ints: int, global_bytes: int, extra_pages: int = 0) -> int:
    """Minimum balance an app adds to its creator: 100_000 + 28_500 per uint + 50_000 per byte
    slice + 100_000 per extra program page."""
    return (APP_FLAT_MIN_BALANCE * (1 + extra_pages) + SCHEMA_UINT_MIN_BALANCE * global_ints
            + SCHEMA_BYTES_MIN_BALANCE * global_bytes)


def step_cost(*, standard: str, step: str, fee: int = MIN_FEE) -> int:
    """microAlgos a step takes from the sender beyond its current minimum balance: fees, the
    minimum-balance increase it causes, and payments it makes."""
    if step == ASSET_CREATE:
        return ASSET_MIN_BALANCE + fee
    if step == APP_CREATE:
        art = load_artifact(_app_contract(standard))
        return app_min_balance(global_ints=art["global_ints"], global_bytes=art["global_bytes"],
                               extra_pages=art["extra_pages"]) + fee
    if step == BOOTSTRAP:
        return bootstrap_funding(standard) + 2 * fee
    raise ValueError(f"unknown step {step!r}")


def deployment_cost(*, standard: str, fee: int = MIN_FEE) -> int:
    """Total microAlgos a deployment needs on top of the sender's current minimum balance."""
    return sum(step_cost(standard=standard, step=s, fee=fee) for s in deployment_steps(standard))
