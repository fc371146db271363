"""Tokens and the organization treasury (issue 20 item 3, docs/treasury.md, ADR 0106).

- `treasury_target`: what `{"to_treasury": true}` means in a `transfer_ownership` (the new owner is
  the treasury) or `set_roles` (every role the issuer holds now goes to the treasury) request.
- `treasury_balance_plan`: the issuer address's balance of the token moves with it, in the same
  operation (extra steps before the control change; the request fields `balance_to_treasury`,
  `balance_via`, and the treasury's opt-in / eligibility first).
- `member_controlled`: the tokens a member's own keys still control (what blocks their removal):
  an owner or asset role, or a fixed-supply token's supply (`fixed_supply`, moved by a `transfer`
  `{"to_treasury": true}` of the issuer's whole balance).
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
from .token_state import supported_operations, token_live_state

REMOVE_MEMBERSHIP = "then_remove_membership"
"""Request key of a move queued by a member's removal: {"membership_id", "actor_membership_id"}."""


VIA_TRANSFER, VIA_CLAWBACK, VIA_FORCED = "transfer", "clawback", "forced_transfer"


class BalanceNotMovable(ApplicationError):
    code = "BALANCE_NOT_MOVABLE"
    http_status = 409
    default_message = "The issuer's balance of this token cannot be moved to the treasury now."


class TokenInTreasury(ApplicationError):
    code = "TOKEN_IN_TREASURY"
    http_status = 409
    default_message = "The organization's treasury controls this token already."


class NothingHeld(BalanceNotMovable):
    default_message = "The issuer's address holds none of this fixed-supply token: there is nothing to move."


class MoveWithControl(ApplicationError):
    code = "MOVE_WITH_CONTROL"
    http_status = 409
    default_message = ("This token has an owner or asset roles: move it with transfer_ownership / set_roles "
                       "{\"to_treasury\": true}, which takes the issuer's balance along.")


def fixed_supply(token: Token) -> bool:
    """A contract token without an owner-only operation (erc20-preminted, arc200-preminted): the
    platform operates it from the address that holds its supply, so that supply is its control."""
    spec = STANDARDS[token.standard]
    return not spec.is_asset and not spec.mintable and ops.TRANSFER_OWNERSHIP not in spec.operations


def treasury_target(token: Token, kind: str) -> tuple[dict[str, Any], str]:
    """(the request fields that name the treasury as the target of `kind`, the treasury's address).
    A `transfer` to the treasury (a fixed-supply token) is of the issuer's whole balance, read now."""
    if token.issuer_account == ORGANIZATION:
        raise TokenInTreasury(details={"token_id": str(token.pk)})
    address = treasury_address(organization_id=token.organization_id, network=get_available_network(token.network))
    if kind == ops.TRANSFER:
        if not fixed_supply(token):
            raise MoveWithControl(details={"token_id": str(token.pk), "standard": token.standard})
        balance = int(token_live_state(token)["issuer_balance"])
        if not balance:
            raise NothingHeld(details={"token_id": str(token.pk), "address": token.issuer_address, "amount": "0",
                                       "reason": "nothing_held"})
        return {"to": {"address": address}, "amount": str(balance)}, address
    if kind == ops.TRANSFER_OWNERSHIP:
        return {"new_owner": {"address": address}}, address
    held = [role for role in ops.ROLE_NAMES if token.roles.get(role) == token.issuer_address]
    return {role: address for role in held}, address


def treasury_balance_plan(token: Token, live: dict[str, Any], treasury: str) -> dict[str, Any]:
    """The request fields that move the issuer address's whole balance (read now, `live`) to the
    treasury in the move's own operation, before the control change; {} when it holds none. A
    balance the chain would not let move is refused (409 BALANCE_NOT_MOVABLE, with the reason)
    rather than left behind. The request fields (set here, never by the client): `balance_to_treasury`,
    `balance_via`, `treasury_opt_in` + `opt_ins` and `treasury_unfreeze` (an asset),
    `treasury_eligible_first`.

    - EVM `erc20-mintable`: `transfer(treasury, balance)`; refused while paused.
    - EVM `erc20-security` (ERC-3643-style): the issuer is an agent, so `setEligible(treasury,
      true)` first when the treasury is not eligible, then `forcedTransfer(issuer, treasury,
      balance)` (ignores pause and freezes, needs an eligible recipient).
    - ASA: the treasury opts in (signed by the treasury key, topped up by the issuer), then a
      clawback of the issuer's holding when the issuer is the clawback address (frozen holdings
      and default-frozen assets included), else a plain transfer (refused when either holding is
      frozen, or the asset is default-frozen); a frozen treasury holding is unfrozen after it when
      the issuer is the freeze address (the treasury, the new issuer, sends from it).
    - ARC-1400 (app token): `whitelist_set(treasury, true)` first when the treasury is not
      whitelisted, then the controller's forced transfer (ARC-1644, ignores whitelist and halt)."""
    spec, issuer = STANDARDS[token.standard], token.issuer_address
    held = live["holders"]
    balance = int(held[issuer]["balance"])
    if not balance:
        return {}
    # No treasury address in a refusal: a treasury made by this request is rolled back with it.
    details = {"token_id": str(token.pk), "address": issuer, "amount": str(balance)}
    plan: dict[str, Any] = {"balance_to_treasury": str(balance)}
    if spec.is_app:  # ARC-1400: the owner is the controller
        plan["balance_via"] = VIA_FORCED
        if not held[treasury].get("whitelisted", True):
            plan["treasury_eligible_first"] = True
        return plan
    if spec.is_asset:
        clawback = (live["roles"].get("clawback") or "") == issuer
        if not clawback and (held[issuer]["frozen"] or held[treasury].get("frozen")
                             or (live.get("default_frozen") and not held[treasury]["opted_in"])):
            raise BalanceNotMovable("A frozen holding can neither send nor receive, and the issuer is not the "
                                    "asset's clawback address.", details={**details, "reason": "frozen"})
        plan["balance_via"] = VIA_CLAWBACK if clawback else VIA_TRANSFER
        if not held[treasury]["opted_in"]:
            plan |= {"treasury_opt_in": True, "opt_ins": [treasury]}
        frozen_there = held[treasury].get("frozen") or (live.get("default_frozen") and not held[treasury]["opted_in"])
        if frozen_there and (live["roles"].get("freeze") or "") == issuer:
            plan["treasury_unfreeze"] = True  # the new issuer's holding sends, as the creator's did
        return plan
    if spec.holder_registry:
        plan["balance_via"] = VIA_FORCED
        if not held[treasury].get("eligible", False):
            plan["treasury_eligible_first"] = True
        return plan
    if live["paused"]:
        raise BalanceNotMovable("The token is paused, so the issuer's balance cannot be transferred: unpause it "
                                "first.", details={**details, "reason": "paused"})
    return plan | {"balance_via": VIA_TRANSFER}


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
    if fixed_supply(token):
        kind = ops.TRANSFER  # its supply, to the treasury
    else:
        kind = ops.SET_ROLES if STANDARDS[token.standard].is_asset else ops.TRANSFER_OWNERSHIP
    return kind if kind in supported_operations(token) else None


def _controls(token: Token) -> bool:
    """The issuer's key still holds a role (owner; manager, reserve, freeze, clawback) of the token,
    or the token is a fixed-supply one the platform operates from the member's address (its supply;
    whether that address still holds any is the chain's, read when the move is queued)."""
    return not token.destroyed and (fixed_supply(token) or any(
        value == token.issuer_address for value in (token.roles or {}).values()))


def _member_tokens(membership: Membership) -> list[Token]:
    tokens = Token.objects.filter(organization_id=membership.organization_id, issuer_account=MEMBER,
                                  deployment__creator_id=membership.user_id, destroyed=False)
    return [token for token in tokens if _controls(token)]


def member_controlled(membership: Membership) -> list[dict[str, Any]]:
    """DB only (it also runs in a move's completion transaction): `control` is "roles" (an owner or
    asset role; its move takes the issuer's balance along) or "supply" (a fixed-supply token)."""
    return [{"token_id": str(t.pk), "standard": t.standard, "network": t.network, "chain_id": t.chain_id,
             "issuer_address": t.issuer_address, "control": "supply" if fixed_supply(t) else "roles",
             "movable": _move_kind(t) is not None}
            for t in _member_tokens(membership)]


def _switch_to_treasury(token: Token) -> None:
    """A fixed-supply token whose issuer address holds none of it: nothing moves on chain, the
    platform operates it from the treasury from now on (the registry change a move's completion makes).
    The treasury is looked up (made) again here: the refused operation's savepoint rolled back a
    treasury account it made."""
    treasury = treasury_address(organization_id=token.organization_id, network=get_available_network(token.network))
    locked = Token.objects.select_for_update().get(pk=token.pk)
    locked.issuer_account, locked.issuer_address = ORGANIZATION, treasury
    locked.save(update_fields=["issuer_account", "issuer_address", "updated_at"])


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
    moved = []
    for token in tokens:
        try:  # Operations: a move with request_extra is never gated by the approval policy
            moved.append(operation_create(
                user=actor.user, token_id=token.pk, kind=str(kinds[token.pk]),
                payload={"to_treasury": True, "reason": "member removal: moved to the organization treasury"},
                request_extra={REMOVE_MEMBERSHIP: pending}))
        except NothingHeld:
            _switch_to_treasury(token)
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
