"""Committed contract artifacts of the EVM token standards and the encoding of their parameters."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import is_address, keccak, to_checksum_address

from biatec.core.errors import ValidationFailed

from .evm_rpc import register_custom_errors

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "contracts" / "evm" / "artifacts"
STANDARD_CONTRACTS: dict[str, str] = {
    "erc20-mintable": "BiatecTokenMintable",
    "erc20-preminted": "BiatecTokenPreminted",
}


@dataclass(frozen=True)
class ContractArtifact:
    contract_name: str
    abi: list[dict[str, Any]]
    bytecode: str

    def function_names(self) -> set[str]:
        return {item["name"] for item in self.abi if item.get("type") == "function"}

    def constructor_types(self) -> list[str]:
        constructor = next(item for item in self.abi if item.get("type") == "constructor")
        return [i["type"] for i in constructor["inputs"]]

    def function_abi(self, name: str, arg_count: int) -> dict[str, Any]:
        for item in self.abi:
            if item.get("type") == "function" and item["name"] == name and len(item["inputs"]) == arg_count:
                return item
        raise ValidationFailed(
            f"{self.contract_name} has no function {name} taking {arg_count} argument(s).",
            details={"function": name},
        )


@functools.cache
def load_artifact(standard: str) -> ContractArtifact:
    """The committed artifact (ABI and creation bytecode) deployed for a token standard."""
    try:
        contract_name = STANDARD_CONTRACTS[standard]
    except KeyError:
        raise ValidationFailed(
            f"'{standard}' is not an EVM token standard.",
            code="UNSUPPORTED_STANDARD",
            details={"standard": standard, "supported": sorted(STANDARD_CONTRACTS)},
        ) from None
    data = json.loads((ARTIFACTS_DIR / f"{contract_name}.json").read_text())
    register_custom_errors(data["abi"])
    return ContractArtifact(contract_name=data["contract_name"], abi=data["abi"], bytecode=data["bytecode"])


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def encode_function_call(*, standard: str, function: str, args: list[Any]) -> str:
    """ABI-encoded call data of one function of the standard's contract."""
    item = load_artifact(standard).function_abi(function, len(args))
    types = [i["type"] for i in item["inputs"]]
    return "0x" + (selector(f"{function}({','.join(types)})") + abi_encode(types, args)).hex()


# --- parameters ------------------------------------------------------------------------------------


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(details={"fields": {field_name: [message]}})


def _address(params: dict[str, Any], key: str, default: str) -> str:
    value = params.get(key) or default
    if not isinstance(value, str) or not is_address(value):
        raise _invalid(key, "Enter a valid EVM address (0x followed by 40 hex digits).")
    return to_checksum_address(value)


def _uint(params: dict[str, Any], key: str, *, default: int | None = None, bits: int = 256) -> int:
    value = params.get(key, default)
    if value is None:
        raise _invalid(key, "This field is required.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(key, "Enter a whole number.") from None
    if isinstance(value, float) and value != number:
        raise _invalid(key, "Enter a whole number.")
    if not 0 <= number < 2**bits:
        raise _invalid(key, f"Must be between 0 and 2^{bits}-1.")
    return number


def _text(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(key, "This field is required.")
    return value


def constructor_args(*, standard: str, params: dict[str, Any], sender: str) -> list[Any]:
    """Constructor arguments in ABI order; `receiver` and `owner` default to the sender."""
    name, symbol = _text(params, "name"), _text(params, "symbol")
    decimals = _uint(params, "decimals", bits=8)
    receiver = _address(params, "receiver", sender)
    if standard == "erc20-mintable":
        initial_supply = _uint(params, "initial_supply", default=0)
        cap = _uint(params, "cap")
        if cap == 0:
            raise _invalid("cap", "The cap must be greater than zero.")
        if initial_supply > cap:
            raise _invalid("initial_supply", "The initial supply cannot exceed the cap.")
        return [name, symbol, decimals, initial_supply, receiver, cap, _address(params, "owner", sender)]
    if standard == "erc20-preminted":
        supply = _uint(params, "total_supply", default=params.get("initial_supply"))
        return [name, symbol, decimals, supply, receiver]
    load_artifact(standard)  # raises UNSUPPORTED_STANDARD
    raise AssertionError("unreachable")



def deploy_data(*, standard: str, params: dict[str, Any], sender: str) -> str:
    """Creation bytecode followed by the ABI-encoded constructor arguments."""
    artifact = load_artifact(standard)
    args = constructor_args(standard=standard, params=params, sender=to_checksum_address(sender))
    return artifact.bytecode + abi_encode(artifact.constructor_types(), args).hex()
