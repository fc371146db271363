"""The token standards: one row per standard, and the only place that knows what a standard is.

A row holds the slug, the chain family, the request serializer, the contract artifact it deploys
(None for a plain Algorand asset), the request fields passed to the constructor (EVM) or to
`bootstrap` (ARC-200/1400) in ABI order, the chain steps, what the read-back must find on chain, the
unique/fractional/mintable flags, the post-issuance operations it supports (`operations.py`), how the
chain can enforce a holder registry (`holder_enforcement`) and an example request. Chain code, the
adapters, compliance and the API read these rows; none of them compares a slug. Adding a standard
means one row here and, if it deploys new code, one contract.

Read-back sources (`Standard.read_back`): `request.<field>` or `results.<key>` (the deployment's
results), prefixed `int:` to compare as an integer and suffixed `?` when the expectation applies only
if the value is present; a bool is a constant the chain must hold.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from biatec.core.serializers import StrictSerializer
from tokens.contracts.avm import ARC200_BOOTSTRAP_MIN_BALANCE, ARC1400_BOOTSTRAP_MIN_BALANCE
from tokens.networks import ALGORAND, EVM, Network, all_networks

from . import operations as ops
from . import serializers as s
from .fields import UINT64_MAX, UINT256_MAX

__all__ = ["ALGORAND_STEP_APP_CREATE", "ALGORAND_STEP_ASSET_CREATE", "ALGORAND_STEP_BOOTSTRAP", "EVM_STEP_CREATE",
           "FRACTIONAL", "FUNGIBLE", "HOLDERS_BY_ASSET_FREEZE", "HOLDERS_BY_CONTRACT", "HOLDERS_OFF_CHAIN", "STANDARDS",
           "STANDARD_CHOICES", "UINT64_MAX", "UINT256_MAX", "UNIQUE", "Standard", "standard_get", "standards_of_family"]

EVM_STEP_CREATE = "create"
ALGORAND_STEP_ASSET_CREATE = "asset_create"
ALGORAND_STEP_APP_CREATE = "app_create"
ALGORAND_STEP_BOOTSTRAP = "bootstrap"
UNIQUE, FRACTIONAL, FUNGIBLE = "unique", "fractional", "fungible"
HOLDERS_BY_CONTRACT = "contract"
"""The token contract itself refuses transfers from or to a holder it does not list (ARC-1400's
whitelist, erc20-security's eligibility registry)."""
HOLDERS_BY_ASSET_FREEZE = "asset_freeze"
"""An ASA can: when it is default-frozen with the issuer as freeze address (`regulated: true` on
create), every new holding starts frozen and only the issuer unfreezes it."""
HOLDERS_OFF_CHAIN = "none"
"""The chain cannot refuse a holder (plain ERC-20, ARC-200): the registry is checked by the API only."""

_ERC20_READ_BACK = (("name", "request.name"), ("symbol", "request.symbol"), ("decimals", "int:request.decimals"),
                    ("total_supply", "int:request.initial_supply"))
_ASA_READ_BACK = (("name", "request.name"), ("unit_name", "request.unit_name"), ("total", "int:request.total"),
                  ("decimals", "int:request.decimals"), ("url", "request.url?"),
                  ("metadata_hash", "request.metadata_hash?"), ("default_frozen", "request.default_frozen?"))
_ARC3_READ_BACK = (("name", "request.name"), ("unit_name", "request.unit_name"), ("total", "int:request.total"),
                   ("decimals", "int:request.decimals"), ("url", "results.metadata_url"),
                   ("metadata_hash", "results.metadata_hash"), ("default_frozen", "request.default_frozen?"))
_ARC200_READ_BACK = (("name", "request.name"), ("symbol", "request.symbol"), ("decimals", "int:request.decimals"),
                     ("total_supply", "int:request.initial_supply"), ("holder_balance", "int:request.initial_supply"),
                     ("bootstrapped", True))
_ASA_STEPS = (ALGORAND_STEP_ASSET_CREATE,)
_APP_STEPS = (ALGORAND_STEP_APP_CREATE, ALGORAND_STEP_BOOTSTRAP)
_BOOTSTRAP_ARGS = ("name", "symbol", "decimals", "initial_supply", "receiver", "cap")


@dataclass(frozen=True)
class Standard:
    slug: str
    family: str
    title: str
    serializer: type[StrictSerializer]
    contract: str | None
    """EVM: the artifact under tokens/contracts/evm/artifacts; Algorand: the AVM contract under
    tokens/contracts/avm/artifacts; None: a plain Algorand asset (no contract)."""
    steps: tuple[str, ...]
    chain_args: tuple[str, ...]
    """Request fields in ABI order: EVM constructor arguments / ARC-200 `bootstrap` arguments."""
    read_back: tuple[tuple[str, Any], ...]
    example: dict[str, Any]
    """An example request body (without `network`, which is the family's local network)."""
    fungibility: str = FUNGIBLE
    mintable: bool = False
    arc3_metadata: bool = False
    """An ARC-3 metadata document is pinned and its URL and hash go into the asset."""
    whitelist: bool = False
    """ARC-1400: the receiver of the initial supply is whitelisted at bootstrap."""
    bootstrap_min_balance: int = 0
    """microAlgos the bootstrap group pays to the app account (its minimum balance afterwards)."""
    operations: tuple[str, ...] = ()
    evm_calls: tuple[tuple[str, ops.EvmCall], ...] = tuple(ops.EVM_CALLS.items())
    """EVM: the contract call of each operation kind (`operations.EvmCall`)."""
    holder_registry: bool = False
    """EVM, ERC-3643-style: each holder's eligibility and freeze are on chain (`isEligible`,
    `isFrozen`), read into the live state and checked at POST."""
    holder_enforcement: str = HOLDERS_OFF_CHAIN
    """How the chain can enforce the holder registry: HOLDERS_BY_CONTRACT, HOLDERS_BY_ASSET_FREEZE
    (only for a regulated asset, `deployments.token_enforcement`) or HOLDERS_OFF_CHAIN."""
    pause_holder_transfers_only: bool = False
    """A pause stops holder transfers only; the issuer's agent operations (mint, burn, forced
    transfer) still run, as in ERC-3643 (ADR 0017)."""
    description: str = ""

    @property
    def unique(self) -> bool:
        return self.fungibility == UNIQUE

    @property
    def fractional(self) -> bool:
        return self.fungibility == FRACTIONAL

    @property
    def is_app(self) -> bool:
        """An Algorand smart-contract token (app create + bootstrap)."""
        return self.family == ALGORAND and self.contract is not None

    @property
    def is_asset(self) -> bool:
        """A plain Algorand Standard Asset (one asset-create transaction)."""
        return self.family == ALGORAND and self.contract is None

    def evm_call(self, kind: str) -> ops.EvmCall:
        """The contract function and argument sources of operation `kind` (EVM)."""
        return dict(self.evm_calls)[kind]

    def networks(self) -> list[Network]:
        return [n for n in all_networks() if n.family == self.family]

    def example_request(self, network: str | None = None) -> dict[str, Any]:
        local = next(n.slug for n in self.networks() if n.is_local)
        return {"network": network or local, **self.example}

    def expected_on_chain(self, *, request: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
        """What the read-back must find on chain for this deployment (see the module docstring)."""
        expected: dict[str, Any] = {}
        for key, source in self.read_back:
            if isinstance(source, bool):
                expected[key] = source
                continue
            as_int, optional = source.startswith("int:"), source.endswith("?")
            where, _, name = source.removeprefix("int:").removesuffix("?").partition(".")
            value: Any = (request if where == "request" else results).get(name)
            if optional and value in (None, ""):
                continue
            expected[key] = int(value) if as_int else value
        return expected


_ROWS: tuple[Standard, ...] = (
    Standard("erc20-mintable", EVM, "ERC-20, mintable up to a cap", s.Erc20MintableSerializer,
             contract="BiatecTokenMintable", steps=(EVM_STEP_CREATE,),
             chain_args=("name", "symbol", "decimals", "initial_supply", "receiver", "cap", "owner"),
             read_back=(*_ERC20_READ_BACK, ("cap", "int:request.cap")), mintable=True,
             operations=ops.ERC20_MINTABLE_OPERATIONS,
             example={"name": "Acme", "symbol": "ACME", "decimals": 18, "initial_supply": "1000000",
                      "cap": "5000000"}),
    Standard("erc20-preminted", EVM, "ERC-20, fixed supply minted at deployment", s.Erc20PremintedSerializer,
             contract="BiatecTokenPreminted", steps=(EVM_STEP_CREATE,),
             chain_args=("name", "symbol", "decimals", "initial_supply", "receiver"), read_back=_ERC20_READ_BACK,
             operations=ops.ERC20_PREMINTED_OPERATIONS,
             example={"name": "Acme Fixed", "symbol": "ACMF", "decimals": 18, "initial_supply": "1000000"}),
    Standard("erc20-security", EVM, "ERC-20 security token (ERC-3643-style eligibility, freezes, agents), capped",
             s.Erc20SecuritySerializer, contract="BiatecTokenSecurity", steps=(EVM_STEP_CREATE,),
             chain_args=("name", "symbol", "decimals", "initial_supply", "receiver", "cap", "owner"),
             read_back=(*_ERC20_READ_BACK, ("cap", "int:request.cap")), mintable=True,
             operations=ops.ERC20_SECURITY_OPERATIONS, evm_calls=tuple(ops.ERC20_SECURITY_CALLS.items()),
             holder_registry=True, holder_enforcement=HOLDERS_BY_CONTRACT, pause_holder_transfers_only=True,
             example={"name": "Acme Shares", "symbol": "ASHR", "decimals": 0, "initial_supply": "1000",
                      "cap": "10000"}),
    Standard("asa-ft", ALGORAND, "Algorand Standard Asset, fungible", s.AsaFtSerializer, contract=None,
             steps=_ASA_STEPS, chain_args=(), read_back=_ASA_READ_BACK,
             operations=ops.ASA_OPERATIONS, holder_enforcement=HOLDERS_BY_ASSET_FREEZE,
             example={"name": "Acme ASA", "unit_name": "AASA", "total": "1000000000", "decimals": 6}),
    Standard("asa-nft", ALGORAND, "Algorand Standard Asset, unique NFT (total 1)", s.AsaNftSerializer,
             contract=None, steps=_ASA_STEPS, chain_args=(), read_back=_ASA_READ_BACK,
             operations=ops.ASA_OPERATIONS, holder_enforcement=HOLDERS_BY_ASSET_FREEZE, fungibility=UNIQUE,
             example={"name": "Acme NFT", "unit_name": "ANFT", "url": "https://example.com/nft.json"}),
    Standard("asa-fnft", ALGORAND, "Algorand Standard Asset, fractional NFT (total 10^k)", s.AsaFnftSerializer,
             contract=None, steps=_ASA_STEPS, chain_args=(), read_back=_ASA_READ_BACK,
             operations=ops.ASA_OPERATIONS, holder_enforcement=HOLDERS_BY_ASSET_FREEZE, fungibility=FRACTIONAL,
             example={"name": "Acme Fractions", "unit_name": "AFR", "decimals": 2}),
    Standard("arc3-ft", ALGORAND, "ARC-3 asset with pinned metadata, fungible", s.Arc3FtSerializer, contract=None,
             steps=_ASA_STEPS, chain_args=(), read_back=_ARC3_READ_BACK,
             operations=ops.ASA_OPERATIONS, holder_enforcement=HOLDERS_BY_ASSET_FREEZE, arc3_metadata=True,
             example={"name": "Acme ARC3", "unit_name": "AA3", "total": "1000000", "decimals": 2,
                      "metadata": {"description": "An ARC-3 fungible token", "decimals": 2}}),
    Standard("arc3-nft", ALGORAND, "ARC-3 asset with pinned metadata, unique NFT", s.Arc3NftSerializer,
             contract=None, steps=_ASA_STEPS, chain_args=(), read_back=_ARC3_READ_BACK,
             operations=ops.ASA_OPERATIONS, holder_enforcement=HOLDERS_BY_ASSET_FREEZE, fungibility=UNIQUE,
             arc3_metadata=True,
             example={"name": "Acme ARC3 NFT", "unit_name": "AA3N",
                      "metadata": {"description": "A unique ARC-3 NFT", "image": "ipfs://bafkreigh2akiscaild"}}),
    Standard("arc3-fnft", ALGORAND, "ARC-3 asset with pinned metadata, fractional NFT", s.Arc3FnftSerializer,
             contract=None, steps=_ASA_STEPS, chain_args=(), read_back=_ARC3_READ_BACK,
             operations=ops.ASA_OPERATIONS, holder_enforcement=HOLDERS_BY_ASSET_FREEZE, fungibility=FRACTIONAL,
             arc3_metadata=True,
             example={"name": "Acme ARC3 Fractions", "unit_name": "AA3F", "decimals": 3,
                      "metadata": {"description": "A fractional ARC-3 NFT"}}),
    Standard("arc200-mintable", ALGORAND, "ARC-200 smart-contract token, mintable up to a cap",
             s.Arc200MintableSerializer, contract="Arc200Token", steps=_APP_STEPS, chain_args=_BOOTSTRAP_ARGS,
             read_back=_ARC200_READ_BACK, mintable=True, bootstrap_min_balance=ARC200_BOOTSTRAP_MIN_BALANCE,
             operations=ops.ARC200_MINTABLE_OPERATIONS,
             example={"name": "Acme ARC200", "symbol": "A200", "decimals": 6, "initial_supply": "1000000",
                      "cap": "5000000"}),
    Standard("arc200-preminted", ALGORAND, "ARC-200 smart-contract token, fixed supply", s.Arc200PremintedSerializer,
             contract="Arc200Token", steps=_APP_STEPS, chain_args=_BOOTSTRAP_ARGS, read_back=_ARC200_READ_BACK,
             bootstrap_min_balance=ARC200_BOOTSTRAP_MIN_BALANCE, operations=ops.ARC200_PREMINTED_OPERATIONS,
             example={"name": "Acme ARC200 Fixed", "symbol": "A200F", "decimals": 6, "initial_supply": "1000000"}),
    Standard("arc1400-mintable", ALGORAND, "ARC-1400 security token (whitelist, partitions), mintable",
             s.Arc1400MintableSerializer, contract="Arc1400SecurityToken", steps=_APP_STEPS,
             chain_args=_BOOTSTRAP_ARGS, read_back=_ARC200_READ_BACK, mintable=True, whitelist=True,
             bootstrap_min_balance=ARC1400_BOOTSTRAP_MIN_BALANCE, operations=ops.ARC1400_OPERATIONS,
             holder_enforcement=HOLDERS_BY_CONTRACT,
             example={"name": "Acme Security", "symbol": "ASEC", "decimals": 0, "initial_supply": "1000",
                      "cap": "10000"}),
)

STANDARDS: dict[str, Standard] = {row.slug: row for row in _ROWS}
STANDARD_CHOICES: list[str] = sorted(STANDARDS)


def standard_get(slug: str) -> Standard:
    """The row of `slug`; KeyError for an unknown slug (the API maps it to UNSUPPORTED_STANDARD)."""
    return STANDARDS[slug]


def standards_of_family(family: str) -> list[Standard]:
    return [row for row in _ROWS if row.family == family]
