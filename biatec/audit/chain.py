"""The tamper-evident audit log: one append-only `AuditEntry` table holding one hash chain per
organization (docs/decisions/0008-hash-chained-audit-log.md, 0108-audit-chain-per-organization.md).
Any app may write with `audit_record` / `audit_records`.

Every entry stores `entry_hash = SHA-256(canonical JSON of its fields + prev_hash)`, `prev_hash` being
the hash of the previous entry of the same chain (`chain`: the organization's id, `platform` for
entries of no organization, `global` for the one chain written before chains were per organization).
Writers of a chain are serialised by a transaction-scoped PostgreSQL advisory lock on that chain taken
in the writer's own transaction, so the head read and the insert are atomic and two writers never chain
onto the same predecessor, while writers of different organizations never wait for each other; the
lock is released at commit or rollback (a rolled-back entry leaves no gap).
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from biatec.core.correlation import get_correlation_id

from .canonical import canonical_json, json_normal
from .models import AuditEntry, AuditPersonalDatum
from .personal import personal_refs as _refs
from .personal import personal_resolved, personal_split

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock(int, int): a namespace of this project and the chain's key (hashtext of `chain`).
AUDIT_LOCK_NAMESPACE = 7302
PLATFORM_CHAIN = "platform"  # entries of no organization (staff actions, platform jobs)
LEGACY_CHAIN = "global"  # every entry written before the chains were per organization (audit 0002)


def chain_of(organization_id: Any) -> str:
    """The chain an entry of `organization_id` joins: the organization's id in canonical form."""
    return str(uuid.UUID(str(organization_id))) if organization_id else PLATFORM_CHAIN


def entry_content(*, sequence: int, occurred_at: Any, organization_id: Any, actor: str, action: str,
                  object_type: str, object_id: str, correlation_id: str, payload: Any, prev_hash: str) -> dict:
    return {
        "sequence": sequence,
        "occurred_at": occurred_at.isoformat(),
        "organization_id": str(organization_id) if organization_id else None,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "correlation_id": correlation_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }


def entry_hash_of(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _stored_content(entry: AuditEntry) -> dict:
    return entry_content(
        sequence=entry.sequence, occurred_at=entry.occurred_at, organization_id=entry.organization_id,
        actor=entry.actor, action=entry.action, object_type=entry.object_type, object_id=entry.object_id,
        correlation_id=entry.correlation_id, payload=entry.payload, prev_hash=entry.prev_hash,
    )


def _lock(chains: Sequence[str]) -> None:
    """Lock each chain, in sorted order (two writers of the same two chains cannot deadlock). SQLite
    (the embedded default) has one writer at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for chain in sorted(chains):
                cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [AUDIT_LOCK_NAMESPACE, chain])


def _heads(chains: Sequence[str]) -> dict[str, tuple[int, str]]:
    """{chain: (sequence, entry_hash) of its last entry}; a chain without entries is absent."""
    heads: dict[str, tuple[int, str]] = {}
    for chain in chains:
        head = AuditEntry.objects.filter(chain=chain).order_by("-sequence").values("sequence", "entry_hash").first()
        if head:
            heads[chain] = (head["sequence"], head["entry_hash"])
    return heads


@dataclass(frozen=True)
class AuditRecord:
    """One entry to append (`audit_records`); the correlation ID defaults to the request's or task's."""

    action: str
    actor: str
    organization_id: Any = None
    object_type: str = ""
    object_id: Any = ""
    payload: dict[str, Any] | None = None
    correlation_id: str | None = None


@transaction.atomic(savepoint=False)  # inside a writer's transaction: no savepoint, its failure is the writer's
def audit_records(records: Sequence[AuditRecord]) -> list[AuditEntry]:
    """Append entries to their organizations' chains in order, under one lock and one read of the head
    per chain and one INSERT (inside the caller's transaction when there is one): a bulk write's
    entries cost what one does."""
    if not records:
        return []
    chains = [chain_of(record.organization_id) for record in records]
    distinct = list(dict.fromkeys(chains))
    _lock(distinct)
    heads = {chain: (0, GENESIS_HASH) for chain in distinct} | _heads(distinct)
    occurred_at = timezone.now()
    current_correlation = get_correlation_id() or ""
    entries, personal = [], []
    for chain, record in zip(chains, records, strict=True):
        sequence, prev_hash = heads[chain]
        sequence += 1
        fields = {
            "chain": chain, "sequence": sequence, "occurred_at": occurred_at, "organization_id": record.organization_id,
            "actor": (record.actor or "")[:128], "action": record.action[:64], "object_type": record.object_type[:64],
            "object_id": str(record.object_id or "")[:64],
            "correlation_id": (record.correlation_id or current_correlation)[:64],
            "payload": None, "prev_hash": prev_hash,
        }
        # Personal values leave the hashed content for a side table that an erasure can empty.
        fields["payload"], rows = personal_split(json_normal(record.payload or {}), subject=_subject(record))
        personal.extend(rows)
        entry_hash = entry_hash_of(entry_content(**{k: v for k, v in fields.items() if k != "chain"}))
        heads[chain] = (sequence, entry_hash)
        entries.append(AuditEntry(**fields, entry_hash=entry_hash))
    created = AuditEntry.objects.bulk_create(entries)
    if personal:
        AuditPersonalDatum.objects.bulk_create(personal)
    return created


def _subject(record: AuditRecord) -> str:
    """Whom an entry's personal values belong to: the user it is about, else its acting user."""
    if record.object_type == "user" and record.object_id:
        return f"user:{record.object_id}"
    return record.actor if (record.actor or "").startswith("user:") else ""


def audit_record(*, action: str, actor: str, organization_id: Any = None, object_type: str = "",
                 object_id: Any = "", payload: dict[str, Any] | None = None,
                 correlation_id: str | None = None) -> AuditEntry:
    """Append one entry to the chain (inside the caller's transaction when there is one)."""
    return audit_records([AuditRecord(action=action, actor=actor, organization_id=organization_id,
                                      object_type=object_type, object_id=object_id, payload=payload,
                                      correlation_id=correlation_id)])[0]


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str  # of the last chain walked
    broken_sequence: int | None = None
    broken_id: int | None = None
    problem: str = ""
    chains: int = 0
    broken_chain: str = ""


def audit_chain_verify(entries: Iterable[AuditEntry] | None = None) -> ChainReport:
    """Walk every chain in sequence order (`entries` ordered by chain, then sequence); report the first
    entry whose hash, link, number or chain is wrong."""
    if entries is None:
        entries = AuditEntry.objects.order_by("chain", "sequence").iterator(chunk_size=2000)
    previous_hash, expected_sequence, checked, chain, chains = GENESIS_HASH, 1, 0, None, 0
    for entry in entries:
        if entry.chain != chain:
            previous_hash, expected_sequence, chain, chains = GENESIS_HASH, 1, entry.chain, chains + 1
        problem = ""
        if entry.chain != LEGACY_CHAIN and entry.chain != chain_of(entry.organization_id):
            problem = "the entry's organization is not its chain's (moved between chains)"
        elif entry.sequence != expected_sequence:
            problem = f"sequence {entry.sequence} follows {expected_sequence - 1} (entries missing)"
        elif entry.prev_hash != previous_hash:
            problem = "prev_hash does not match the previous entry's hash"
        elif entry_hash_of(_stored_content(entry)) != entry.entry_hash:
            problem = "entry_hash does not match the entry's content (altered)"
        if problem:
            return ChainReport(False, checked, previous_hash, entry.sequence, entry.pk, problem, chains, entry.chain)
        previous_hash, expected_sequence, checked = entry.entry_hash, entry.sequence + 1, checked + 1
    return ChainReport(True, checked, previous_hash, chains=chains)


def audit_entry_rows(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """`audit_entry_row` of each entry, their personal references resolved in one query."""
    entries = list(entries)
    personal = personal_resolved([e.payload for e in entries])
    return [audit_entry_row(e, personal=personal) for e in entries]


def audit_entry_row(entry: AuditEntry, *, personal: dict[str, str] | None = None) -> dict[str, Any]:
    """The entry as exported. `payload` is what was hashed; `personal` gives the values of its `pd:`
    references still held (outside the hash: an erasure removes them)."""
    if personal is None:
        personal = personal_resolved([entry.payload])
    return {
        "chain": entry.chain,
        "sequence": entry.sequence,
        "occurred_at": entry.occurred_at.isoformat(),
        "organization_id": str(entry.organization_id) if entry.organization_id else None,
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "correlation_id": entry.correlation_id,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
        "personal": {ref: value for ref, value in personal.items() if ref in _refs(entry.payload)},
    }
