"""Writes of the holder registry (docs/architecture.md, "Holder registry"): allow-list entries (one,
or up to 1,000 at once, all or nothing), the organization's block list and a token's jurisdiction
rules. Every change is history-tracked, audited and published as `AllowListChanged` (the webhook
outbox turns it into `allowlist.added` / `.updated` / `.removed`) in the writer's transaction.

An entry that is (or becomes) `active` must pass the token's rules (422 ALLOWLIST_RULE_VIOLATION naming
every failed rule) and must not be on the block list (422 ADDRESS_BLOCKED, the rule `blocked`).
Activations of one token are serialised by a row lock on the token, so the holder limit holds under
concurrent requests."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Organization, User
from accounts.plans_models import ALLOWLIST_ENTRIES
from accounts.quotas import quota_check
from accounts.signing import evm_account_ensure
from biatec.audit.chain import AuditRecord, audit_record, audit_records
from biatec.core import events
from biatec.core.correlation import get_correlation_id
from biatec.core.errors import ApplicationError, Conflict
from deployments.errors import RecipientNotFound
from deployments.token_models import Token
from tokens.networks import EVM, NETWORKS

from . import holder_rules, holder_selectors, holder_sync
from .holder_selectors import RULE_FIELDS, block_row, entry_row
from .models import AllowListEntry, BlockListEntry, JurisdictionRules

ENTRY_FIELDS = ("status", "kyc_verified", "kyc_provider", "kyc_verified_at", "kyc_expires_at", "investor_category",
                "jurisdiction", "reason")
BLOCK_FIELDS = ("category", "effective_from", "expires_at", "reason")
MAX_BULK_ROWS = 1000


class BulkRefused(ApplicationError):
    """A bulk request refused as a whole: `details.rows` names every refused row and why."""

    code = "ALLOWLIST_RULE_VIOLATION"
    http_status = 422
    default_message = "Rows of the request are refused; nothing was written."


@dataclass
class _Row:
    index: int
    address: str
    user: User | None
    values: dict[str, Any]


Change = tuple[AllowListEntry, str, dict[str, Any]]  # (entry, "added" | "updated" | "removed", event data)


def _publish(token: Token, changes: list[Change], actor: str) -> None:
    """Every change's audit entry (appended together: one lock, one INSERT) and `AllowListChanged`."""
    audit_records([AuditRecord(action=f"allowlist.{change}", actor=actor, organization_id=token.organization_id,
                               object_type="allowlist_entry", object_id=str(entry.pk),
                               payload={"token_id": str(token.pk), **data}) for entry, change, data in changes])
    for entry, change, data in changes:
        events.publish(events.AllowListChanged(
            correlation_id=get_correlation_id() or "", entry_id=str(entry.pk), token_id=str(token.pk),
            organization_id=str(token.organization_id), change=change, actor=actor, standard=token.standard,
            network=token.network, data={"token_id": str(token.pk), **data}))


def member_address(*, token: Token, email: str) -> tuple[str, User]:
    """The address on the token's chain of a registered member of the token's organization named by
    e-mail (as the operations resolve `{"email": ...}`); 422 RECIPIENT_NOT_FOUND otherwise."""
    user = (User.objects.filter(email__iexact=email, is_active=True,
                                memberships__organization_id=token.organization_id).first())
    if user is None:
        raise RecipientNotFound("No registered member of the token's organization has this e-mail address.",
                                details={"email": email})
    if token.family == EVM:
        return evm_account_ensure(user=user, chain_id=int(NETWORKS[token.network].chain_id or 0)).address, user
    return user.algorand_address, user


def _token_locked(token: Token) -> Token:
    return Token.objects.select_for_update().get(pk=token.pk)


def _failures(token: Token, rules: holder_rules.Rules, values: dict[str, Any], *, block: BlockListEntry | None,
              active_elsewhere: int | None) -> list[dict[str, Any]]:
    failures = [holder_rules.block_failure(block)] if block is not None else []
    return failures + holder_rules.entry_failures(rules, values, now=timezone.now(),
                                                  active_elsewhere=active_elsewhere)


def _entry_values(entry: AllowListEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ENTRY_FIELDS}


@transaction.atomic
def allowlist_entry_create(*, token: Token, address: str | None, email: str | None, values: dict[str, Any],
                           actor: str) -> AllowListEntry:
    """Add one entry (`address`, or the `email` of a member of the organization). An entry already
    there for the address answers 409 CONFLICT (update it instead, or use the bulk endpoint)."""
    token = _token_locked(token)
    user = None
    if email:
        address, user = member_address(token=token, email=email)
    if not address:
        raise ValueError("an address or an e-mail")
    if AllowListEntry.objects.filter(token=token, address=address).exists():
        raise Conflict("This address is already on the token's allow list.", details={"address": address})
    return _entries_write(token, [_Row(0, address, user, values)], actor=actor, single=True)[0]


def _entries_write(token: Token, rows: list[_Row], *, actor: str, single: bool,
                   sync: bool = True) -> list[AllowListEntry]:
    """Create or update every row (the token is locked), after checking every row; any refusal writes
    nothing. `single`: the one-entry endpoints' refusals (422 of the rule or ADDRESS_BLOCKED).
    `sync`: queue the chain change (not when the chain already made it, e.g. a recovery)."""
    rules = holder_rules.Rules.of(holder_selectors.jurisdiction_rules_of(token=token))
    existing = holder_selectors.allowlist_entries_at(token=token, addresses=[r.address for r in rows])
    blocks = holder_selectors.blocks_in_force(organization_id=token.organization_id,
                                              addresses=[r.address for r in rows])
    active = holder_selectors.allowlist_active_count(token=token)
    refused: list[dict[str, Any]] = []
    plans: list[tuple[_Row, AllowListEntry | None, dict[str, Any]]] = []
    for row in rows:
        entry = existing.get(row.address.lower())
        merged = {**(_entry_values(entry) if entry else {"status": AllowListEntry.Status.ACTIVE}), **row.values}
        if merged.get("status") == AllowListEntry.Status.ACTIVE:
            was_active = entry is not None and entry.status == AllowListEntry.Status.ACTIVE
            failures = _failures(token, rules, merged, block=blocks.get(row.address.lower()),
                                 active_elsewhere=None if was_active else active)
            if failures:
                if single:
                    raise holder_rules.entry_refusal(failures)
                error = holder_rules.entry_refusal(failures)
                refused.append({"row": row.index, "address": row.address, "code": error.code,
                                "rules": [f["rule"] for f in failures], "failures": failures})
                continue
            if not was_active:
                active += 1
        elif entry is not None and entry.status == AllowListEntry.Status.ACTIVE:
            active -= 1
        plans.append((row, entry, merged))
    if refused:
        codes = {r["code"] for r in refused}
        raise BulkRefused(code=codes.pop() if len(codes) == 1 else None, details={"rows": refused})
    active_before = [entry is not None and entry.status == AllowListEntry.Status.ACTIVE for _, entry, _ in plans]
    new = {row.index: AllowListEntry(organization_id=token.organization_id, token=token, address=row.address,
                                     user=row.user, added_by=actor, **merged)
           for row, entry, merged in plans if entry is None}
    if new:  # the plan's entries per token; the token's row lock (`_token_locked`) serialises the count
        quota_check(token.organization, ALLOWLIST_ENTRIES, adding=len(new), serialised_by_caller=True,
                    used=lambda: AllowListEntry.objects.filter(token=token).count())
    bulk_create_with_history(list(new.values()), AllowListEntry)  # two INSERTs however many rows
    changes: list[Change] = []
    saved = []
    for row, entry, merged in plans:  # the changes in the rows' order
        if entry is None:
            saved.append(new[row.index])
            changes.append((new[row.index], "added", {"entry": entry_row(new[row.index])}))
        else:
            saved.append(_entry_update(row, entry, merged, changes))
    _publish(token, changes, actor)
    now_active = [after.status == AllowListEntry.Status.ACTIVE for after in saved]
    moved = [(after, active) for before, active, after in zip(active_before, now_active, saved, strict=True)
             if before != active]
    if sync:
        holder_sync.allowlist_sync_queue(token=token, changes=moved, actor=actor, reason="allow-list change")
    return saved


def _entry_update(row: _Row, entry: AllowListEntry, merged: dict[str, Any],
                  published: list[Change]) -> AllowListEntry:
    """Save what the row changes (its history row by the save); the change joins `published`."""
    before = _entry_values(entry)
    changes = {name: [_plain(before[name]), _plain(value)] for name, value in merged.items()
               if name in before and before[name] != value}
    if row.user is not None and entry.user_id != row.user.pk:
        changes["user_id"] = [str(entry.user_id) if entry.user_id else None, str(row.user.pk)]
        entry.user = row.user
    if not changes:
        return entry
    for name, value in merged.items():
        setattr(entry, name, value)
    entry.save()
    published.append((entry, "updated", {"entry": entry_row(entry), "changes": changes}))
    return entry


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def allowlist_entry_update(*, entry: AllowListEntry, values: dict[str, Any], actor: str) -> AllowListEntry:
    token = _token_locked(entry.token)
    entry = AllowListEntry.objects.get(pk=entry.pk)
    return _entries_write(token, [_Row(0, entry.address, None, values)], actor=actor, single=True)[0]


@transaction.atomic
def allowlist_recovered(*, token: Token, lost_address: str, new_address: str, actor: str) -> AllowListEntry | None:
    """After an on-chain `recovery` completed: the lost wallet's entry is revoked (the contract already
    made it ineligible, so nothing is queued). The new wallet's entry passed the registry at the
    recovery's POST."""
    token = _token_locked(token)
    entry = holder_selectors.allowlist_entries_at(token=token, addresses=[lost_address]).get(lost_address.lower())
    if entry is None or entry.status == AllowListEntry.Status.REVOKED:
        return entry
    values = {"status": AllowListEntry.Status.REVOKED, "reason": f"Recovered to {new_address}."}
    return _entries_write(token, [_Row(0, entry.address, None, values)], actor=actor, single=True, sync=False)[0]


@transaction.atomic
def allowlist_entry_delete(*, entry: AllowListEntry, actor: str) -> None:
    """Remove the entry (its history keeps every version, the audit log the removal)."""
    token = _token_locked(entry.token)
    row = entry_row(entry)
    was_active = entry.status == AllowListEntry.Status.ACTIVE
    entry.delete()
    entry.pk = row["id"]
    _publish(token, [(entry, "removed", {"entry": row})], actor)
    if was_active:
        holder_sync.allowlist_sync_queue(token=token, changes=[(entry, False)], actor=actor,
                                         reason="allow-list entry removed", link=False)


@transaction.atomic
def allowlist_bulk_upsert(*, token: Token, rows: list[dict[str, Any]], actor: str) -> list[AllowListEntry]:
    """Add or update up to 1,000 entries in one transaction: each row `address` or `email` plus the
    entry fields; an address already on the list is updated with the fields the row gives. Every row
    is checked before anything is written; refusals answer 422 with `details.rows` (row index, code,
    rules), e-mails nobody answers to included (code RECIPIENT_NOT_FOUND)."""
    token = _token_locked(token)
    resolved: list[_Row] = []
    unknown: list[dict[str, Any]] = []
    for index, raw in enumerate(rows):
        values = {k: v for k, v in raw.items() if k in ENTRY_FIELDS}
        if raw.get("email"):
            try:
                address, user = member_address(token=token, email=raw["email"])
            except RecipientNotFound as exc:
                unknown.append({"row": index, "email": raw["email"], "code": exc.code, "message": exc.message})
                continue
            resolved.append(_Row(index, address, user, values))
        else:
            resolved.append(_Row(index, raw["address"], None, values))
    if unknown:
        raise BulkRefused(code=RecipientNotFound.code, details={"rows": unknown})
    seen: dict[str, int] = {}
    duplicates = []
    for row in resolved:
        if row.address.lower() in seen:
            first = seen[row.address.lower()]
            duplicates.append({"row": row.index, "address": row.address, "code": "DUPLICATE_ADDRESS",
                               "same_as": first, "message": f"The same address as row {first}."})
        seen.setdefault(row.address.lower(), row.index)
    if duplicates:
        raise BulkRefused(code="DUPLICATE_ADDRESS", details={"rows": duplicates})
    return _entries_write(token, resolved, actor=actor, single=False)


# ---- Jurisdiction rules -----------------------------------------------------------------------------------
@transaction.atomic
def jurisdiction_rules_set(*, token: Token, values: dict[str, Any], actor: str) -> JurisdictionRules:
    """Replace the token's rules (fields not given take their defaults). They apply to entries added or
    activated from now on and to every transfer pre-check; entries already active are not changed."""
    token = _token_locked(token)
    rules = JurisdictionRules.objects.select_for_update().filter(token=token).first()
    before = {name: getattr(rules, name) for name in RULE_FIELDS} if rules is not None else None
    if rules is None:
        rules = JurisdictionRules(organization_id=token.organization_id, token=token)
    defaults = JurisdictionRules()
    for name in RULE_FIELDS:
        setattr(rules, name, values[name] if name in values else getattr(defaults, name))
    rules.save()
    audit_record(action="jurisdiction_rules.changed", actor=actor, organization_id=token.organization_id,
                 object_type="jurisdiction_rules", object_id=str(rules.pk),
                 payload={"token_id": str(token.pk), "before": before,
                          "after": {name: getattr(rules, name) for name in RULE_FIELDS}})
    return rules


# ---- Block list --------------------------------------------------------------------------------------------
def _block_audit(block: BlockListEntry, change: str, actor: str, payload: dict[str, Any]) -> None:
    audit_record(action=f"blocklist.{change}", actor=actor, organization_id=block.organization_id,
                 object_type="blocklist_entry", object_id=str(block.pk), payload=payload)


@transaction.atomic
def blocklist_entry_create(*, organization: Organization, address: str, values: dict[str, Any],
                           actor: str) -> BlockListEntry:
    """Block an address for every token of the organization (from `effective_from`, default now)."""
    block = BlockListEntry(organization=organization, address=address, added_by=actor,
                           **{"effective_from": timezone.now(), **values})
    block.save()
    _block_audit(block, "added", actor, {"entry": block_row(block)})
    return block


@transaction.atomic
def blocklist_entry_update(*, block: BlockListEntry, values: dict[str, Any], actor: str) -> BlockListEntry:
    block = BlockListEntry.objects.select_for_update().get(pk=block.pk)
    changes = {name: [_plain(getattr(block, name)), _plain(value)] for name, value in values.items()
               if getattr(block, name) != value}
    if changes:
        for name, value in values.items():
            setattr(block, name, value)
        block.save()
        _block_audit(block, "updated", actor, {"entry": block_row(block), "changes": changes})
    return block


@transaction.atomic
def blocklist_entry_delete(*, block: BlockListEntry, actor: str) -> None:
    row = block_row(block)
    block.delete()
    block.pk = row["id"]
    _block_audit(block, "removed", actor, {"entry": row})
