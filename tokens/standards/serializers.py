"""Request serializers of the token standards: the fields each accepts, their bounds and defaults.

Each serializer is strict (unknown keys answer VALIDATION_ERROR) and its `network` field is a choice
of the networks of the standard's chain family, so the OpenAPI schema lists them. Cross-field rules
that need no chain (cap >= initial supply, NFT shapes, ARC-3 metadata consistency) are checked here,
at POST, before anything is stored.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from biatec.core.serializers import StrictSerializer
from tokens.networks import ALGORAND, EVM, all_networks

from .fields import (
    CAP_BELOW_SUPPLY,
    UINT64_MAX,
    AlgorandAddressField,
    BigIntegerStringField,
    EvmAddressField,
    MetadataHashField,
    Utf8CharField,
    cap_below_supply,
)


def network_choices(family: str) -> list[str]:
    return [n.slug for n in all_networks() if n.family == family]


EVM_NETWORK_CHOICES = network_choices(EVM)
ALGORAND_NETWORK_CHOICES = network_choices(ALGORAND)
ALL_NETWORK_CHOICES = sorted(n.slug for n in all_networks())


def _network_field(family: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=network_choices(family),
                                   help_text=f"A {family} network of the registry (GET /api/v1/networks).")


class CapAtLeastSupplyMixin:
    """The request of a mintable standard: `cap` >= `initial_supply` (`fields.cap_below_supply`)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if cap_below_supply(cap=int(attrs["cap"]), initial_supply=int(attrs["initial_supply"])):
            raise serializers.ValidationError({"cap": [CAP_BELOW_SUPPLY]})
        return attrs


class IssuerAccountSerializer(StrictSerializer):
    """Every standard's request: which account issues and controls the token (docs/treasury.md)."""

    issuer_account = serializers.ChoiceField(
        choices=["organization", "member"], required=False,
        help_text="`organization`: the organization's treasury account (a server-generated key nobody can "
                  "re-derive) deploys and controls the token; `member`: your own account. Default: "
                  "`organization` when the organization has more than one member, else `member`.")


# ---- EVM ---------------------------------------------------------------------------------------
class Erc20BaseSerializer(IssuerAccountSerializer):
    network = _network_field(EVM)
    name = serializers.CharField(max_length=64)
    symbol = serializers.CharField(max_length=16)
    decimals = serializers.IntegerField(min_value=0, max_value=18, default=18)
    initial_supply = BigIntegerStringField(help_text="Minted to `receiver` at deployment, in base units.")
    receiver = EvmAddressField(required=False, help_text="Receives the initial supply (default: your address).")


class Erc20MintableSerializer(CapAtLeastSupplyMixin, Erc20BaseSerializer):
    cap = BigIntegerStringField(min_value=1, help_text="Maximum total supply, in base units (>= initial_supply).")
    owner = EvmAddressField(required=False, help_text="May mint up to the cap (default: your address).")


class Erc20SecuritySerializer(Erc20MintableSerializer):
    """BiatecTokenSecurity: the receiver and the owner are made eligible at deployment; the owner is
    its first agent (mint, burn, pause, freeze, forced transfer, eligibility)."""

    receiver = EvmAddressField(required=False, help_text="Receives the initial supply and is made eligible "
                                                         "(default: your address).")
    owner = EvmAddressField(required=False, help_text="Owner and first agent, made eligible (default: your address).")


class Erc20PremintedSerializer(Erc20BaseSerializer):
    initial_supply = BigIntegerStringField(min_value=1, help_text="The whole, fixed supply, in base units.")


# ---- Algorand ASA / ARC-3 -----------------------------------------------------------------------
REGULATED_NEEDS_DEFAULT_FROZEN = "A regulated asset is created default-frozen (leave default_frozen out or true)."
REGULATED_NEEDS_FREEZE = "A regulated asset's freeze address is the issuer; it cannot be cleared."


def regulated_asset_check(attrs: dict[str, Any], *, given: Any) -> None:
    """`regulated: true` needs the asset default-frozen and the issuer able to freeze: an explicit
    `default_frozen: false` or an empty `freeze` contradicts it (VALIDATION_ERROR naming the field)."""
    errors: dict[str, list[str]] = {}
    if isinstance(given, dict) and "default_frozen" in given and not attrs.get("default_frozen"):
        errors["default_frozen"] = [REGULATED_NEEDS_DEFAULT_FROZEN]
    if "freeze" in attrs and not attrs["freeze"]:
        errors["freeze"] = [REGULATED_NEEDS_FREEZE]
    if errors:
        raise serializers.ValidationError(errors)


class AsaBaseSerializer(IssuerAccountSerializer):
    network = _network_field(ALGORAND)
    name = Utf8CharField(max_bytes=32)
    unit_name = Utf8CharField(max_bytes=8)
    url = Utf8CharField(max_bytes=96, required=False, allow_blank=True, default="")
    metadata_hash = MetadataHashField(required=False)
    default_frozen = serializers.BooleanField(default=False)
    manager = AlgorandAddressField(required=False, allow_blank=True,
                                   help_text="Default: your address; empty string: no manager.")
    reserve = AlgorandAddressField(required=False, allow_blank=True,
                                   help_text="Default: your address; empty string: no reserve.")
    freeze = AlgorandAddressField(required=False, allow_blank=True,
                                  help_text="Default: nobody can freeze (regulated: your address, the only one "
                                            "allowed).")
    clawback = AlgorandAddressField(required=False, allow_blank=True,
                                    help_text="Default: nobody can claw back (regulated: your address).")
    regulated = serializers.BooleanField(
        default=False,
        help_text="Holders enforced on chain: the asset is created default-frozen with you (the issuer) as its "
                  "freeze address (and, unless given, clawback address), so every new holding starts frozen "
                  "and only an active allow-list entry unfreezes it. `default_frozen: false` or an empty "
                  "`freeze` with it is a VALIDATION_ERROR; a `freeze` other than your address is refused at POST.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("regulated"):
            regulated_asset_check(attrs, given=self.initial_data)
            attrs["default_frozen"] = True
        return attrs


class AsaFtSerializer(AsaBaseSerializer):
    total = BigIntegerStringField(min_value=1, max_value=UINT64_MAX, help_text="Total supply in base units (uint64).")
    decimals = serializers.IntegerField(min_value=0, max_value=19, default=0)


class AsaNftSerializer(AsaBaseSerializer):
    """Pure NFT: total 1, decimals 0 (fixed)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["total"], attrs["decimals"] = "1", 0
        return attrs


class AsaFnftSerializer(AsaBaseSerializer):
    """Fractional NFT: total 10^k with decimals k."""

    fractions_exponent = serializers.IntegerField(min_value=1, max_value=19, required=False,
                                                  help_text="k: the NFT is split into 10^k units.")
    decimals = serializers.IntegerField(min_value=1, max_value=19, required=False,
                                        help_text="k (same as fractions_exponent).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        k = attrs.pop("fractions_exponent", None) or attrs.get("decimals")
        if not k:
            raise serializers.ValidationError({"decimals": ["A fractional NFT needs decimals k (total = 10^k)."]})
        attrs["decimals"], attrs["total"] = k, str(10**k)
        return attrs


class Arc3LocalizationSerializer(serializers.Serializer):
    uri = serializers.CharField(help_text="Contains {locale}.")
    default = serializers.CharField()
    locales = serializers.ListField(child=serializers.CharField())


class Arc3MetadataSerializer(serializers.Serializer):
    """The ARC-3 JSON document (documentation of its known keys; other keys are pinned as given)."""

    name = serializers.CharField(required=False, help_text="Must match the asset name (added when absent).")
    decimals = serializers.IntegerField(required=False, help_text="Must equal the asset's decimals.")
    description = serializers.CharField(required=False)
    image = serializers.CharField(required=False)
    image_integrity = serializers.CharField(required=False, help_text="sha256-<base64 digest>")
    image_mimetype = serializers.CharField(required=False)
    background_color = serializers.CharField(required=False, help_text="Six hex digits.")
    external_url = serializers.CharField(required=False)
    external_url_integrity = serializers.CharField(required=False)
    external_url_mimetype = serializers.CharField(required=False)
    animation_url = serializers.CharField(required=False)
    animation_url_integrity = serializers.CharField(required=False)
    animation_url_mimetype = serializers.CharField(required=False)
    properties = serializers.DictField(required=False, help_text="Free-form JSON object.")
    localization = Arc3LocalizationSerializer(required=False)


@extend_schema_field(Arc3MetadataSerializer)
class Arc3MetadataField(serializers.JSONField):
    """Validated by `tokens.chains.arc3` (the document that is pinned); the schema shows its keys."""


class Arc3Mixin(serializers.Serializer):
    """The metadata document is checked against the asset (name, decimals, unit name, URL, hash) by
    `tokens.standards.validation`, which computes its CID."""

    metadata = Arc3MetadataField(help_text="ARC-3 metadata JSON (name, decimals, description, image...).")
    url = Utf8CharField(max_bytes=96, required=False, allow_blank=True, default="",
                        help_text="Computed (ipfs://<cid>#arc3); if given it must end with #arc3.")
    metadata_hash = MetadataHashField(required=False,
                                      help_text="Computed (SHA-256 of the canonical metadata); "
                                                "if given it must equal the computed one.")


class Arc3FtSerializer(Arc3Mixin, AsaFtSerializer):
    pass


class Arc3NftSerializer(Arc3Mixin, AsaNftSerializer):
    pass


class Arc3FnftSerializer(Arc3Mixin, AsaFnftSerializer):
    pass


# ---- Algorand smart-contract tokens -------------------------------------------------------------
class Arc200BaseSerializer(IssuerAccountSerializer):
    network = _network_field(ALGORAND)
    name = Utf8CharField(max_bytes=32)
    symbol = Utf8CharField(max_bytes=8)
    decimals = serializers.IntegerField(min_value=0, max_value=255, default=6)
    initial_supply = BigIntegerStringField(help_text="Minted to `receiver` at bootstrap, in base units (uint256).")
    receiver = AlgorandAddressField(required=False, help_text="Receives the initial supply (default: your address).")


class Arc200MintableSerializer(CapAtLeastSupplyMixin, Arc200BaseSerializer):
    cap = BigIntegerStringField(min_value=1, help_text="Maximum total supply (>= initial_supply).")


class Arc200PremintedSerializer(Arc200BaseSerializer):
    initial_supply = BigIntegerStringField(min_value=1, help_text="The whole, fixed supply (uint256).")


class Arc1400MintableSerializer(Arc200MintableSerializer):
    pass
