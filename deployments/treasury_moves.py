"""Tokens and the organization treasury (issue 20 item 3, docs/treasury.md, ADR 0106).

- `treasury_target`: what `{"to_treasury": true}` means in a `transfer_ownership` (the new owner is
  the treasury) or `set_roles` (every role the issuer holds now goes to the treasury) request.
- `member_controlled`: the tokens a member's own keys still control (what blocks their removal).
- `member_move_to_treasury`: queue those moves through the ordinary operation path; each one carries
  the pending removal, which `token_registry.job_completed` finishes when the last move completes.
Registered with `accounts.member_hooks` in `DeploymentsConfig.ready`.
"""
from __future__ import annotations

from typing import Any

from accounts import roles
from accounts.member_hooks import TokenControl
from accounts.members_errors import MemberControlsTokens
from accounts.models import Membership, OrganizationAccount
from accounts.treasury import MEMBER, ORGANIZATION, treasury_address
from biatec.core.errors import ApplicationError, PermissionDenied
from tokens.networks import get_available_network
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .token_models import Operation, Token
from .token_state import supported_operations

REMOVE_MEMBERSHIP = "then_remove_membership"
"""Request key of a move queued by a member's removal: {"membership_id", "actor_membership_id"}."""


class TokenInTreasury(ApplicationError):
    code = "TOKEN_IN_TREASURY"
    http_status = 409
    default_message = "The organization's treasury controls this token already."


def treasury_target(token: Token, kind: str) -> tuple[dict[str, Any], str]:
    """(the request fields that name the treasury as the target of `kind`, the treasury's address)."""
    if token.issuer_account == ORGANIZATION:
        raise TokenInTreasury(details={"token_id": str(token.pk)})
    address = treasury_address(organization_id=token.organization_id, network=get_available_network(token.network))
    if kind == ops.TRANSFER_OWNERSHIP:
        return {"new_owner": {"address": address}}, address
    held = [role for role in ops.ROLE_NAMES if token.roles.get(role) == token.issuer_address]
    return {role: address for role in held}, address


def names_treasury(token: Token, kind: str, request: dict[str, Any]) -> str | None:
    """The treasury's address when a `transfer_ownership` / `set_roles` naming addresses itself hands
    everything the issuer controls to the organization's existing treasury (so it counts as a move
    to the treasury), else None. One lookup, for these two kinds only."""
    if kind == ops.TRANSFER_OWNERSHIP:
        targets = {str(request.get("new_owner", ""))}
    elif kind == ops.SET_ROLES:
        held = [role for role in ops.ROLE_NAMES if token.roles.get(role) == token.issuer_address]
        if not held or any(role not in request for role in held):
            return None
        targets = {str(request[role]) for role in held}
    else:
        return None
    if len(targets) != 1 or token.issuer_account == ORGANIZATION:
        return None
    address = targets.pop()
    found = OrganizationAccount.objects.filter(organization_id=token.organization_id, address=address).exists()
    return address if found and address else None


def _move_kind(token: Token) -> str | None:
    kind = ops.SET_ROLES if STANDARDS[token.standard].is_asset else ops.TRANSFER_OWNERSHIP
    return kind if kind in supported_operations(token) else None


def _controls(token: Token) -> bool:
    """The issuer's key still holds a role (owner; manager, reserve, freeze, clawback) of the token."""
    return not token.destroyed and any(value == token.issuer_address for value in (token.roles or {}).values())


def _member_tokens(membership: Membership) -> list[Token]:
    tokens = Token.objects.filter(organization_id=membership.organization_id, issuer_account=MEMBER,
                                  deployment__creator_id=membership.user_id, destroyed=False)
    return [token for token in tokens if _controls(token)]


def member_controlled(membership: Membership) -> list[dict[str, Any]]:
    return [{"token_id": str(t.pk), "standard": t.standard, "network": t.network, "chain_id": t.chain_id,
             "issuer_address": t.issuer_address, "movable": _move_kind(t) is not None}
            for t in _member_tokens(membership)]


def member_move_to_treasury(actor: Membership, membership: Membership) -> list[str]:
    """Queue the move of each token `membership`'s member controls (the actor needs the kind's
    `operate:` action); a token no operation can move refuses the whole request (409)."""
    from .operation_services import operation_create  # operation_services imports this module

    tokens = _member_tokens(membership)
    kinds = {token.pk: _move_kind(token) for token in tokens}
    stuck = [str(pk) for pk, kind in kinds.items() if kind is None]
    if stuck:
        raise MemberControlsTokens("Some of the member's tokens cannot be moved to the treasury by an operation.",
                                   details={"tokens": member_controlled(membership), "not_movable": stuck})
    for kind in set(kinds.values()):
        if not roles.role_allows(actor.role, roles.operate(str(kind))):
            raise PermissionDenied(f"Your role does not allow '{kind}', which moves the tokens to the treasury.")
    pending = {"membership_id": str(membership.pk), "actor_membership_id": str(actor.pk)}
    moved = [  # Operations: a move with request_extra is never gated by the approval policy
        operation_create(user=actor.user, token_id=token.pk, kind=str(kinds[token.pk]),
                         payload={"to_treasury": True, "reason": "member removal: moved to the organization treasury"},
                         request_extra={REMOVE_MEMBERSHIP: pending})
        for token in tokens]
    return [str(op.pk) for op in moved]


def pending_removal_finish(operation: Operation) -> None:
    """After a completed move (the `completed` transition's transaction): finish the member removal
    it carries once the member controls nothing."""
    pending = (operation.request or {}).get(REMOVE_MEMBERSHIP)
    if pending:
        from accounts.members_services import member_removal_complete

        member_removal_complete(membership_id=pending["membership_id"],
                                actor_membership_id=pending["actor_membership_id"])


TOKEN_CONTROL = TokenControl(controlled=member_controlled, move_to_treasury=member_move_to_treasury)
