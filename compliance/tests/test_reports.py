"""Organization-scoped reports and audit-log exports: other organizations' data never appears."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from biatec.audit.models import AuditEntry
from compliance.services import issuance_policy_set

from .conftest import PROFILE, complete

pytestmark = pytest.mark.django_db


def _activity(party, *, refusals=1, security=False):
    issuance_policy_set(organization=party.organization, actor="staff:test", blocked_issuer_countries=["DE"])
    for _ in range(refusals):
        assert party.create().status_code == 422
    issuance_policy_set(organization=party.organization, actor="staff:test", blocked_issuer_countries=[])
    completed = party.create().json()["id"]
    complete(completed)
    assert party.create(profile={**PROFILE, "white_paper_sha256": "", "white_paper_url": ""}).status_code == 202
    assert party.create(profile=None).status_code == 202
    return completed


def test_report_counts_only_the_callers_organization(alice, bob):
    _activity(alice, refusals=2)
    _activity(bob, refusals=1)
    response = alice.client.get("/api/v1/compliance/report")
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["organization"]["id"] == str(alice.organization.pk)
    assert report["deployments"]["total"] == 3
    assert report["deployments"]["by_status"] == {"completed": 1, "queued": 2}
    assert report["deployments"]["by_network"] == {"evm-local": 3}
    assert report["deployments"]["by_standard"] == {"erc20-mintable": 3}
    assert report["mica"]["by_overall"] == {"compliant": 1, "non_compliant": 1, "not_evaluated": 1}
    assert report["mica"]["failing_rules"] == {"white_paper.hash_recorded": 1, "white_paper.published": 1}
    assert report["violations_refused"] == {"total": 2, "by_rule": {"policy.issuer_country_blocked": 2}}

    other = bob.client.get("/api/v1/compliance/report").json()
    assert other["violations_refused"]["total"] == 1 and other["deployments"]["total"] == 3
    # Asking for another organization answers 404.
    assert alice.client.get(f"/api/v1/compliance/report?organization={bob.organization.pk}").status_code == 404


def test_report_period_and_csv(alice):
    _activity(alice)
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    later = (timezone.now() + timedelta(days=5)).date().isoformat()
    empty = alice.client.get(f"/api/v1/compliance/report?from={tomorrow}&to={later}").json()
    assert empty["deployments"]["total"] == 0 and empty["violations_refused"]["total"] == 0
    today = timezone.now().date().isoformat()
    response = alice.client.get(f"/api/v1/compliance/report?from={today}&to={today}&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "key", "value"]
    assert ["deployments", "total", "3"] in rows
    assert ["violations_refused_by_rule", "policy.issuer_country_blocked", "1"] in rows
    assert ["mica_by_overall", "compliant", "1"] in rows
    assert AuditEntry.objects.filter(action="export.report", organization=alice.organization).count() == 2
    bad = alice.client.get("/api/v1/compliance/report?from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    assert alice.client.get("/api/v1/compliance/report?from=yesterday").status_code == 400


def test_audit_log_is_scoped_filtered_and_exported(alice, bob):
    alice_deployment = _activity(alice)
    bob_deployment = _activity(bob)
    response = alice.client.get("/api/v1/compliance/audit-log")
    assert response.status_code == 200
    page = response.json()
    assert page["results"]
    assert {r["organization_id"] for r in page["results"]} == {str(alice.organization.pk)}
    sequences = [r["sequence"] for r in page["results"]]
    assert sequences == sorted(sequences, reverse=True)
    assert bob_deployment not in {r["object_id"] for r in page["results"]}

    only = alice.client.get(f"/api/v1/compliance/audit-log?action=deployment.*&object_id={alice_deployment}").json()
    assert [r["payload"]["to_status"] for r in only["results"]][::-1] == [
        "queued", "submitted", "pending", "confirmed", "indexed", "completed"]
    refused = alice.client.get("/api/v1/compliance/audit-log?action=compliance.refused").json()
    assert len(refused["results"]) == 1

    export = alice.client.get("/api/v1/compliance/audit-log?format=csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert rows and {r["organization_id"] for r in rows} == {str(alice.organization.pk)}
    assert bob_deployment not in export.content.decode()
    assert str(bob.user.pk) not in export.content.decode()

    as_json = alice.client.get("/api/v1/compliance/audit-log?format=json").json()
    assert {r["organization_id"] for r in as_json["results"]} == {str(alice.organization.pk)}
    assert as_json["count"] == len(as_json["results"])
    assert AuditEntry.objects.filter(action="export.audit_log", organization=alice.organization).count() == 2

    assert alice.client.get(f"/api/v1/compliance/audit-log?organization={bob.organization.pk}").status_code == 404
    assert alice.client.get("/api/v1/compliance/audit-log?format=xml").status_code in (400, 404)


def test_audit_log_time_filter(alice):
    _activity(alice)
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    body = alice.client.get("/api/v1/compliance/audit-log", {"from": future}).json()
    assert body["results"] == []


def test_audit_log_needs_an_owner_or_admin(alice):
    Membership.objects.filter(pk=alice.membership.pk).update(role=Membership.Role.ISSUER)
    response = alice.client.get("/api/v1/compliance/audit-log")
    assert response.status_code == 403 and response.json()["code"] == "PERMISSION_DENIED"


def test_endpoints_require_authentication(api_client):
    for url in ("/api/v1/compliance/audit-log", "/api/v1/compliance/report", "/api/v1/compliance/policy"):
        assert api_client.get(url).status_code == 401
    assert api_client.post("/api/v1/compliance/evaluate", {}, format="json").status_code == 401
