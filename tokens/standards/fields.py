"""Serializer fields of the token requests: byte-limited strings, big integers as decimal strings,
chain addresses and metadata hashes, each documented in the OpenAPI schema as what it accepts."""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from algosdk import encoding as algo_encoding
from drf_spectacular.utils import extend_schema_field
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from rest_framework import serializers

UINT8_MAX = 2**8 - 1
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
_DECIMAL = re.compile(r"[0-9]{1,78}")

CAP_BELOW_SUPPLY = "The cap must be at least the initial supply."


def cap_below_supply(*, cap: int, initial_supply: int | None) -> bool:
    """The supply-cap rule of the mintable standards, checked at POST (the request serializers) and
    again where the chain arguments are built: a cap (0 = none, a preminted ARC-200) is at least the
    initial supply."""
    return cap != 0 and initial_supply is not None and cap < initial_supply


def utf8_len(value: str) -> int:
    return len(value.encode("utf-8"))


class Utf8CharField(serializers.CharField):
    """A string limited in UTF-8 bytes (as the chain counts), not in characters. The schema's
    `maxLength` (characters) is the same number: a valid value never has more characters than bytes."""

    def __init__(self, *, max_bytes: int, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        kwargs.setdefault("max_length", max_bytes)
        kwargs.setdefault("help_text", f"At most {max_bytes} bytes of UTF-8.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if utf8_len(value) > self.max_bytes:
            raise serializers.ValidationError(f"At most {self.max_bytes} bytes of UTF-8 (got {utf8_len(value)}).")
        return value


@extend_schema_field({"type": "string", "pattern": "^[0-9]{1,78}$", "example": "1000000",
                      "description": "An unsigned integer in base units, as a decimal string."})
class BigIntegerStringField(serializers.Field):
    """Integers beyond JSON's safe range: accepted as a JSON integer or a decimal string (digits only),
    returned as a decimal string."""

    def __init__(self, *, min_value: int = 0, max_value: int = UINT256_MAX, **kwargs: Any) -> None:
        self.min_value, self.max_value = min_value, max_value
        kwargs.setdefault("help_text", f"Decimal string, {min_value} to {max_value}.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            raise serializers.ValidationError("Must be an integer or a decimal string.")
        if isinstance(data, str) and not _DECIMAL.fullmatch(data):
            raise serializers.ValidationError("Must be a decimal string of digits only.")
        value = int(data)
        if not self.min_value <= value <= self.max_value:
            raise serializers.ValidationError(f"Must be between {self.min_value} and {self.max_value}.")
        return str(value)

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$",
                      "example": "0x000000000000000000000000000000000000dEaD",
                      "description": "An EVM address (lower case or EIP-55 checksummed)."})
class EvmAddressField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not is_hex_address(value) or (value != value.lower() and not is_checksum_address(value)):
            raise serializers.ValidationError("Not a valid EVM address.")
        return to_checksum_address(value)


@extend_schema_field({"type": "string", "pattern": "^[A-Z2-7]{58}$",
                      "example": "HZ57J3K46JIJXILONBBZOHX6BKPXEM2VVXNRFSUED6DKFD5ZD24PMJ3MVA",
                      "description": "An Algorand address (58 characters, base32 with checksum)."})
class AlgorandAddressField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value and not algo_encoding.is_valid_address(value):
            raise serializers.ValidationError("Not a valid Algorand address.")
        return value


@extend_schema_field({"type": "string", "minLength": 44, "maxLength": 64,
                      "example": "0000000000000000000000000000000000000000000000000000000000000000",
                      "description": "32 bytes, as 64 hex characters or base64 (44 characters)."})
class MetadataHashField(serializers.CharField):
    """32 bytes, given as 64 hex characters or base64; stored as base64."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        raw: bytes | None = None
        try:
            raw = bytes.fromhex(value) if len(value) == 64 else base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            raw = None
        if raw is None or len(raw) != 32:
            raise serializers.ValidationError("The metadata hash must be exactly 32 bytes (hex or base64).")
        return base64.b64encode(raw).decode()
