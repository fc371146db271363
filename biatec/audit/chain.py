"""The tamper-evident audit log: one append-only, hash-chained `AuditEntry` table
(docs/decisions/0008-hash-chained-audit-log.md). Any app may write with `audit_record`.

Every entry stores `entry_hash = SHA-256(canonical JSON of its fields + prev_hash)`. Writers are
serialised by a transaction-scoped PostgreSQL advisory lock taken in the writer's own transaction,
so the head read and the insert are atomic and two writers never chain onto the same predecessor;
the lock is released at commit or rollback (a rolled-back entry leaves no gap).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from biatec.core.correlation import get_correlation_id

from .canonical import canonical_json, json_normal
from .models import AuditEntry

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock(int, int): a namespace of this project and the audit-log key.
AUDIT_LOCK = (7302, 1)


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


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(AUDIT_LOCK))


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
    """Append entries to the chain in order, under one lock with one read of the head and one INSERT
    (inside the caller's transaction when there is one): a bulk write's entries cost what one does."""
    if not records:
        return []
    _lock()
    head = AuditEntry.objects.order_by("-sequence").values("sequence", "entry_hash").first()
    sequence = head["sequence"] if head else 0
    prev_hash = head["entry_hash"] if head else GENESIS_HASH
    occurred_at = timezone.now()
    current_correlation = get_correlation_id() or ""
    entries = []
    for record in records:
        sequence += 1
        fields = {
            "sequence": sequence, "occurred_at": occurred_at, "organization_id": record.organization_id,
            "actor": (record.actor or "")[:128], "action": record.action[:64], "object_type": record.object_type[:64],
            "object_id": str(record.object_id or "")[:64],
            "correlation_id": (record.correlation_id or current_correlation)[:64],
            "payload": json_normal(record.payload or {}), "prev_hash": prev_hash,
        }
        prev_hash = entry_hash_of(entry_content(**fields))
        entries.append(AuditEntry(**fields, entry_hash=prev_hash))
    return AuditEntry.objects.bulk_create(entries)


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
    head_hash: str
    broken_sequence: int | None = None
    broken_id: int | None = None
    problem: str = ""


def audit_chain_verify(entries: Iterable[AuditEntry] | None = None) -> ChainReport:
    """Walk the chain in sequence order; report the first entry whose hash, link or number is wrong."""
    if entries is None:
        entries = AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000)
    previous_hash, expected_sequence, checked = GENESIS_HASH, 1, 0
    for entry in entries:
        problem = ""
        if entry.sequence != expected_sequence:
            problem = f"sequence {entry.sequence} follows {expected_sequence - 1} (entries missing)"
        elif entry.prev_hash != previous_hash:
            problem = "prev_hash does not match the previous entry's hash"
        elif entry_hash_of(_stored_content(entry)) != entry.entry_hash:
            problem = "entry_hash does not match the entry's content (altered)"
        if problem:
            return ChainReport(False, checked, previous_hash, entry.sequence, entry.pk, problem)
        previous_hash, expected_sequence, checked = entry.entry_hash, entry.sequence + 1, checked + 1
    return ChainReport(True, checked, previous_hash)


def audit_entry_row(entry: AuditEntry) -> dict[str, Any]:
    return {
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
    }
