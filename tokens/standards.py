"""The 11 token standards (docs/architecture.md, "Standards"): which chain family each needs and the request
schema it accepts. Byte limits are checked here, before anything is signed."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from algosdk import encoding as algo_encoding
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from rest_framework import serializers

from .networks import ALGORAND, EVM

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1


def _utf8_len(value: str) -> int:
    return len(value.encode("utf-8"))


class Utf8CharField(serializers.CharField):
    """A string limited in UTF-8 bytes (as the chain counts), not in characters."""

    def __init__(self, *, max_bytes: int, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if _utf8_len(value) > self.max_bytes:
            raise serializers.ValidationError(f"At most {self.max_bytes} bytes of UTF-8 (got {_utf8_len(value)}).")
        return value


class BigIntegerStringField(serializers.Field):
    """Integers beyond JSON's safe range: accepted as an int or a decimal string, returned as a string."""

    def __init__(self, *, min_value: int = 0, max_value: int = UINT256_MAX, **kwargs: Any) -> None:
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            raise serializers.ValidationError("Must be an integer or a decimal string.")
        try:
            value = int(str(data).strip(), 10)
        except ValueError:
            raise serializers.ValidationError("Must be an integer or a decimal string.") from None
        if not self.min_value <= value <= self.max_value:
            raise serializers.ValidationError(f"Must be between {self.min_value} and {self.max_value}.")
        return str(value)

    def to_representation(self, value: Any) -> str:
        return str(value)


class EvmAddressField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not is_hex_address(value) or (value != value.lower() and not is_checksum_address(value)):
            raise serializers.ValidationError("Not a valid EVM address.")
        return to_checksum_address(value)


class AlgorandAddressField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not algo_encoding.is_valid_address(value):
            raise serializers.ValidationError("Not a valid Algorand address.")
        return value


class MetadataHashField(serializers.CharField):
    """32 bytes, given as 64 hex characters or base64."""

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


# ---- EVM ---------------------------------------------------------------------------------------
class Erc20BaseSerializer(serializers.Serializer):
    network = serializers.CharField()
    name = serializers.CharField(max_length=64)
    symbol = serializers.CharField(max_length=16)
    decimals = serializers.IntegerField(min_value=0, max_value=18, default=18)
    initial_supply = BigIntegerStringField()
    receiver = EvmAddressField(required=False)


class Erc20MintableSerializer(Erc20BaseSerializer):
    cap = BigIntegerStringField(min_value=1)
    owner = EvmAddressField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if int(attrs["initial_supply"]) > int(attrs["cap"]):
            raise serializers.ValidationError({"cap": "The cap must be at least the initial supply."})
        return attrs


class Erc20PremintedSerializer(Erc20BaseSerializer):
    initial_supply = BigIntegerStringField(min_value=1)


# ---- Algorand ASA / ARC-3 -----------------------------------------------------------------------
class AsaBaseSerializer(serializers.Serializer):
    network = serializers.CharField()
    name = Utf8CharField(max_bytes=32)
    unit_name = Utf8CharField(max_bytes=8)
    url = Utf8CharField(max_bytes=96, required=False, allow_blank=True, default="")
    metadata_hash = MetadataHashField(required=False)
    default_frozen = serializers.BooleanField(default=False)
    manager = AlgorandAddressField(required=False, allow_blank=True)
    reserve = AlgorandAddressField(required=False, allow_blank=True)
    freeze = AlgorandAddressField(required=False, allow_blank=True)
    clawback = AlgorandAddressField(required=False, allow_blank=True)


class AsaFtSerializer(AsaBaseSerializer):
    total = BigIntegerStringField(min_value=1, max_value=UINT64_MAX)
    decimals = serializers.IntegerField(min_value=0, max_value=19, default=0)


class AsaNftSerializer(AsaBaseSerializer):
    """Pure NFT: total 1, decimals 0 (fixed)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["total"], attrs["decimals"] = "1", 0
        return attrs


class AsaFnftSerializer(AsaBaseSerializer):
    """Fractional NFT: total 10^k with decimals k."""

    fractions_exponent = serializers.IntegerField(min_value=1, max_value=19, required=False)
    decimals = serializers.IntegerField(min_value=1, max_value=19, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        k = attrs.pop("fractions_exponent", None) or attrs.get("decimals")
        if not k:
            raise serializers.ValidationError({"decimals": "A fractional NFT needs decimals k (total = 10^k)."})
        attrs["decimals"], attrs["total"] = k, str(10**k)
        return attrs


class Arc3Mixin(serializers.Serializer):
    metadata = serializers.JSONField(help_text="ARC-3 metadata JSON (name, decimals, description, image...).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)  # type: ignore[misc]
        metadata = attrs.get("metadata")
        if not isinstance(metadata, dict):
            raise serializers.ValidationError({"metadata": "ARC-3 metadata must be a JSON object."})
        if "decimals" in metadata and metadata["decimals"] != attrs["decimals"]:
            raise serializers.ValidationError({"metadata": "metadata.decimals must equal the asset's decimals."})
        if attrs.get("url"):
            raise serializers.ValidationError({"url": "ARC-3 URLs are computed (ipfs://<cid>#arc3); omit url."})
        if attrs.get("metadata_hash"):
            raise serializers.ValidationError({"metadata_hash": "ARC-3 metadata hashes are computed; omit it."})
        return attrs


class Arc3FtSerializer(Arc3Mixin, AsaFtSerializer):
    pass


class Arc3NftSerializer(Arc3Mixin, AsaNftSerializer):
    pass


class Arc3FnftSerializer(Arc3Mixin, AsaFnftSerializer):
    pass


# ---- Algorand smart-contract tokens -------------------------------------------------------------
class Arc200BaseSerializer(serializers.Serializer):
    network = serializers.CharField()
    name = Utf8CharField(max_bytes=32)
    symbol = Utf8CharField(max_bytes=8)
    decimals = serializers.IntegerField(min_value=0, max_value=255, default=6)
    initial_supply = BigIntegerStringField()
    receiver = AlgorandAddressField(required=False)


class Arc200MintableSerializer(Arc200BaseSerializer):
    cap = BigIntegerStringField(min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if int(attrs["initial_supply"]) > int(attrs["cap"]):
            raise serializers.ValidationError({"cap": "The cap must be at least the initial supply."})
        return attrs


class Arc200PremintedSerializer(Arc200BaseSerializer):
    initial_supply = BigIntegerStringField(min_value=1)


class Arc1400MintableSerializer(Arc200MintableSerializer):
    pass


@dataclass(frozen=True)
class Standard:
    slug: str
    family: str
    serializer: type[serializers.Serializer]
    kind: str  # erc20 | asa | arc3 | arc200 | arc1400
    mintable: bool = False


STANDARDS: dict[str, Standard] = {
    s.slug: s
    for s in (
        Standard("erc20-mintable", EVM, Erc20MintableSerializer, "erc20", mintable=True),
        Standard("erc20-preminted", EVM, Erc20PremintedSerializer, "erc20"),
        Standard("asa-ft", ALGORAND, AsaFtSerializer, "asa"),
        Standard("asa-nft", ALGORAND, AsaNftSerializer, "asa"),
        Standard("asa-fnft", ALGORAND, AsaFnftSerializer, "asa"),
        Standard("arc3-ft", ALGORAND, Arc3FtSerializer, "arc3"),
        Standard("arc3-nft", ALGORAND, Arc3NftSerializer, "arc3"),
        Standard("arc3-fnft", ALGORAND, Arc3FnftSerializer, "arc3"),
        Standard("arc200-mintable", ALGORAND, Arc200MintableSerializer, "arc200", mintable=True),
        Standard("arc200-preminted", ALGORAND, Arc200PremintedSerializer, "arc200"),
        Standard("arc1400-mintable", ALGORAND, Arc1400MintableSerializer, "arc1400", mintable=True),
    )
}
