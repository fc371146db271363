"""Personal values out of the hashed audit content (docs/gdpr.md, ADR 0112): e-mails, IPs and user
agents become random `pd:` references before hashing, their values a side table that an erasure
empties; the chain verifies before and after, and entries of the old form (values in the payload)
still verify."""
from __future__ import annotations

import pytest

from accounts.models import Organization
from biatec.audit.chain import audit_chain_verify, audit_entry_rows, audit_record, entry_content, entry_hash_of
from biatec.audit.models import AuditEntry, AuditPersonalDatum
from biatec.audit.personal import is_ref, personal_data_erase, personal_split

pytestmark = pytest.mark.django_db


def test_personal_values_leave_the_hashed_payload_and_an_erasure_keeps_the_chain_verifiable():
    org = Organization.objects.create(name="P")
    entry = audit_record(action="security.login_failure", actor="user:1", organization_id=org.pk,
                         object_type="user", object_id="1",
                         payload={"email": "Pat@Example.com", "ip_address": "203.0.113.9", "user_agent": "UA/1",
                                  "details": {"note": "named pat@example.com", "invitee": "bob@example.org"},
                                  "count": 3})
    stored = AuditEntry.objects.get(pk=entry.pk).payload
    assert is_ref(stored["email"]) and is_ref(stored["ip_address"]) and is_ref(stored["user_agent"])
    assert is_ref(stored["details"]["invitee"]) and stored["count"] == 3
    assert stored["details"]["note"] == "named pat@example.com"  # free text is not parsed (documented)
    row = audit_entry_rows([AuditEntry.objects.get(pk=entry.pk)])[0]
    assert row["personal"][stored["email"]] == "Pat@Example.com"
    assert audit_chain_verify().ok

    assert personal_data_erase(subject="user:1", values=["pat@example.com"]) == 4  # subject's, and by e-mail
    assert not AuditPersonalDatum.objects.filter(value__icontains="pat@").exists()
    assert audit_entry_rows([AuditEntry.objects.get(pk=entry.pk)])[0]["personal"] == {}
    assert audit_chain_verify().ok


def test_a_second_person_named_in_the_entry_is_erased_by_their_e_mail():
    audit_record(action="invitation.created", actor="user:2", payload={"email": "invitee@example.com"})
    assert personal_data_erase(subject="user:3", values=["INVITEE@example.com"]) == 1
    assert audit_chain_verify().ok


def test_references_are_random_and_entries_of_the_old_form_still_verify():
    first, _ = personal_split({"email": "same@example.com"})
    second, _ = personal_split({"email": "same@example.com"})
    assert first["email"] != second["email"]  # references link nothing once the values are gone
    entry = audit_record(action="x", actor="system")
    content = entry_content(sequence=entry.sequence, occurred_at=entry.occurred_at, organization_id=None,
                            actor="system", action="x", object_type="", object_id="",
                            correlation_id=entry.correlation_id, payload={}, prev_hash=entry.prev_hash)
    assert entry_hash_of(content) == entry.entry_hash  # what is hashed did not change
