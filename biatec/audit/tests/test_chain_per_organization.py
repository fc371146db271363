"""One hash chain per organization (docs/decisions/0108-audit-chain-per-organization.md): entries of
different organizations never wait for each other's lock, each chain numbers and links its own
entries, the entries written before the change stay one verifiable chain, and an entry moved between
chains is caught."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from accounts.models import Organization
from biatec.audit.chain import (
    GENESIS_HASH,
    LEGACY_CHAIN,
    PLATFORM_CHAIN,
    AuditRecord,
    audit_chain_verify,
    audit_record,
    audit_records,
    chain_of,
)
from biatec.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _tamper(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.fixture
def orgs():
    return Organization.objects.create(name="A"), Organization.objects.create(name="B")


def test_each_organization_numbers_and_links_its_own_chain(orgs):
    a, b = orgs
    for i in range(3):
        audit_record(action="test.a", actor="t", organization_id=a.pk, payload={"i": i})
        audit_record(action="test.b", actor="t", organization_id=b.pk, payload={"i": i})
    audit_record(action="test.platform", actor="staff")
    for org in (a, b):
        entries = list(AuditEntry.objects.filter(organization=org).order_by("sequence"))
        assert {e.chain for e in entries} == {str(org.pk)}
        assert [e.sequence for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == GENESIS_HASH
        assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    platform = AuditEntry.objects.get(action="test.platform")
    assert (platform.chain, platform.sequence, platform.prev_hash) == (PLATFORM_CHAIN, 1, GENESIS_HASH)
    report = audit_chain_verify()
    assert report.ok and (report.checked, report.chains) == (7, 3)


def test_one_batch_across_organizations_keeps_each_chain_in_order(orgs):
    a, b = orgs
    audit_record(action="test.first", actor="t", organization_id=a.pk)
    audit_records([AuditRecord(action="test.x", actor="t", organization_id=org.pk, payload={"i": i})
                   for i, org in enumerate([b, a, b, a])])
    assert list(AuditEntry.objects.filter(chain=chain_of(a.pk)).order_by("sequence")
                .values_list("sequence", "payload")) == [(1, {}), (2, {"i": 1}), (3, {"i": 3})]
    assert list(AuditEntry.objects.filter(chain=chain_of(b.pk)).order_by("sequence")
                .values_list("sequence", "payload")) == [(1, {"i": 0}), (2, {"i": 2})]
    assert audit_chain_verify().ok


def test_the_legacy_global_chain_still_verifies_beside_the_new_ones(orgs):
    """Entries written before audit 0002 are one chain across organizations, `global`."""
    a, b = orgs
    for i, org in enumerate([a, b, a]):
        audit_record(action="test.old", actor="t", organization_id=org.pk, payload={"i": i})
    # What the migration leaves: the same rows as one numbered chain called `global`, as they were
    # written by the single-chain writer (same content hashed, prev_hash across organizations).
    from biatec.audit.chain import entry_content, entry_hash_of

    previous = GENESIS_HASH
    for sequence, entry in enumerate(AuditEntry.objects.order_by("id"), start=1):
        content = entry_content(sequence=sequence, occurred_at=entry.occurred_at, organization_id=entry.organization_id,
                                actor=entry.actor, action=entry.action, object_type=entry.object_type,
                                object_id=entry.object_id, correlation_id=entry.correlation_id,
                                payload=entry.payload, prev_hash=previous)
        previous = entry_hash_of(content)
        _tamper("UPDATE compliance_auditentry SET chain = %s, sequence = %s, prev_hash = %s, entry_hash = %s "
                "WHERE id = %s", [LEGACY_CHAIN, sequence, content["prev_hash"], previous, entry.pk])
    audit_record(action="test.new", actor="t", organization_id=a.pk)
    new = AuditEntry.objects.get(action="test.new")
    assert (new.chain, new.sequence, new.prev_hash) == (str(a.pk), 1, GENESIS_HASH)
    report = audit_chain_verify()
    assert report.ok and (report.checked, report.chains) == (4, 2)


def test_an_entry_moved_to_another_organizations_chain_is_caught(orgs):
    a, b = orgs
    audit_record(action="test.a", actor="t", organization_id=a.pk)
    audit_record(action="test.b", actor="t", organization_id=b.pk)
    moved = AuditEntry.objects.get(action="test.b")
    _tamper("UPDATE compliance_auditentry SET chain = %s, sequence = 2 WHERE id = %s", [str(a.pk), moved.pk])
    report = audit_chain_verify()
    assert not report.ok and report.broken_id == moved.pk and report.broken_chain == str(a.pk)
    assert "moved between chains" in report.problem


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_writers_of_different_organizations_do_not_wait_for_each_other(orgs):
    """A writer holding organization A's chain open blocks a second writer of A (it waits on the
    advisory lock, seen in pg_locks) but not a writer of B, which commits meanwhile."""
    a, b = orgs
    holding, release = threading.Event(), threading.Event()
    done: dict[str, bool] = {}

    def hold_a():
        try:
            with transaction.atomic():
                audit_record(action="test.hold", actor="t", organization_id=a.pk)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    def write(name, org):
        try:
            with transaction.atomic():
                audit_record(action=f"test.{name}", actor="t", organization_id=org.pk)
            done[name] = True
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_a)
    holder.start()
    assert holding.wait(30)
    other = threading.Thread(target=write, args=("b", b))
    other.start()
    other.join(30)
    assert done.get("b") is True  # B committed while A's chain was held
    same = threading.Thread(target=write, args=("a2", a))
    same.start()
    for _ in range(300):
        if _lock_waiters() == 1:
            break
        threading.Event().wait(0.05)
    assert _lock_waiters() == 1 and "a2" not in done  # the second writer of A waits for the first
    release.set()
    holder.join(30)
    same.join(30)
    assert done.get("a2") is True
    assert list(AuditEntry.objects.filter(chain=str(a.pk)).order_by("sequence")
                .values_list("action", flat=True)) == ["test.hold", "test.a2"]
    assert audit_chain_verify().ok
