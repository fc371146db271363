"""The holder registry on chain: which registry changes the chain must follow, the drift report
(registry against chain) and the resync that fixes it. The chain side is the `allowlist_sync`
operation of the deployments pipeline (`deployments.operation_sync`); an entry shows the last one
that carries it (`sync_operation`).

What the chain holds for an entry: erc20-security `isEligible`, ARC-1400 the whitelist box, a
regulated asset the holding's frozen flag. An `active` entry must be eligible (whitelisted,
unfrozen); a `suspended` or `revoked` one, or a removed one, must not be.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from biatec.audit.chain import audit_record
from biatec.core.errors import ApplicationError
from deployments.operation_sync import EligibilityChange, allowlist_sync_create, token_sync_possible
from deployments.token_models import Operation, Token
from deployments.token_state import token_live_state
from tokens.standards import STANDARDS

from .models import AllowListDriftReport, AllowListEntry

ACTIVE = AllowListEntry.Status.ACTIVE


class SyncNotPossible(ApplicationError):
    code = "ALLOWLIST_SYNC_NOT_POSSIBLE"
    http_status = 409
    default_message = "This token does not enforce its allow list on chain, or the platform no longer holds its key."


def allowlist_sync_queue(*, token: Token, changes: Sequence[tuple[AllowListEntry, bool]], actor: str,
                         reason: str, link: bool = True) -> Operation | None:
    """In the registry writer's transaction: queue the chain change of every (entry, eligible now)
    whose on-chain flag must move and, with `link` (not for removed entries), link the entries to
    it. Off-chain tokens: nothing."""
    if not changes or not token_sync_possible(token):
        return None
    operation = allowlist_sync_create(
        token=token, actor=actor, reason=reason,
        changes=[EligibilityChange(address=entry.address, eligible=eligible, user=entry.user)
                 for entry, eligible in changes])
    if operation is not None and link:
        AllowListEntry.objects.filter(pk__in=[entry.pk for entry, _ in changes]).update(sync_operation=operation)
        for entry, _ in changes:
            entry.sync_operation = operation
    return operation


def _on_chain(spec_asset: bool, spec_app: bool, held: dict[str, Any]) -> dict[str, Any]:
    if spec_asset:
        return {"opted_in": bool(held.get("opted_in")), "frozen": bool(held.get("frozen"))}
    if spec_app:
        return {"whitelisted": bool(held.get("whitelisted"))}
    return {"eligible": bool(held.get("eligible")), "frozen": bool(held.get("frozen"))}


def _allowed_on_chain(spec_asset: bool, spec_app: bool, flags: dict[str, Any]) -> bool:
    if spec_asset:
        return flags["opted_in"] and not flags["frozen"]
    if spec_app:
        return bool(flags["whitelisted"])
    return bool(flags["eligible"])


def allowlist_drift(*, token: Token) -> dict[str, Any]:
    """Compare every entry with the chain (one live read of every entry's holder flags):
    {checked, in_sync, differences: [{entry_id, address, status, expected, on_chain, fix}]}.
    `expected` is whether the chain should let the address hold and transfer; `fix` is `resync`
    when a resync can correct it, `opt_in` when the holder must opt in first (an outside address on
    a regulated asset). Raises CHAIN_UNAVAILABLE when the node does not answer."""
    if not token_sync_possible(token):
        raise SyncNotPossible(details={"token_id": str(token.pk), "standard": token.standard})
    spec = STANDARDS[token.standard]
    entries = list(AllowListEntry.objects.filter(token=token).exclude(address__iexact=token.issuer_address)
                   .order_by("created_at", "id"))
    held = token_live_state(token, holders=[e.address for e in entries])["holders"] if entries else {}
    differences = []
    for entry in entries:
        flags = _on_chain(spec.is_asset, spec.is_app, held[entry.address])
        expected = entry.status == ACTIVE
        if _allowed_on_chain(spec.is_asset, spec.is_app, flags) == expected:
            continue
        if spec.is_asset and not flags["opted_in"] and not expected:
            continue  # holds nothing and, default-frozen, would start frozen: in sync
        fix = "opt_in" if spec.is_asset and not flags["opted_in"] and entry.user_id is None else "resync"
        differences.append({"entry_id": str(entry.pk), "address": entry.address, "status": entry.status,
                            "expected": {"allowed": expected}, "on_chain": flags, "fix": fix})
    return {"token_id": str(token.pk), "checked": len(entries), "in_sync": not differences,
            "differences": differences}


def allowlist_drift_keep(*, token: Token, drift: dict[str, Any] | None = None, error: str = "") -> AllowListDriftReport:
    """Keep a comparison (the first 1,000 differences), or why the chain could not be read."""
    drift = drift or {"checked": 0, "differences": []}
    return AllowListDriftReport.objects.create(
        organization_id=token.organization_id, token=token, checked=drift["checked"],
        difference_count=len(drift["differences"]), differences=drift["differences"][:1000], error=error[:500])


def tokens_to_check() -> list[Any]:
    """Tokens with allow-list entries whose chain enforces them (the beat job's round)."""
    tokens = Token.objects.filter(allowlist_entries__isnull=False, destroyed=False).distinct()
    return [token.pk for token in tokens if token_sync_possible(token)]


def allowlist_drift_check(*, token_id: Any) -> AllowListDriftReport:
    """The beat job's check of one token: the report, or the reason it could not be made."""
    token = Token.objects.get(pk=token_id)
    try:
        return allowlist_drift_keep(token=token, drift=allowlist_drift(token=token))
    except ApplicationError as exc:
        allowlist_drift_keep(token=token, error=f"{exc.code}: {exc.message}")
        raise


@transaction.atomic
def allowlist_resync(*, token: Token, actor: str) -> tuple[dict[str, Any], Operation | None]:
    """Compare, keep the report, and queue one `allowlist_sync` that sets every differing entry as
    its status requires (None when in sync, or when only outside holders' opt-ins are missing)."""
    token = Token.objects.select_for_update().get(pk=token.pk)
    drift = allowlist_drift(token=token)
    allowlist_drift_keep(token=token, drift=drift)
    fixable = {d["entry_id"] for d in drift["differences"] if d["fix"] == "resync"}
    entries = AllowListEntry.objects.filter(pk__in=fixable).select_related("user")
    operation = allowlist_sync_queue(token=token, changes=[(e, e.status == ACTIVE) for e in entries], actor=actor,
                                     reason="resync: the chain differs from the allow list")
    audit_record(action="allowlist.resync", actor=actor, organization_id=token.organization_id,
                 object_type="token", object_id=str(token.pk),
                 payload={"differences": len(drift["differences"]), "queued": len(fixable),
                          "operation_id": str(operation.pk) if operation else None})
    return drift, operation
