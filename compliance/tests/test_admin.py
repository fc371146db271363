"""Compliance staff in the admin: read everything compliance needs, change nothing on deployments."""
from __future__ import annotations

import io
import zipfile

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from biatec.audit.models import AuditEntry
from compliance.models import DeploymentComplianceRecord, IssuancePolicy
from compliance.services import compliance_group_ensure, evidence_bundle_build
from deployments.models import Deployment
from tests.otp import otp_force_login

from .conftest import complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def compliance_staff():
    user = User.objects.create_user("officer@example.com", "an officer's long password 1", is_staff=True)
    user.groups.add(Group.objects.get(name="compliance"))
    client = Client()
    otp_force_login(client, user)
    return user, client


@pytest.fixture
def deployment(alice):
    response = alice.create()
    complete(response.json()["id"])
    return Deployment.objects.get(pk=response.json()["id"])


def test_the_migration_created_the_group_with_view_permissions_only():
    group = Group.objects.get(name="compliance")
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert ("deployments", "view_deployment") in codenames
    assert ("audit", "view_auditentry") in codenames
    assert ("compliance", "view_deploymentcompliancerecord") in codenames
    # View only, but for the approver queue's actions on approval requests (whose admin edits no field).
    assert {c for c in codenames if not c[1].startswith("view_")} == {("deployments", "change_approvalrequest")}
    # The service agrees with the migration (and repairs the group if it was edited).
    assert set(compliance_group_ensure().permissions.values_list("content_type__app_label", "codename")) == codenames


def test_compliance_staff_can_view_but_not_change_deployments(compliance_staff):
    user, _ = compliance_staff
    assert user.has_perm("deployments.view_deployment")
    assert user.has_perm("deployments.view_deploymentevent")
    for action in ("add", "change", "delete"):
        assert not user.has_perm(f"deployments.{action}_deployment")
        assert not user.has_perm(f"deployments.{action}_deploymentevent")
        assert not user.has_perm(f"compliance.{action}_issuancepolicy")


def test_deployment_admin_is_read_only_for_compliance(compliance_staff, deployment):
    _, client = compliance_staff
    assert Deployment in admin.site._registry
    assert client.get("/admin/deployments/deployment/").status_code == 200
    url = f"/admin/deployments/deployment/{deployment.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(url, {"status": "failed"}).status_code == 403
    deployment.refresh_from_db()
    assert deployment.status == "completed"


def test_compliance_record_admin_shows_mica_and_downloads_the_bundle(compliance_staff, deployment):
    _, client = compliance_staff
    listing = client.get("/admin/compliance/deploymentcompliancerecord/")
    assert listing.status_code == 200
    assert b"compliant" in listing.content
    assert b"Download evidence bundle" in listing.content

    url = f"/admin/compliance/deploymentcompliancerecord/{deployment.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"white_paper.hash_recorded" in page.content  # the MiCA checks table
    assert b'name="_save"' not in page.content
    assert client.post(url, {}).status_code == 403
    assert client.post(f"/admin/compliance/deploymentcompliancerecord/{deployment.pk}/delete/",
                       {"post": "yes"}).status_code == 403

    download = client.get(f"/admin/compliance/deploymentcompliancerecord/{deployment.pk}/evidence-bundle/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert download.content == evidence_bundle_build(deployment=DeploymentComplianceRecord.objects.get(
        pk=deployment.pk))
    assert AuditEntry.objects.filter(action="export.evidence_bundle", actor__startswith="staff:").exists()


def test_compliance_staff_read_audit_log_policies_and_decisions(compliance_staff, alice, deployment):
    from compliance.services import issuance_policy_set

    _, client = compliance_staff
    policy = issuance_policy_set(organization=alice.organization, actor="staff:test", blocked_issuer_countries=["DE"])
    assert alice.create().status_code == 422
    for url in ("/admin/audit/auditentry/", "/admin/compliance/issuancepolicy/",
                "/admin/compliance/compliancedecision/", f"/admin/compliance/issuancepolicy/{policy.pk}/change/",
                f"/admin/compliance/issuancepolicy/{policy.pk}/history/"):
        assert client.get(url).status_code == 200, url
    entry = AuditEntry.objects.first()
    page = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {}).status_code == 403
    assert client.get("/admin/compliance/issuancepolicy/add/").status_code == 403
    assert client.post(f"/admin/compliance/issuancepolicy/{policy.pk}/change/", {}).status_code == 403
    decisions = client.get("/admin/compliance/compliancedecision/")
    assert b"policy.issuer_country_blocked" in decisions.content


def test_superuser_edits_a_policy_through_the_service(alice):
    admin_user = User.objects.create_superuser("root@example.com", "a root password that is long")
    client = Client()
    otp_force_login(client, admin_user)
    response = client.post("/admin/compliance/issuancepolicy/add/", {
        "organization": str(alice.organization.pk), "allowed_networks": ["evm-local", "base-sepolia"],
        "allowed_standards": [], "require_compliance_profile": "on", "allow_out_of_scope": "on",
        "blocked_issuer_countries": "ru, kp",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = IssuancePolicy.objects.get(organization=alice.organization)
    assert policy.allowed_networks == ["base-sepolia", "evm-local"]
    assert policy.blocked_issuer_countries == ["KP", "RU"]
    assert policy.require_compliance_profile and not policy.require_mica_compliant
    assert policy.history.count() == 1
    assert AuditEntry.objects.get(action="policy.changed").actor == f"staff:{admin_user.pk}"

    invalid = client.post(f"/admin/compliance/issuancepolicy/{policy.pk}/change/", {
        "allowed_networks": [], "allowed_standards": [], "blocked_issuer_countries": "XX"})
    assert invalid.status_code == 200 and b"Not ISO 3166-1 alpha-2" in invalid.content
    assert alice.create(profile=None).status_code == 422  # profile now required


def test_compliance_staff_read_tokens_and_operations_only(compliance_staff):
    user, client = compliance_staff
    for model in ("token", "operation", "operationevent", "operationtransaction"):
        assert user.has_perm(f"deployments.view_{model}")
        for action in ("add", "change", "delete"):
            assert not user.has_perm(f"deployments.{action}_{model}")
    assert client.get("/admin/deployments/token/").status_code == 200
    assert client.get("/admin/deployments/operation/").status_code == 200
