"""Writes of token operations: create (everything knowable checked before anything is queued or
signed), cancel and retry. The worker side is the deployment pipeline (`pipeline.job_advance`).

Order of the checks at `POST`, each refusal creating nothing: the token (another organization's
answers 404), the caller's role in its organization (403), the body (400 VALIDATION_ERROR), the
kind (409 OPERATION_NOT_SUPPORTED with the supported list), recipients named by e-mail (422
RECIPIENT_NOT_FOUND), duplicates in a batch (422 DUPLICATE_RECIPIENT), the compliance gates, then
the chain's live state in one read: paused, cap, balances, opt-ins, frozen holdings, whitelist,
eligibility (an on-chain holder registry: 422 TRANSFER_NOT_ALLOWED).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.signing import evm_account_ensure
from biatec.core.correlation import get_correlation_id
from biatec.core.errors import ApplicationError
from tokens.networks import EVM, get_available_network
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from . import errors
from .approval_models import ApprovalRequest
from .approval_selectors import approval_gate, approval_policy_of
from .approval_services import approval_request_create
from .issuance_gates import operation_gates_check, transfer_refusal_notify
from .jobs import OPERATION
from .metering import job_metered, operation_quota_check
from .models import DeploymentStatus
from .selectors_tokens import token_get
from .services import (
    _record_event,
    actor_of,
    job_enqueue_on_commit,
    job_retry,
    job_transition,
)
from .token_models import Operation, Token
from .token_state import supported_operations, token_live_state
from .treasury_moves import names_treasury, treasury_balance_plan, treasury_target

RECIPIENT_FIELDS = ("to", "from", "address", "new_owner", "lost_address", "new_address")
MOVES_TOKENS = (ops.MINT, ops.BURN, ops.TRANSFER, ops.BATCH_TRANSFER)


class TransferNotAllowed(ApplicationError):
    code = "TRANSFER_NOT_ALLOWED"
    http_status = 422
    default_message = "The token's on-chain rules refuse this transfer."


def _resolver(token: Token) -> Any:
    """A function {"address"} | {"email"} -> (address, user or None) for the token's chain."""
    network = get_available_network(token.network)
    cache: dict[str, tuple[str, User | None]] = {}

    def resolve(named: dict[str, str]) -> tuple[str, User | None]:
        if "address" in named:
            return named["address"], None
        email = named["email"]
        if email not in cache:
            user = User.objects.filter(email__iexact=email, is_active=True).first()
            if user is None:
                raise errors.RecipientNotFound(details={"email": email})
            address = (evm_account_ensure(user=user, chain_id=int(network.chain_id or 0)).address
                       if network.family == EVM else user.algorand_address)
            cache[email] = (address, user)
        return cache[email]

    return resolve


def _resolved_request(token: Token, kind: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, User]]:
    """The request with every recipient as an address, plus {address: user} of those named by e-mail."""
    resolve = _resolver(token)
    request: dict[str, Any] = {k: v for k, v in data.items() if k not in (*RECIPIENT_FIELDS, "transfers")}
    users: dict[str, User] = {}
    named: dict[str, str] = {}
    for field in RECIPIENT_FIELDS:
        if field in data:
            address, user = resolve(data[field])
            request[field] = address
            if user is not None:
                users[address], named[address] = user, data[field]["email"]
    if kind == ops.BATCH_TRANSFER:
        rows = []
        for row in data["transfers"]:
            address, user = resolve(row["to"])
            if user is not None:
                users[address], named[address] = user, row["to"]["email"]
            rows.append({"to": address, "amount": row["amount"]})
        seen: dict[str, int] = {}
        for row in rows:
            seen[row["to"].lower()] = seen.get(row["to"].lower(), 0) + 1
        duplicates = sorted(a for a, n in seen.items() if n > 1)
        if duplicates:
            raise errors.DuplicateRecipient(details={"recipients": duplicates[:50], "count": len(duplicates)})
        request["transfers"] = rows
    if named:
        request["named"] = named
    return request, users


def _recipients(kind: str, request: dict[str, Any]) -> list[str]:
    if kind == ops.BATCH_TRANSFER:
        return [row["to"] for row in request["transfers"]]
    return [request[f] for f in ("to", "address", "new_address") if f in request]


def _moved(kind: str, request: dict[str, Any]) -> int:
    if kind == ops.BATCH_TRANSFER:
        return sum(int(row["amount"]) for row in request["transfers"])
    return int(request.get("amount") or 0)


def _check_state(token: Token, kind: str, request: dict[str, Any], users: dict[str, User], *,
                 limits: dict[str, str]) -> dict[str, Any]:
    """The chain's live state against the request; returns the facts kept on the first history row
    (and the ASA recipients the platform opts in first)."""
    spec = STANDARDS[token.standard]
    recipients = _recipients(kind, request)
    holders = [*recipients, *(request[f] for f in ("from", "lost_address") if f in request)]
    moving = bool(request.get("to_treasury")) and kind in (ops.TRANSFER_OWNERSHIP, ops.SET_ROLES)
    if moving:
        holders.append(request["treasury_address"])
    live = token_live_state(token, holders=holders)
    held = live["holders"]
    stopped_by_pause = (ops.TRANSFER, ops.BATCH_TRANSFER) if spec.pause_holder_transfers_only else MOVES_TOKENS
    if live["paused"] and kind in stopped_by_pause:
        raise errors.TokenPaused(details={"token_id": str(token.pk)})
    amount = _moved(kind, request)
    if kind == ops.MINT and live["cap"] is not None and live["total_supply"] + amount > int(live["cap"]):
        raise errors.CapExceeded(details={"cap": str(live["cap"]), "total_supply": str(live["total_supply"]),
                                          "amount": str(amount)})
    offering = limits.get("max_total_supply")
    if kind == ops.MINT and offering is not None and live["total_supply"] + amount > int(offering):
        raise errors.CapExceeded("Minting this amount would take the supply past what the token's MiCA "
                                 "evaluation assessed.", details={"rule": "mica.offering_total", "limit": offering,
                                                                  "total_supply": str(live["total_supply"]),
                                                                  "amount": str(amount)})
    if kind in (ops.BURN, ops.TRANSFER, ops.BATCH_TRANSFER) and held[token.issuer_address]["balance"] < amount:
        raise errors.InsufficientBalance(details={"address": token.issuer_address, "amount": str(amount),
                                                  "balance": str(held[token.issuer_address]["balance"])})
    if kind == ops.FORCED_TRANSFER and held[request["from"]]["balance"] < amount:
        raise errors.InsufficientBalance(details={"address": request["from"], "amount": str(amount),
                                                  "balance": str(held[request["from"]]["balance"])})
    _check_holding(kind, request, held)
    opt_ins: list[str] = []
    if spec.is_asset:
        receiving = [*recipients, *([request["to"]] if kind == ops.FORCED_TRANSFER else [])]
        missing = [a for a in dict.fromkeys(receiving) if not held[a]["opted_in"]]
        external = [a for a in missing if a not in users]
        if external:
            raise errors.RecipientNotOptedIn(details={"recipients": external[:50], "count": len(external)})
        opt_ins = [a for a in missing if kind in (ops.TRANSFER, ops.BATCH_TRANSFER)]
        if kind in (ops.FREEZE, ops.UNFREEZE, ops.FORCED_TRANSFER) and set(missing) - set(opt_ins):
            raise errors.RecipientNotOptedIn(details={"recipients": sorted(set(missing) - set(opt_ins))})
    frozen = [a for a in dict.fromkeys([token.issuer_address, *recipients]) if held.get(a, {}).get("frozen")
              and kind in (ops.TRANSFER, ops.BATCH_TRANSFER)]
    if frozen:  # a frozen holding (asset) or address (an on-chain holder registry) neither sends nor receives
        raise errors.HolderFrozen(details={"addresses": frozen[:50]})
    if spec.holder_registry and kind in (ops.MINT, ops.TRANSFER, ops.BATCH_TRANSFER, ops.FORCED_TRANSFER):
        _check_eligible(token, kind, recipients, held)
    if spec.whitelist and kind in (ops.MINT, ops.TRANSFER, ops.BATCH_TRANSFER, ops.FORCED_TRANSFER):
        refused = [a for a in dict.fromkeys([*recipients, *([request["to"]] if kind == ops.FORCED_TRANSFER else [])])
                   if not held[a].get("whitelisted", True)]
        if refused:
            raise TransferNotAllowed("The recipient is not on the token's on-chain whitelist.",
                                     details={"rules": ["not_whitelisted"], "recipients": refused[:50]})
    plan = treasury_balance_plan(token, live, request["treasury_address"]) if moving else {}
    return {"opt_ins": opt_ins, "total_supply_before": str(live["total_supply"]), "treasury_plan": plan}


def _check_holding(kind: str, request: dict[str, Any], held: dict[str, Any]) -> None:
    """erc20-security's partial freeze and recovery, against the holder's position on chain (the
    contract would revert with FreezeExceedsBalance, UnfreezeExceedsFrozen, SameWallet,
    NothingToRecover)."""
    if kind in (ops.FREEZE_PARTIAL, ops.UNFREEZE_PARTIAL):
        holding, amount = held[request["address"]], int(request["amount"])
        frozen_tokens = int(holding.get("frozen_tokens", 0))
        if kind == ops.FREEZE_PARTIAL and frozen_tokens + amount > holding["balance"]:
            raise errors.FreezeExceedsBalance(details={"address": request["address"], "amount": str(amount),
                                                       "balance": str(holding["balance"]),
                                                       "frozen_tokens": str(frozen_tokens)})
        if kind == ops.UNFREEZE_PARTIAL and amount > frozen_tokens:
            raise errors.UnfreezeExceedsFrozen(details={"address": request["address"], "amount": str(amount),
                                                        "frozen_tokens": str(frozen_tokens)})
    if kind == ops.RECOVERY:
        lost, new = request["lost_address"], request["new_address"]
        if lost.lower() == new.lower():
            raise errors.NothingToRecover("The new wallet is the lost wallet.", details={"address": lost})
        if held[lost]["balance"] == 0:
            raise errors.NothingToRecover(details={"address": lost})
        if not held[lost].get("eligible", True) and not held[new].get("eligible", True):
            raise TransferNotAllowed("Neither wallet is eligible on the token's on-chain registry.",
                                     details={"rules": ["not_eligible"], "recipients": [new]})


def _check_eligible(token: Token, kind: str, recipients: list[str], held: dict[str, Any]) -> None:
    """An on-chain holder registry (ERC-3643-style): every recipient (of a forced transfer too) must
    be eligible, and so must the issuer when it sends a holder transfer; the chain would revert."""
    not_eligible = [a for a in dict.fromkeys(recipients) if not held[a].get("eligible", True)]
    sender_refused = kind in (ops.TRANSFER, ops.BATCH_TRANSFER) and not held[token.issuer_address].get("eligible", True)
    if not_eligible or sender_refused:
        rules = [*(["not_eligible"] if not_eligible else []), *(["sender_not_eligible"] if sender_refused else [])]
        raise TransferNotAllowed("The token's on-chain eligibility registry refuses this transfer.",
                                 details={"rules": rules, "recipients": not_eligible[:50],
                                          **({"sender": token.issuer_address} if sender_refused else {})})


@dataclass(frozen=True)
class CheckedOperation:
    """A request every check passed: recipients resolved to addresses, and the facts kept on the
    operation's first history row."""

    request: dict[str, Any]
    facts: dict[str, Any]


def operation_check(*, token: Token, kind: str, payload: Any, from_csv: bool = False,
                    request_extra: dict[str, Any] | None = None) -> CheckedOperation:
    """Every check of a request short of the caller's role, in the order of the module docstring:
    the body, the kind, recipients, the compliance gates, then the chain's live state (read now).
    Run at `POST` and again when an approval request is approved (the state may have changed).
    `request_extra`: platform fields kept in the request (a member removal waiting for the move)."""
    spec = STANDARDS[token.standard]
    serializer = ops.operation_serializer(kind, family=token.family, asset=spec.is_asset,
                                          max_batch=ops.MAX_CSV_BATCH if from_csv else ops.MAX_BATCH)(data=payload)
    serializer.is_valid(raise_exception=True)  # malformed input is 400 before any rule of state
    supported = supported_operations(token)
    if kind not in supported:
        raise errors.OperationNotSupported(
            f"{token.standard} token {token.pk} does not support '{kind}'.",
            details={"kind": kind, "standard": token.standard, "supported": supported})
    data = dict(serializer.validated_data)
    to_treasury = bool(data.pop("to_treasury", False))
    if to_treasury:  # transfer_ownership / set_roles to the organization's treasury (docs/treasury.md)
        target, treasury = treasury_target(token, kind)
        data |= target
    request, users = _resolved_request(token, kind, data)
    if not to_treasury and (named := names_treasury(token, kind, request)) is not None:
        to_treasury, treasury = True, named  # the treasury's address given by hand is a move too
    if to_treasury:
        request |= {"to_treasury": True, "treasury_address": treasury}
    request |= request_extra or {}
    gate_facts = operation_gates_check(organization=token.organization, token=token, kind=kind, request=request)
    limits = gate_facts.pop("limits", {})
    try:
        facts = _check_state(token, kind, request, users, limits=limits)
    except TransferNotAllowed as refused:
        transfer_refusal_notify(token=token, kind=kind, details=dict(refused.details or {}))
        raise
    request |= facts["treasury_plan"]  # the issuer's balance moves to the treasury with the control
    if facts["opt_ins"]:
        request["opt_ins"] = facts["opt_ins"]
        request["opt_in_users"] = {a: str(users[a].pk) for a in facts["opt_ins"]}
    moved = {"balance_to_treasury": request["balance_to_treasury"]} if "balance_to_treasury" in request else {}
    return CheckedOperation(request=request, facts={**gate_facts, "total_supply_before": facts["total_supply_before"],
                                                    **moved})


@transaction.atomic
def operation_create(*, user: User, token_id: Any, kind: str, payload: Any, idempotency_key: str | None = None,
                     request_extra: dict[str, Any] | None = None) -> Operation | ApprovalRequest:
    """Validate, then persist as `queued` (with its first history row) and enqueue on commit; or,
    when the organization's approval policy gates the request, persist it as an approval request
    (`pending_approval`) and queue nothing (deployments/approval_decisions.py queues it on approval).
    The caller's role was checked by the API (`RoleRequired`, action `operate:<kind>` of the role matrix).
    `request_extra` (platform fields: a member removal's move of a token to the organization's own
    treasury, docs/treasury.md) is queued without an approval: such a move takes control away from
    a person and gives it to the organization, the direction four-eyes approval protects."""
    token = token_get(user=user, token_id=token_id)  # another organization's token: 404 before anything
    from_csv = isinstance(payload, dict) and bool(payload.pop("_from_csv", False))
    sent = copy.deepcopy(payload)  # as sent: an approval re-validates it
    checked = operation_check(token=token, kind=kind, payload=payload, from_csv=from_csv, request_extra=request_extra)
    policy = approval_policy_of(organization_id=token.organization_id)
    gated_by = None if request_extra else approval_gate(policy=policy, kind=kind, request=checked.request)
    if gated_by is not None:
        return approval_request_create(policy=policy, token=token, kind=kind, payload=sent, from_csv=from_csv,
                                       summary=checked.request, gated_by=gated_by, user=user,
                                       idempotency_key=idempotency_key)
    request = checked.request
    operation_quota_check(organization=token.organization)  # under the organization's row lock until commit
    return operation_queue(token=token, kind=kind, request=request, creator_id=user.pk, actor=actor_of(user),
                           reason=request.get("reason") or "requested", idempotency_key=idempotency_key,
                           facts=checked.facts)


def operation_queue(*, token: Token | None, kind: str, request: dict[str, Any], creator_id: Any, actor: str,
                    reason: str, facts: dict[str, Any], idempotency_key: str | None = None,
                    organization_id: Any = None, network: str | None = None) -> Operation:
    """Persist a checked operation as `queued` with its first history row, and enqueue it on commit
    (the API's kinds through `operation_create`, the platform's own through `operation_sync` and
    `key_rotation`). `organization_id`: whose operation it is when not the token's (a key rotation's
    move of another organization's token, or its token-less native sweep on `network`)."""
    now = timezone.now()
    if token is not None:
        organization_id, network = organization_id or token.organization_id, network or token.network
    operation = Operation.objects.create(
        organization_id=organization_id, creator_id=creator_id,
        token=token, kind=kind, standard=token.standard if token else "",
        network=network or "", request=request, correlation_id=get_correlation_id() or "",
        idempotency_key=idempotency_key, status=DeploymentStatus.QUEUED, status_changed_at=now,
        next_action_at=now + timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS),
    )
    job_metered(operation)
    _record_event(operation, from_status="", reason=reason, actor=actor,
                  facts={"kind": kind, "token_id": str(token.pk) if token else None, **facts})
    job_enqueue_on_commit(OPERATION, operation.pk)
    return operation


def operation_cancel(*, operation: Operation, user: User, reason: str) -> Operation:
    """Only from `queued`; anything later answers INVALID_STATE_TRANSITION."""
    cancelled: Operation = job_transition(job_type=OPERATION, job_id=operation.pk, to=DeploymentStatus.CANCELLED,
                                          reason=reason, actor=actor_of(user))
    return cancelled


def operation_retry(*, operation: Operation, user: User | None) -> Operation:
    """Only from `failed` with a retryable error; only the parts that did not land are signed again."""
    retried: Operation = job_retry(job_type=OPERATION, job=operation, user=user)
    return retried
