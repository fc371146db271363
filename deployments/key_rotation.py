"""Moving what a password change's retired accounts hold and control to the new ones
(docs/decisions/0107-key-rotation-on-password-change.md; the keys side is accounts/key_rotation.py).

For every live token the user deployed whose issuer is a retired address, in order, each a token
operation of the one pipeline signed by the retired key (`operation_signers`: an operation signs with
the key of the token's `issuer_address`): `transfer` of the old address's whole balance to the new
address (an asset's opt-in of the new account in the same operation), then the roles (`set_roles`:
every ASA role the old address holds; `transfer_ownership`: an Ownable contract or ARC-1400 app), then
`issuer_switch` (no chain job: the token's `issuer_address` becomes the new address, so later
operations sign with the new key). Each request is built from the chain's live state when the move
is queued. A move that cannot be made (network unavailable, a role the old address cannot change) is
`left` in `KeyRotation.left_behind` with its reason, and the old key of that address is kept.

Then, for every retired address, the balance of every registry token of another issuer it holds
(read from chain when planned: `holder_transfer`, a `transfer` operation signed by the retired key
of its `holder`, the new account's opt-in in the same operation), and last the native coin
(`native_sweep`, a token-less operation signed by the retired key: everything but what the protocol
keeps). When every move is done the retired sealed secrets are destroyed (`key_rotation_complete`). The
rotation advances when it starts (`KeyRotationStarted`, after the password change's commit), after
each of its operations completes (`key_rotation_operation_completed`, called by the pipeline's
completion hook) and from the beat sweep (`key_rotations_sweep`), which catches lost messages.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.key_rotation import key_rotation_complete
from accounts.models import KeyRotation, Membership, RetiredKey, User
from accounts.signing import evm_account_ensure
from biatec.core import events
from biatec.core.errors import ApplicationError, ChainUnavailable
from tokens.chains import algorand_operations, algorand_reads, evm_reads
from tokens.chains.evm_operations import NATIVE_TRANSFER_GAS, native_sweep_price
from tokens.networks import EVM, Network, all_networks, get_available_network
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .job_keys import HOLDER
from .models import ACTIVE_STATUSES, Deployment, DeploymentStatus
from .operation_services import operation_queue
from .services import SYSTEM_ACTOR
from .token_models import Operation, Token
from .token_registry import ASA_ROLES
from .token_state import token_live_state

logger = logging.getLogger(__name__)

MOVE_FIELD = "key_rotation"
"""The request field naming the rotation an operation moves for."""
ISSUER_SWITCH = "issuer_switch"
HOLDER_TRANSFER = "holder_transfer"
"""A move of another issuer's token out of a retired address (a `transfer` signed by its holder)."""
ADVANCE_TASK = "deployments.tasks.key_rotation_advance_task"
WAIT_SECONDS = 10.0
"""How long planning waits while jobs signed by the old keys are still running."""
DONE = ("completed", "skipped", "left")


class MoveRefused(ApplicationError):
    code = "KEY_ROTATION_MOVE_REFUSED"
    http_status = 409
    default_message = "The chain would refuse this move."


def key_rotation_on_started(event: events.KeyRotationStarted) -> None:
    """`KeyRotationStarted` subscriber (after the password change's commit)."""
    key_rotation_advance_later(event.rotation_id)


def key_rotation_advance_later(rotation_id: str, countdown: float | None = None) -> None:
    """Queue `key_rotation_advance`. Never raises (an on-commit callback): a lost message is the
    sweep's."""
    try:
        current_app.tasks[ADVANCE_TASK].apply_async(args=[rotation_id], countdown=countdown)
    except Exception as exc:
        logger.warning("key rotation advance not queued; the sweep will advance it",
                       extra={"rotation_id": rotation_id, "error": type(exc).__name__})


def key_rotation_operation_completed(operation: Operation) -> None:
    """The pipeline's completion hook for an operation (its transaction): advance its rotation after
    the commit."""
    rotation_id = (operation.request or {}).get(MOVE_FIELD)
    if rotation_id:
        transaction.on_commit(lambda: key_rotation_advance_later(str(rotation_id)))


def _old_keys_busy(user_id: Any) -> bool:
    """A deployment or operation that signs (or signed) with the user's key is still running."""
    return (Deployment.objects.filter(creator_id=user_id, status__in=ACTIVE_STATUSES).exists()
            or Operation.objects.filter(token__deployment__creator_id=user_id, status__in=ACTIVE_STATUSES)
            .exclude(request__has_key=MOVE_FIELD).exists())


def _plan(rotation: KeyRotation) -> list[dict[str, Any]]:
    # Every retired key of the user still sealed: an earlier rotation may have kept one (a token it
    # could not move), and its token moves to the newest account now.
    old = {a.lower() for a in RetiredKey.objects.filter(rotation__user_id=rotation.user_id, secret__isnull=False)
           .values_list("address", flat=True)}
    moves: list[dict[str, Any]] = []
    tokens = Token.objects.filter(deployment__creator_id=rotation.user_id, destroyed=False).order_by("created_at")
    for token in tokens:
        if token.issuer_address.lower() not in old:
            continue
        spec = STANDARDS[token.standard]
        kinds = [ops.TRANSFER] if ops.TRANSFER in spec.operations else []
        if spec.is_asset and ops.SET_ROLES in spec.operations:
            kinds.append(ops.SET_ROLES)
        elif ops.TRANSFER_OWNERSHIP in spec.operations:
            kinds.append(ops.TRANSFER_OWNERSHIP)
        moves += [{"token_id": str(token.pk), "kind": kind, "status": "planned", "from": token.issuer_address}
                  for kind in (*kinds, ISSUER_SWITCH)]
    keys = list(RetiredKey.objects.filter(rotation__user_id=rotation.user_id, secret__isnull=False)
                .order_by("created_at"))
    for key in keys:
        for network in _networks_of(key):
            moves += [{"token_id": str(token.pk), "kind": HOLDER_TRANSFER, "status": "planned", "from": key.address}
                      for token in _held_tokens(network, key.address)]
    # The native coin last, once nothing else needs the old accounts' fees.
    moves += [{"token_id": None, "kind": ops.NATIVE_SWEEP, "status": "planned", "from": key.address,
               "network": network.slug} for key in keys for network in _networks_of(key)]
    return moves


def _networks_of(key: RetiredKey) -> list[Network]:
    """The available networks a retired key signs on (every Algorand one; the EVM key's chain)."""
    if key.family == "algorand":
        return [n for n in _networks() if n.family != EVM]
    return [n for n in _networks() if n.family == EVM and int(n.chain_id or 0) == key.chain_id]


def _held_tokens(network: Network, address: str) -> list[Token]:
    """Registry tokens of another issuer on `network` of which `address` holds a balance, read from
    chain now: an asset from the account's holdings (one read), an app or contract token from its
    balance (one read each). A node that does not answer raises ChainUnavailable (planning waits)."""
    tokens = Token.objects.filter(network=network.slug, destroyed=False).exclude(
        issuer_address__iexact=address).order_by("created_at")
    held: list[Token] = []
    if network.family != EVM:
        holdings = {int(h["asset-id"]): int(h.get("amount") or 0)
                    for h in algorand_reads.account_assets(network=network, address=address)}
        assets = [t for t in tokens.filter(asset_id__in=[a for a, amount in holdings.items() if amount])]
        held += assets
        tokens = tokens.filter(asset_id__isnull=True)
    for token in tokens:
        if STANDARDS[token.standard].is_asset:
            continue
        if token_live_state(token, holders=[address])["holders"][address]["balance"]:
            held.append(token)
    return sorted(held, key=lambda t: t.created_at)


def _new_address(user: User, network: Network) -> str:
    if network.family == EVM:
        return evm_account_ensure(user=user, chain_id=int(network.chain_id or 0)).address
    return user.algorand_address


def _move_request(token: Token, kind: str, new: str, user: User) -> dict[str, Any] | None:
    """The request of one move from the chain's live state now; None when there is nothing to move."""
    old = token.issuer_address
    live = token_live_state(token, holders=[new])
    if kind == ops.TRANSFER:
        holding, receiving = live["holders"][old], live["holders"][new]
        return _balance_request(token, holding, receiving, new, user) if holding["balance"] else None
    roles = live["roles"]
    if kind == ops.SET_ROLES:
        held = {role: new for role in ASA_ROLES if (roles.get(role) or "") == old}
        if held and roles.get("manager") != old:
            raise MoveRefused("The old account holds asset roles but not the manager role that changes them.",
                                   details={"roles": sorted(held)})
        return held or None
    if kind == ops.TRANSFER_OWNERSHIP:
        return {"new_owner": new} if (roles.get("owner") or "").lower() == old.lower() else None
    raise ValueError(f"unknown move {kind!r}")


def _holder_request(token: Token, old: str, new: str, user: User) -> dict[str, Any] | None:
    """The request of a holder's move of another issuer's token (its whole balance, read now)."""
    live = token_live_state(token, holders=[old, new])
    holding, receiving = live["holders"][old], live["holders"][new]
    if not holding["balance"]:
        return None
    if live["paused"]:
        raise MoveRefused("The token is paused: its holders cannot transfer.", details={"rules": ["paused"]})
    if holding.get("eligible") is False or holding.get("whitelisted") is False:
        raise MoveRefused("The token's on-chain registry does not let the old address send it.",
                          details={"rules": ["sender_not_eligible"], "address": old})
    return _balance_request(token, holding, receiving, new, user) | {HOLDER: old}


def _balance_request(token: Token, holding: dict[str, Any], receiving: dict[str, Any], new: str,
                     user: User) -> dict[str, Any]:
    """The `transfer` of the whole `holding` to `new` (opting it in to an asset), refused when the
    chain would not let `new` receive it or either side is frozen."""
    if receiving.get("eligible") is False or receiving.get("whitelisted") is False:
        raise MoveRefused("The token's on-chain registry does not let the new address hold it.",
                          details={"rules": ["not_eligible"], "address": new})
    is_asset = STANDARDS[token.standard].is_asset
    if holding["frozen"] or receiving["frozen"] or (is_asset and token.default_frozen and not receiving["opted_in"]):
        raise MoveRefused("A frozen holding can neither send nor receive.", details={"rules": ["frozen"]})
    request: dict[str, Any] = {"to": new, "amount": int(holding["balance"])}
    if is_asset and not receiving["opted_in"]:
        request |= {"opt_ins": [new], "opt_in_users": {new: str(user.pk)}}
    return request


def _sweepable(network: Network, old: str, new: str) -> bool:
    """Whether the retired account holds native coin a sweep would move (read now). An Algorand
    account still holding an asset no move took is not swept: its key is kept (`_assets_left`) and
    its ALGO pays for moving that asset by hand."""
    if network.family == EVM:
        return evm_reads.get_balance(network=network, address=old) > NATIVE_TRANSFER_GAS * native_sweep_price(
            network=network)
    if any(int(h.get("amount") or 0) for h in algorand_reads.account_assets(network=network, address=old)):
        return False
    plan = algorand_operations.native_sweep_plan(network=network, sender=old, to=new)
    return bool(plan["amount"] or plan["close_outs"] or (plan["close"] and plan["balance"]))


def _organization_of(user: User) -> Any:
    """The organization a rotation's own moves (not of a token of the user's) are recorded under."""
    return (Membership.objects.filter(user=user).order_by("created_at").values_list("organization_id", flat=True)
            .first())


def _start(rotation: KeyRotation, move: dict[str, Any], user: User) -> str:
    """Start one move: "queued" (an operation now runs), "completed" (done here) or "skipped"."""
    facts = {"key_rotation": str(rotation.pk), "from": move["from"]}
    if move["kind"] == ops.NATIVE_SWEEP:
        network = get_available_network(move["network"])
        new = _new_address(user, network)
        organization_id = _organization_of(user)
        if organization_id is None or not _sweepable(network, move["from"], new):
            return "skipped"
        operation = operation_queue(
            token=None, kind=ops.NATIVE_SWEEP, network=network.slug, organization_id=organization_id,
            request={"to": new, HOLDER: move["from"], MOVE_FIELD: str(rotation.pk)}, creator_id=user.pk,
            actor=SYSTEM_ACTOR, reason="key rotation after a password change: native coin", facts={**facts, "to": new})
        move["operation_id"] = str(operation.pk)
        return "queued"
    token = Token.objects.select_for_update().get(pk=move["token_id"])
    if move["kind"] == HOLDER_TRANSFER:
        network = get_available_network(token.network)
        new = _new_address(user, network)
        request = _holder_request(token, move["from"], new, user)
        if request is None:
            return "skipped"
        operation = operation_queue(
            token=token, kind=ops.TRANSFER, request={**request, MOVE_FIELD: str(rotation.pk)}, creator_id=user.pk,
            organization_id=_organization_of(user) or token.organization_id, actor=SYSTEM_ACTOR,
            reason="key rotation after a password change: a holding of another issuer's token",
            facts={**facts, "to": new})
        move["operation_id"] = str(operation.pk)
        return "queued"
    network = get_available_network(token.network)
    new = _new_address(user, network)
    if move["kind"] == ISSUER_SWITCH:
        token.issuer_address = new
        token.save(update_fields=["issuer_address", "updated_at"])
        return "completed"
    request = _move_request(token, move["kind"], new, user)
    if request is None:
        return "skipped"
    operation = operation_queue(
        token=token, kind=move["kind"], request={**request, MOVE_FIELD: str(rotation.pk)}, creator_id=user.pk,
        actor=SYSTEM_ACTOR, reason="key rotation after a password change",
        facts={"key_rotation": str(rotation.pk), "from": token.issuer_address, "to": new})
    move["operation_id"] = str(operation.pk)
    return "queued"


def _native_left(rotation: KeyRotation) -> list[dict[str, Any]]:
    """The native coin still on the retired accounts after the sweeps (docs/decisions/0107): an
    Algorand account that cannot close keeps exactly its minimum balance; a kept key keeps its coin."""
    swept = {(m["from"].lower(), m["network"]) for m in rotation.moves
             if m["kind"] == ops.NATIVE_SWEEP and m["status"] == "completed"}
    left = []
    for key in rotation.retired_keys.filter(secret__isnull=False):
        for network in _networks_of(key):
            try:
                balance = (evm_reads.get_balance(network=network, address=key.address) if network.family == EVM
                           else algorand_reads.get_balance(network=network, address=key.address))
            except ApplicationError:
                continue
            if balance:
                reason = ("the protocol's minimum balance (the account cannot close)"
                          if (key.address.lower(), network.slug) in swept else "not swept")
                left.append({"address": key.address, "network": network.slug, "native_balance": str(balance),
                             "blocking": False, "reason": reason})
    return left


def _assets_left(rotation: KeyRotation) -> list[dict[str, Any]]:
    """Asset holdings still on the retired Algorand accounts (another issuer's token the old address
    received: no move covers it). Blocking: that old key is kept rather than the holding lost."""
    left = []
    for key in rotation.retired_keys.filter(secret__isnull=False, family="algorand"):
        for network in (n for n in _networks() if n.family != EVM):
            try:
                holdings = algorand_reads.account_assets(network=network, address=key.address)
            except ApplicationError:
                continue
            held = [h for h in holdings if int(h.get("amount") or 0) > 0]
            if held:
                left.append({"address": key.address, "network": network.slug, "blocking": True,
                             "reason": "holds assets no move took",
                             "assets": [{"asset_id": h["asset-id"], "amount": str(h["amount"])} for h in held[:50]]})
    return left


def _networks() -> list[Network]:
    return [n for n in all_networks() if n.available]


@transaction.atomic
def key_rotation_advance(rotation_id: Any) -> float | None:
    """Take the rotation as far as it goes now: plan it, queue its next move, or complete it.
    Returns seconds until it should be tried again (planning waits for running jobs), else None."""
    rotation = KeyRotation.objects.select_for_update().select_related("user").filter(pk=rotation_id).first()
    if rotation is None or rotation.status == KeyRotation.Status.COMPLETED:
        return None
    user = rotation.user
    if rotation.status == KeyRotation.Status.PLANNING:
        if _old_keys_busy(user.pk):
            return WAIT_SECONDS
        try:
            rotation.moves = _plan(rotation)
        except ChainUnavailable:
            return WAIT_SECONDS  # the holdings could not be read: plan again later
        rotation.status = KeyRotation.Status.MOVING
    left: list[dict[str, Any]] = list(rotation.left_behind)
    # A move left behind leaves the later moves of its token from that address too (the roles, the
    # issuer switch); an address whose key is kept keeps its native coin (it pays the fees of moving
    # by hand what is left).
    blocked = {(entry["token_id"], entry["address"].lower()) for entry in left if entry.get("token_id")}
    try:
        for move in rotation.moves:
            if move["status"] in DONE:
                continue
            if (move["token_id"], move["from"].lower()) in blocked:
                move["status"] = "left"
                continue
            if move["kind"] == ops.NATIVE_SWEEP and move["from"].lower() in {
                    entry["address"].lower() for entry in left if entry.get("blocking")}:
                move["status"] = "skipped"
                continue
            if move.get("operation_id"):
                status = Operation.objects.filter(pk=move["operation_id"]).values_list("status", flat=True).first()
                if status == DeploymentStatus.COMPLETED:
                    move["status"] = "completed"
                    continue
                if status in ACTIVE_STATUSES:
                    move["status"] = status
                    return None  # running: its completion advances the rotation
                # Failed (or cancelled): a person has to act; that address's key is kept and the rotation
                # completes, so a later password change is not refused for it (its rotation plans it again).
                move["status"] = "left"
                blocked.add((move["token_id"], move["from"].lower()))
                left.append({"token_id": move["token_id"], "kind": move["kind"], "address": move["from"],
                             "blocking": True, "reason": f"operation {status}", "operation_id": move["operation_id"]})
                continue
            try:
                with transaction.atomic():
                    move["status"] = _start(rotation, move, user)
            except ChainUnavailable:
                return WAIT_SECONDS  # the node did not answer the live read: try again later
            except ApplicationError as exc:
                move["status"] = "left"
                blocked.add((move["token_id"], move["from"].lower()))
                left.append({"token_id": move["token_id"], "kind": move["kind"], "address": move["from"],
                             "blocking": True, "reason": exc.code, "message": exc.message,
                             **({"network": move["network"]} if move.get("network") else {})})
            if move["status"] == "queued":
                return None
    finally:
        rotation.left_behind = left
        rotation.save(update_fields=["moves", "status", "left_behind", "updated_at"])
    left += _assets_left(rotation)
    keep = frozenset(entry["address"].lower() for entry in left if entry.get("blocking"))
    key_rotation_complete(rotation_id=rotation.pk, keep_addresses=keep, left_behind=[*left, *_native_left(rotation)])
    return None


def key_rotations_sweep() -> list[str]:
    """Advance every unfinished rotation not touched for a while (lost messages, planning waits)."""
    stale = timezone.now() - timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS)
    ids = [str(pk) for pk in KeyRotation.objects.filter(status__in=KeyRotation.ACTIVE, updated_at__lt=stale)
           .values_list("pk", flat=True)[:100]]
    for rotation_id in ids:
        try:
            key_rotation_advance(rotation_id)
        except Exception as exc:  # one rotation failing does not stop the others; the next sweep retries
            logger.warning("key rotation advance failed in the sweep",
                           extra={"rotation_id": rotation_id, "error": type(exc).__name__})
    return ids

