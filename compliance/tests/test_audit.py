"""The hash-chained audit log: fed by security events, transitions, policy changes, decisions and
exports; `verify_audit_chain` passes on an untouched chain and names the first altered entry."""
from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.models import Count

from biatec.audit.chain import GENESIS_HASH, audit_chain_verify, audit_record
from biatec.audit.models import AuditEntry
from compliance.services import issuance_policy_set
from deployments.models import Deployment

from .conftest import complete

pytestmark = pytest.mark.django_db


def _tamper(sql, params):
    """Bypass the append-only trigger as a database superuser could (the chain must still tell)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def _longest_chain():
    return AuditEntry.objects.values("chain").annotate(n=Count("id")).order_by("-n")[0]["chain"]


def _run_of_actions(party):
    login = party.client.post("/api/v1/auth/login", {"email": party.user.email,
                                                     "password": "correct horse battery staple 42!"}, format="json")
    assert login.status_code == 200
    party.client.post("/api/v1/auth/login", {"email": party.user.email, "password": "wrong password 1234567"},
                      format="json")
    issuance_policy_set(organization=party.organization, actor="staff:test", allowed_networks=["base-sepolia"])
    assert party.create().status_code == 422
    issuance_policy_set(organization=party.organization, actor="staff:test", allowed_networks=[])
    created = party.create()
    assert created.status_code == 202
    complete(created.json()["id"])
    assert party.evaluate().status_code == 200
    assert party.client.get("/api/v1/compliance/audit-log?format=csv").status_code == 200
    return Deployment.objects.get(pk=created.json()["id"])


def test_actions_feed_the_chain_and_it_verifies(alice, capsys):
    deployment = _run_of_actions(alice)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"security.signup", "security.login_success", "security.login_failure", "policy.changed",
            "compliance.refused", "deployment.transition", "compliance.preflight",
            "export.audit_log"} <= actions
    transitions = AuditEntry.objects.filter(action="deployment.transition", object_id=str(deployment.pk))
    assert [e.payload["to_status"] for e in transitions] == ["queued", "submitted", "pending", "confirmed",
                                                              "indexed", "completed"]
    chains = set(AuditEntry.objects.values_list("chain", flat=True))
    assert str(alice.organization.pk) in chains  # the organization's own chain
    for chain in chains:
        entries = list(AuditEntry.objects.filter(chain=chain).order_by("sequence"))
        assert entries[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
        assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))

    call_command("verify_audit_chain")
    assert (f"Audit chain intact: {AuditEntry.objects.count()} entries in {len(chains)} chain"
            in capsys.readouterr().out)


def test_altered_payload_is_reported_at_that_entry(alice):
    _run_of_actions(alice)
    victim = AuditEntry.objects.filter(action="policy.changed").order_by("sequence").first()
    _tamper("UPDATE compliance_auditentry SET payload = %s::jsonb WHERE id = %s",
            ['{"before": null, "after": {"allowed_networks": []}}', victim.pk])
    report = audit_chain_verify()
    assert not report.ok
    assert report.broken_sequence == victim.sequence and report.broken_id == victim.pk
    assert "altered" in report.problem
    with pytest.raises(CommandError, match=f"broken at sequence {victim.sequence} \\(entry id {victim.pk}, chain "):
        call_command("verify_audit_chain")


def test_rehashed_entry_breaks_the_next_link(alice):
    _run_of_actions(alice)
    entries = list(AuditEntry.objects.filter(chain=_longest_chain()).order_by("sequence")[:5])
    victim, following = entries[2], entries[3]
    _tamper("UPDATE compliance_auditentry SET actor = 'someone-else', entry_hash = %s WHERE id = %s",
            ["f" * 64, victim.pk])
    report = audit_chain_verify()
    assert report.broken_sequence == victim.sequence  # its hash no longer matches its content
    # Even a forger who recomputes the victim's hash is caught at the next link.
    from biatec.audit.chain import _stored_content, entry_hash_of

    victim.refresh_from_db()
    _tamper("UPDATE compliance_auditentry SET entry_hash = %s WHERE id = %s",
            [entry_hash_of(_stored_content(victim)), victim.pk])
    report = audit_chain_verify()
    assert report.broken_sequence == following.sequence
    assert "prev_hash" in report.problem


def test_deleted_entry_is_reported(alice):
    _run_of_actions(alice)
    victim = AuditEntry.objects.filter(chain=_longest_chain()).order_by("sequence")[3]
    _tamper("DELETE FROM compliance_auditentry WHERE id = %s", [victim.pk])
    report = audit_chain_verify()
    assert report.broken_sequence == victim.sequence + 1
    assert "missing" in report.problem


def test_entries_are_append_only(alice):
    entry = AuditEntry.objects.first()
    entry.actor = "x"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    from django.db import DatabaseError

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_float_and_odd_payloads_hash_stably():
    audit_record(action="test.odd", actor="t", payload={"f": 1e20, "g": 0.1, "s": "a\x00b", "n": 2**70,
                                                        "nested": [{"b": 1, "a": "é"}]})
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    errors = []

    def writer(n):
        try:
            for i in range(10):
                with transaction.atomic():
                    audit_record(action="test.concurrent", actor=f"writer-{n}", payload={"i": i})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEntry.objects.filter(action="test.concurrent").count() == 50
    report = audit_chain_verify()
    assert report.ok, report
    assert report.checked == AuditEntry.objects.count()
