"""Live state of a registered token, read from its chain on request (never cached): supply, issuer
balance, paused, cap, roles, and holders' balances, frozen and opt-in state. One shape for every
family; integers are Python ints here (the presenters turn them into strings)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokens.chains import algorand as algo
from tokens.chains.evm_operations import read_token_state
from tokens.networks import get_available_network
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .token_models import Token


def token_live_state(token: Token, *, holders: Sequence[str] = ()) -> dict[str, Any]:
    """{total_supply, circulating_supply, issuer_balance, paused, cap, roles, holders: {address:
    {balance, frozen, opted_in, plus `whitelisted` (ARC-1400) or `eligible` (an on-chain holder
    registry, `Standard.holder_registry`, with its `frozen_tokens`)}}}. Raises ChainUnavailable when
    the node does not answer."""
    network = get_available_network(token.network)  # NETWORK_UNAVAILABLE when no node is configured
    spec = STANDARDS[token.standard]
    issuer = token.issuer_address
    wanted = list(dict.fromkeys([issuer, *holders]))
    if spec.is_asset:
        asset = algo.read_asset_state(network=network, asset_id=int(token.asset_id or 0))
        found = {a: algo.read_asset_holding(network=network, asset_id=int(token.asset_id or 0), address=a)
                 for a in wanted} if not asset["deleted"] else {}
        return {"total_supply": asset["total"], "circulating_supply": asset["circulating"],
                "issuer_balance": asset["issuer_balance"], "paused": False, "cap": asset["total"],
                "deleted": asset["deleted"], "default_frozen": asset["default_frozen"],
                "roles": {r: asset[r] for r in ("manager", "reserve", "freeze", "clawback")},
                "holders": found}
    if spec.is_app:
        app_id = int(token.app_id or 0)
        base = algo.read_app_token_state(network=network, app_id=app_id, standard=token.standard)
        found = {}
        for address in wanted:
            one = algo.read_app_token_state(network=network, app_id=app_id, standard=token.standard, holder=address)
            found[address] = {"balance": one["holder_balance"], "frozen": False, "opted_in": True,
                              **({"whitelisted": one["holder_whitelisted"]} if "holder_whitelisted" in one else {})}
        issuer_balance = found[issuer]["balance"]
        return {"total_supply": base["total_supply"], "circulating_supply": base["total_supply"] - issuer_balance,
                "issuer_balance": issuer_balance, "paused": base["paused"], "cap": base["cap"], "deleted": False,
                "roles": {"owner": base["owner"]}, "holders": found}
    state = read_token_state(network=network, contract_address=token.contract_address, holders=wanted,
                             holder_flags=spec.holder_registry)
    balances = {a.lower(): b for a, b in state["balances"].items()}
    flags = {a.lower(): f for a, f in state.get("flags", {}).items()}
    def registry_flags(address: str) -> dict[str, Any]:
        own = flags.get(address.lower())
        return {"eligible": own["eligible"], "frozen_tokens": own["frozen_tokens"]} if own else {}

    found = {a: {"balance": balances[a.lower()], "frozen": flags.get(a.lower(), {}).get("frozen", False),
                 "opted_in": True, **registry_flags(a)} for a in wanted}
    issuer_balance = found[issuer]["balance"]
    return {"total_supply": state["total_supply"], "circulating_supply": state["total_supply"] - issuer_balance,
            "issuer_balance": issuer_balance, "paused": bool(state["paused"]), "cap": state["cap"], "deleted": False,
            "roles": {"owner": state["owner"]} if state["owner"] else {}, "holders": found}


def supported_operations(token: Token, roles: dict[str, str] | None = None) -> list[str]:
    """The standard's operations this token supports now: an asset's freeze, clawback and
    reconfiguration need the issuer to hold that role (`roles`: live, else as last recorded); a
    contract token whose ownership moved away from the issuer keeps only what a holder may do
    (`ops.owner_only`); a destroyed asset supports none."""
    spec = STANDARDS[token.standard]
    if token.destroyed:
        return []
    roles = roles if roles is not None else dict(token.roles)
    if not spec.is_asset:
        if roles.get("owner", token.issuer_address) == token.issuer_address:
            return list(spec.operations)
        calls = dict(spec.evm_calls)
        return [kind for kind in spec.operations if not ops.owner_only(kind, calls)]
    return [kind for kind in spec.operations
            if kind not in ops.ASA_ROLE_OF_KIND or roles.get(ops.ASA_ROLE_OF_KIND[kind]) == token.issuer_address]
