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
from tokens.networks import EVM
from tokens.standards import STANDARDS

from .evm_rpc import register_custom_errors

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "contracts" / "evm" / "artifacts"
STANDARD_CONTRACTS: dict[str, str] = {
    slug: spec.contract for slug, spec in STANDARDS.items() if spec.family == EVM and spec.contract
}
"""EVM standard slug -> contract artifact name, read from the standards table."""


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


_ARGUMENTS: dict[str, Any] = {
    "name": lambda params, sender: _text(params, "name"),
    "symbol": lambda params, sender: _text(params, "symbol"),
    "decimals": lambda params, sender: _uint(params, "decimals", bits=8),
    "initial_supply": lambda params, sender: _uint(params, "initial_supply", default=params.get("total_supply", 0)),
    "cap": lambda params, sender: _uint(params, "cap"),
    "receiver": lambda params, sender: _address(params, "receiver", sender),
    "owner": lambda params, sender: _address(params, "owner", sender),
}
"""How each request field of a standard's `chain_args` becomes a constructor argument."""


def constructor_args(*, standard: str, params: dict[str, Any], sender: str) -> list[Any]:
    """Constructor arguments in ABI order (the standard's `chain_args` in the standards table);
    `receiver` and `owner` default to the sender."""
    load_artifact(standard)  # raises UNSUPPORTED_STANDARD
    values = {name: _ARGUMENTS[name](params, sender) for name in STANDARDS[standard].chain_args}
    if "cap" in values:
        if values["cap"] == 0:
            raise _invalid("cap", "The cap must be greater than zero.")
        if values.get("initial_supply", 0) > values["cap"]:
            raise _invalid("initial_supply", "The initial supply cannot exceed the cap.")
    return list(values.values())



def deploy_data(*, standard: str, params: dict[str, Any], sender: str) -> str:
    """Creation bytecode followed by the ABI-encoded constructor arguments."""
    artifact = load_artifact(standard)
    args = constructor_args(standard=standard, params=params, sender=to_checksum_address(sender))
    return artifact.bytecode + abi_encode(artifact.constructor_types(), args).hex()
