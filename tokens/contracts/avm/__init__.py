"""Compiled AVM token contracts (ARC-200 and ARC-1400) for the Algorand chain layer.

The contract sources next to this module are Algorand Python, compiled by
``scripts/build_avm_contracts.sh`` (puyapy, AVM v10) into ``artifacts/``; this module only
reads those committed artifacts and needs neither puyapy nor Python 3.12.

Names accepted by :func:`load_artifact`: the contract class names ``"Arc200Token"`` and
``"Arc1400SecurityToken"``, or the aliases ``"arc200"`` and ``"arc1400"``.

Application-account minimum balances right after ``bootstrap`` (microAlgo):
:data:`ARC200_BOOTSTRAP_MIN_BALANCE` and :data:`ARC1400_BOOTSTRAP_MIN_BALANCE`; see the
contract docstrings for the box layout.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"

ALIASES: dict[str, str] = {
    "arc200": "Arc200Token",
    "arc200_token": "Arc200Token",
    "arc1400": "Arc1400SecurityToken",
    "arc1400_security_token": "Arc1400SecurityToken",
}
"""Short contract names. Which standard deploys which contract is in the standards table
(`tokens.standards`, `Standard.contract`), not here."""

ACCOUNT_MIN_BALANCE = 100_000
"""Minimum balance of any account (an application account included), microAlgo."""

BOX_FLAT_MIN_BALANCE = 2_500
BOX_BYTE_MIN_BALANCE = 400

BALANCE_BOX_PREFIX = b"b"
ALLOWANCE_BOX_PREFIX = b"a"
WHITELIST_BOX_PREFIX = b"w"


def box_min_balance(key_len: int, value_len: int) -> int:
    """Minimum balance one box adds to its application account: 2500 + 400 * (key + value)."""
    return BOX_FLAT_MIN_BALANCE + BOX_BYTE_MIN_BALANCE * (key_len + value_len)


BALANCE_BOX_MIN_BALANCE = box_min_balance(33, 32)
"""A holder's balance box: key ``b"b"`` + 32-byte public key, value uint256 (28_500)."""
ALLOWANCE_BOX_MIN_BALANCE = box_min_balance(33, 32)
"""An allowance box: key ``b"a"`` + sha256(owner + spender), value uint256 (28_500)."""
WHITELIST_BOX_MIN_BALANCE = box_min_balance(33, 1)
"""A whitelist box (ARC-1400 only): key ``b"w"`` + 32-byte public key, value uint8 (16_100)."""

ARC200_BOOTSTRAP_MIN_BALANCE = ACCOUNT_MIN_BALANCE + BALANCE_BOX_MIN_BALANCE
"""App account minimum balance for an ARC-200 ``bootstrap``: 128_500 microAlgo."""
ARC1400_BOOTSTRAP_MIN_BALANCE = ACCOUNT_MIN_BALANCE + BALANCE_BOX_MIN_BALANCE + WHITELIST_BOX_MIN_BALANCE
"""App account minimum balance for an ARC-1400 ``bootstrap``: 144_600 microAlgo."""


def _canonical(name: str) -> str:
    """Map an alias or class name to the artifact base name, or raise ``KeyError``."""
    canonical = ALIASES.get(name, name)
    if not (ARTIFACTS_DIR / f"{canonical}.arc56.json").is_file():
        raise KeyError(f"unknown AVM contract artifact: {name!r}")
    return canonical


@cache
def _load(canonical: str) -> dict[str, Any]:
    """Read one contract's artifacts from disk (cached)."""
    arc56: dict[str, Any] = json.loads((ARTIFACTS_DIR / f"{canonical}.arc56.json").read_text(encoding="utf-8"))
    schema = arc56["state"]["schema"]
    approval = (ARTIFACTS_DIR / f"{canonical}.approval.bin").read_bytes()
    clear = (ARTIFACTS_DIR / f"{canonical}.clear.bin").read_bytes()
    return {
        "name": canonical,
        "approval": approval,
        "clear": clear,
        "approval_teal": (ARTIFACTS_DIR / f"{canonical}.approval.teal").read_text("utf-8"),
        "clear_teal": (ARTIFACTS_DIR / f"{canonical}.clear.teal").read_text("utf-8"),
        "arc56": arc56,
        "global_ints": int(schema["global"]["ints"]),
        "global_bytes": int(schema["global"]["bytes"]),
        "local_ints": int(schema["local"]["ints"]),
        "local_bytes": int(schema["local"]["bytes"]),
        # Each extra page adds 2048 bytes to the 2048-byte limit of approval + clear.
        "extra_pages": max(0, (len(approval) + len(clear) - 1) // 2048),
    }


def load_artifact(name: str) -> dict[str, Any]:
    """Return a compiled contract.

    Keys: ``approval`` and ``clear`` (program bytes), ``approval_teal``/``clear_teal``
    (str), ``arc56`` (the ARC-56 app spec as a dict), ``global_ints``, ``global_bytes``,
    ``local_ints``, ``local_bytes`` (state schema from the ARC-56 spec), ``extra_pages``
    and ``name`` (the contract class name). The dict is a fresh shallow copy; the ``arc56``
    value is shared, do not mutate it.
    """
    return dict(_load(_canonical(name)))


def method_signatures(name: str) -> list[str]:
    """ABI signatures (``name(args)returns``) of a contract's methods, in spec order."""
    spec = _load(_canonical(name))["arc56"]
    return [f"{m['name']}({','.join(a['type'] for a in m['args'])}){m['returns']['type']}" for m in spec["methods"]]


def error_message(name: str, pc: int) -> str | None:
    """Assertion message the compiler recorded for approval-program counter ``pc``.

    Algod and the ledger evaluator report a failed ``assert`` as ``pc=N``; this maps it back to
    the message in the contract source (e.g. ``"insufficient balance"``), or ``None``.
    """
    spec = _load(_canonical(name))["arc56"]
    for entry in spec.get("sourceInfo", {}).get("approval", {}).get("sourceInfo", []):
        if pc in entry.get("pc", []) and "errorMessage" in entry:
            return str(entry["errorMessage"])
    return None
