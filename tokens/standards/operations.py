"""Operations on issued tokens: the kinds, which standard supports which (the `operations` column
of the standards table), and the request body of each kind.

A recipient (`to`, `from`, `address`, `new_owner`, a batch row's `to`) is an address of the token's
chain family or `{"email": ...}` of a registered user, whose address the server resolves.
Amounts are base units, as decimal strings or JSON integers, within uint256 (EVM, ARC-200/1400) or
uint64 (Algorand Standard Assets).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from biatec.core.serializers import StrictSerializer
from tokens.networks import EVM

from .fields import UINT64_MAX, UINT256_MAX, AlgorandAddressField, BigIntegerStringField, EvmAddressField

MINT, BURN, TRANSFER, BATCH_TRANSFER = "mint", "burn", "transfer", "batch_transfer"
PAUSE, UNPAUSE, FREEZE, UNFREEZE = "pause", "unpause", "freeze", "unfreeze"
FORCED_TRANSFER, SET_ROLES, DESTROY = "forced_transfer", "set_roles", "destroy"
TRANSFER_OWNERSHIP = "transfer_ownership"
FREEZE_PARTIAL, UNFREEZE_PARTIAL, RECOVERY = "freeze_partial", "unfreeze_partial", "recovery"
KINDS = (MINT, BURN, TRANSFER, BATCH_TRANSFER, PAUSE, UNPAUSE, FREEZE, UNFREEZE, FREEZE_PARTIAL, UNFREEZE_PARTIAL,
         FORCED_TRANSFER, RECOVERY, SET_ROLES, TRANSFER_OWNERSHIP, DESTROY)
ALLOWLIST_SYNC = "allowlist_sync"
SYSTEM_KINDS = (ALLOWLIST_SYNC,)
"""Kinds the platform queues itself (no POST route): `allowlist_sync` carries holder-registry changes to
the chain (erc20-security `batchSetEligible`, ARC-1400 `whitelist_set`, a regulated asset's freeze)."""
ALL_KINDS = KINDS + SYSTEM_KINDS
NATIVE_SWEEP = "native_sweep"
"""A key rotation's move of a retired account's native coin (ALGO, ETH) to the user's new account
(deployments/key_rotation.py): an operation without a token, never listed under a token or sent
to webhooks, so not one of the kinds above (docs/decisions/0107)."""
ELIGIBILITY_PER_EVM_CALL = 500
"""Addresses per `batchSetEligible` transaction of an `allowlist_sync` (about 15 M gas at most)."""
MAX_BATCH = 1000
MAX_CSV_BATCH = 10_000
ROLE_NAMES = ("manager", "reserve", "freeze", "clawback")

# Which operations need a role the token may lack on chain (ASA: a cleared freeze / clawback address).
ASA_ROLE_OF_KIND = {FREEZE: "freeze", UNFREEZE: "freeze", FORCED_TRANSFER: "clawback", SET_ROLES: "manager",
                    DESTROY: "manager"}

ERC20_MINTABLE_OPERATIONS = (MINT, BURN, TRANSFER, BATCH_TRANSFER, PAUSE, UNPAUSE, TRANSFER_OWNERSHIP)
ERC20_PREMINTED_OPERATIONS = (BURN, TRANSFER, BATCH_TRANSFER)
ASA_OPERATIONS = (TRANSFER, BATCH_TRANSFER, FREEZE, UNFREEZE, FORCED_TRANSFER, SET_ROLES, DESTROY)
ARC200_MINTABLE_OPERATIONS = (MINT, TRANSFER, BATCH_TRANSFER)
ARC200_PREMINTED_OPERATIONS = (TRANSFER, BATCH_TRANSFER)
ARC1400_OPERATIONS = (MINT, BURN, TRANSFER, BATCH_TRANSFER, PAUSE, UNPAUSE, FORCED_TRANSFER, TRANSFER_OWNERSHIP)
ERC20_SECURITY_OPERATIONS = (MINT, BURN, TRANSFER, BATCH_TRANSFER, PAUSE, UNPAUSE, FREEZE, UNFREEZE, FREEZE_PARTIAL,
                             UNFREEZE_PARTIAL, FORCED_TRANSFER, RECOVERY, TRANSFER_OWNERSHIP)

EvmCall = tuple[str, tuple[str | bool, ...]]
"""How an EVM operation becomes a contract call: (function, arguments), each argument a request
field (`int:` prefixed for an amount), `issuer` (the token's issuer, who signs) or a bool constant.
A batch applies it to each of its rows."""
EVM_CALLS: dict[str, EvmCall] = {
    MINT: ("mint", ("to", "int:amount")), BURN: ("burn", ("int:amount",)), TRANSFER: ("transfer", ("to", "int:amount")),
    BATCH_TRANSFER: ("transfer", ("to", "int:amount")), PAUSE: ("pause", ()), UNPAUSE: ("unpause", ()),
    TRANSFER_OWNERSHIP: ("transferOwnership", ("new_owner",)),
}
"""BiatecTokenMintable / BiatecTokenPreminted (OpenZeppelin ERC20Burnable, Pausable, Ownable)."""
ERC20_SECURITY_CALLS: dict[str, EvmCall] = {
    **EVM_CALLS, BURN: ("burn", ("issuer", "int:amount")), FREEZE: ("setAddressFrozen", ("address", True)),
    UNFREEZE: ("setAddressFrozen", ("address", False)),
    FORCED_TRANSFER: ("forcedTransfer", ("from", "to", "int:amount")),
    FREEZE_PARTIAL: ("freezePartialTokens", ("address", "int:amount")),
    UNFREEZE_PARTIAL: ("unfreezePartialTokens", ("address", "int:amount")),
    RECOVERY: ("recoveryAddress", ("lost_address", "new_address")),
}
"""BiatecTokenSecurity (ERC-3643-style agent functions): burn is the agent's burn(account, amount) of
the issuer's own balance, freeze/unfreeze setAddressFrozen, freeze_partial/unfreeze_partial
freezePartialTokens/unfreezePartialTokens (an amount of the holder's balance), forced_transfer
forcedTransfer, recovery recoveryAddress (a lost wallet's whole position, freezes and eligibility
moved to a new wallet)."""

OWNER_KINDS = frozenset({MINT, PAUSE, UNPAUSE, FREEZE, UNFREEZE, FREEZE_PARTIAL, UNFREEZE_PARTIAL, FORCED_TRANSFER,
                         RECOVERY, TRANSFER_OWNERSHIP})
"""Kinds of a contract token (EVM, ARC-200, ARC-1400) that only its owner (on erc20-security: an
agent, a role that moves with ownership) may send: once `transfer_ownership` moved the token away
from the issuer's account, the platform can no longer sign them."""


def owner_only(kind: str, calls: dict[str, EvmCall]) -> bool:
    """`kind` needs the owner: an OWNER_KINDS one, or a burn that is the agent's burn(account,
    amount) (erc20-security) rather than the holder burning its own balance."""
    return kind in OWNER_KINDS or (kind == BURN and calls.get(BURN, ("", ()))[1][:1] == ("issuer",))


@extend_schema_field({"oneOf": [
    {"type": "string", "description": "An address of the token's chain (EVM hex or Algorand base32)."},
    {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}, "required": ["email"],
     "additionalProperties": False, "description": "A registered user: the server resolves their address."},
]})
class RecipientField(serializers.Field):
    """An address of the family, or {"email": ...}: answers {"address": ...} or {"email": ...}."""

    def __init__(self, *, family: str, **kwargs: Any) -> None:
        self.family = family
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict):
            if set(data) != {"email"}:
                raise serializers.ValidationError('Use an address or {"email": "..."}.')
            return {"email": serializers.EmailField().run_validation(data["email"]).lower()}
        field = EvmAddressField() if self.family == EVM else AlgorandAddressField()
        return {"address": field.run_validation(data)}

    def to_representation(self, value: Any) -> Any:
        return value


def _amount(family: str, asset: bool, **kw: Any) -> BigIntegerStringField:
    return BigIntegerStringField(min_value=1, max_value=UINT64_MAX if asset else UINT256_MAX, **kw)


def _to_treasury() -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False, default=False,
        help_text="Move the token to the organization's treasury account (docs/treasury.md): the new owner "
                  "(or every role the issuer holds now) is the treasury, which controls the token from then on.")


def _transfer_to_treasury() -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False, default=False,
        help_text="A fixed-supply token (no owner role): move the issuer's whole balance to the organization's "
                  "treasury account, which the platform then operates the token from (docs/treasury.md). "
                  "Excludes `to` and `amount`.")


def _transfer_validate(self: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    """`to_treasury`, or both `to` and `amount`."""
    named = [n for n in ("to", "amount") if n in attrs]
    if attrs.get("to_treasury") and named:
        raise serializers.ValidationError({n: ["Leave this out with to_treasury."] for n in named})
    if not attrs.get("to_treasury") and len(named) < 2:
        raise serializers.ValidationError({n: ["This field is required."] for n in ("to", "amount") if n not in attrs})
    return attrs


def _treasury_or(names: tuple[str, ...], *, required: bool) -> Any:
    """`to_treasury` excludes naming the target yourself; without it, `names` (one of them if `required`)."""
    def validate(self: Any, attrs: dict[str, Any]) -> dict[str, Any]:
        named = [n for n in names if n in attrs]
        if attrs.get("to_treasury") and named:
            raise serializers.ValidationError({n: ["Leave this out with to_treasury."] for n in named})
        if required and not attrs.get("to_treasury") and not named:
            raise serializers.ValidationError({names[0]: ["This field is required (or to_treasury)."]})
        return attrs
    return validate


def operation_serializer(kind: str, *, family: str, asset: bool, max_batch: int = MAX_BATCH) -> type[StrictSerializer]:
    """The request body of `kind` for a token of `family` (`asset`: an Algorand Standard Asset);
    `max_batch` rows in a batch (10,000 for a CSV upload)."""
    def recipient(**kw: Any) -> RecipientField:
        return RecipientField(family=family, **kw)

    reason = serializers.CharField(max_length=500, required=False, allow_blank=False,
                                   help_text="Why (recorded in the history and audit trail).")
    fields: dict[str, Any] = {"reason": reason}
    if kind == MINT:
        fields |= {"to": recipient(), "amount": _amount(family, asset)}
    elif kind == TRANSFER:
        fields |= {"to": recipient(required=False, help_text="Required unless `to_treasury`."),
                   "amount": _amount(family, asset, required=False, help_text="Required unless `to_treasury`."),
                   "to_treasury": _transfer_to_treasury(), "validate": _transfer_validate}
    elif kind == BURN:
        fields |= {"amount": _amount(family, asset)}
    elif kind == BATCH_TRANSFER:
        row = type("BatchTransferRow", (StrictSerializer,), {
            "to": recipient(), "amount": _amount(family, asset), "__module__": __name__})
        fields |= {"transfers": row(many=True, min_length=1, max_length=max_batch)}
    elif kind in (FREEZE, UNFREEZE):
        fields |= {"address": recipient()}
    elif kind in (FREEZE_PARTIAL, UNFREEZE_PARTIAL):
        fields |= {"address": recipient(), "amount": _amount(family, asset)}
    elif kind == RECOVERY:
        fields |= {"lost_address": recipient(help_text="The wallet the holder lost."),
                   "new_address": recipient(help_text="The holder's new wallet: it receives the whole position."),
                   "reason": serializers.CharField(max_length=500)}
    elif kind == FORCED_TRANSFER:
        fields |= {"from": recipient(), "to": recipient(), "amount": _amount(family, asset),
                   "reason": serializers.CharField(max_length=500)}
    elif kind == SET_ROLES:
        fields |= {name: AlgorandAddressField(required=False, allow_blank=True,
                                              help_text="New address; empty string clears the role for good.")
                   for name in ROLE_NAMES}
        fields |= {"to_treasury": _to_treasury(), "validate": _treasury_or(ROLE_NAMES, required=False)}
    elif kind == TRANSFER_OWNERSHIP:
        fields |= {"new_owner": recipient(required=False, help_text="Required unless `to_treasury`."),
                   "to_treasury": _to_treasury(), "validate": _treasury_or(("new_owner",), required=True)}
    name = "".join(p.capitalize() for p in f"{family}_{'asset_' if asset else ''}{kind}".split("_")) + "Serializer"
    serializer: type[StrictSerializer] = type(name, (StrictSerializer,), {"__module__": __name__, **fields})
    return serializer
