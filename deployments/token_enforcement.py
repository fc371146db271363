"""Whether the chain itself enforces a token's holder registry (issue 19 item 5), from stored facts
only (the `Token` row, never a chain read), so the registry's writers can decide at once whether a
change needs an on-chain sync and the token's detail can say so (`enforcement`).

On chain: a standard whose contract refuses unlisted holders (`HOLDERS_BY_CONTRACT`: ARC-1400's
whitelist, erc20-security's eligibility registry), and a *regulated* asset (`HOLDERS_BY_ASSET_FREEZE`):
created default-frozen with the issuer as its freeze address, so a holding starts frozen and only the
issuer unfreezes it. An asset whose freeze address was cleared or handed to someone else no longer
qualifies (its holdings are not the registry's to unfreeze). Everything else (plain ERC-20, ARC-200,
an asset without freeze) is off chain: the registry and the API's pre-checks only.
"""
from __future__ import annotations

from typing import Literal

from tokens.standards import HOLDERS_BY_ASSET_FREEZE, HOLDERS_BY_CONTRACT, STANDARDS

from .token_models import Token

ON_CHAIN: Literal["on-chain"] = "on-chain"
OFF_CHAIN: Literal["off-chain"] = "off-chain"
ENFORCEMENT_CHOICES = (ON_CHAIN, OFF_CHAIN)


def token_enforces_on_chain(token: Token) -> bool:
    """True when the chain refuses a holder the registry refuses (see the module docstring)."""
    how = STANDARDS[token.standard].holder_enforcement
    if how == HOLDERS_BY_CONTRACT:
        return True
    if how == HOLDERS_BY_ASSET_FREEZE:
        freeze = str((token.roles or {}).get("freeze") or "")
        return bool(token.default_frozen) and bool(freeze) and freeze == token.issuer_address
    return False


def token_enforcement(token: Token) -> Literal["on-chain", "off-chain"]:
    """`"on-chain"` or `"off-chain"`, as the token's detail and list show it."""
    return ON_CHAIN if token_enforces_on_chain(token) else OFF_CHAIN
