"""`allowlist_sync`: the operation that carries holder-registry changes to the chain, queued by the
registry's writers (compliance) in their own transaction, never by a POST of its own. It is a chain
job of the one pipeline like every operation (signed bytes stored before broadcast, exactly once).

What the chain enforces per standard: erc20-security `batchSetEligible` (the contract refuses any
transfer from or to an address that is not eligible), ARC-1400 `whitelist_set` (the same for
sender and receiver), a regulated asset (default-frozen, the issuer its freeze address) the
holding's frozen flag: an active entry unfreezes it, a suspended or revoked one freezes it again.
A holding must exist to be unfrozen: a platform user named by e-mail is opted in by the same
operation; an outside address not opted in yet is left out (`awaiting_opt_in`) and shows in the
drift report until a resync after its opt-in.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accounts.models import User
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .operation_services import operation_queue
from .token_enforcement import token_enforces_on_chain
from .token_models import Operation, Token
from .token_state import token_live_state


@dataclass(frozen=True)
class EligibilityChange:
    """An address the chain must now let hold the token (`eligible`) or refuse; `user`: the platform
    user the entry names (a regulated asset opts them in before unfreezing)."""

    address: str
    eligible: bool
    user: User | None = None


def token_sync_possible(token: Token) -> bool:
    """The token enforces its holder registry on chain and the platform still holds the key that
    sets it (the contract's owner / agent, or the asset's freeze address)."""
    if token.destroyed or not token_enforces_on_chain(token):
        return False
    roles = dict(token.roles)
    role = "freeze" if STANDARDS[token.standard].is_asset else "owner"
    return roles.get(role, token.issuer_address) == token.issuer_address


def allowlist_sync_create(*, token: Token, changes: Sequence[EligibilityChange], actor: str,
                          reason: str) -> Operation | None:
    """Queue one `allowlist_sync` with `changes` (in the caller's transaction: it commits with the
    registry change or not at all); None when there is nothing the chain must change. The issuer
    is never changed (it must stay able to send)."""
    wanted = {c.address.lower(): c for c in changes if c.address.lower() != token.issuer_address.lower()}
    if not wanted or not token_sync_possible(token):
        return None
    request: dict[str, Any] = {"reason": reason}
    rows = list(wanted.values())
    if STANDARDS[token.standard].is_asset:
        rows, request = _asset_plan(token, rows, request)
        if not rows:  # every activated address still has to opt in: nothing to send yet
            return None
    request["changes"] = [{"address": c.address, "eligible": c.eligible} for c in rows]
    return operation_queue(token=token, kind=ops.ALLOWLIST_SYNC, request=request,
                           creator_id=token.deployment.creator_id, actor=actor, reason=reason,
                           facts={"changes": len(request["changes"])})


def _asset_plan(token: Token, rows: list[EligibilityChange],
                request: dict[str, Any]) -> tuple[list[EligibilityChange], dict[str, Any]]:
    """Only holdings that exist (or that this operation opens: platform users) can be frozen or
    unfrozen: one live read of the holdings."""
    held = token_live_state(token, holders=[c.address for c in rows])["holders"]
    kept, opt_ins, waiting = [], {}, []
    for change in rows:
        if held[change.address]["opted_in"]:
            kept.append(change)
        elif change.eligible and change.user is not None:
            opt_ins[change.address] = str(change.user.pk)
            kept.append(change)
        elif change.eligible:
            waiting.append(change.address)
    if opt_ins:
        request |= {"opt_ins": list(opt_ins), "opt_in_users": opt_ins}
    if waiting:
        request["awaiting_opt_in"] = waiting[:1000]
    return kept, request
