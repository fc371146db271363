"""GDPR export and erasure (issue 21 item 3, docs/gdpr.md): the export's ZIP holds every provider's
file, is downloadable once through its signed link, and both steps are audited; the erasure
(password re-entry) pseudonymises the user, after which `verify_audit_chain` passes and the e-mail is
found in no column of any table (a scan of information_schema)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccountExport, EncryptedSecret, EvmAccount, Invitation, Membership, User
from accounts.personal_data import personal_data_providers
from accounts.signing import evm_account_ensure
from biatec.audit.models import AuditEntry, AuditPersonalDatum
from conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def _export(client: APIClient, callbacks) -> dict:  # noqa: ANN001
    with callbacks(execute=True):
        response = client.post("/api/v1/account/export", format="json")
    assert response.status_code == 202, response.content
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    return detail.json()


def _download(url: str) -> object:
    parsed = urlparse(url)
    return APIClient().get(parsed.path, {"token": parse_qs(parsed.query)["token"][0]})


def test_export_holds_every_provider_and_downloads_once(user_factory, django_capture_on_commit_callbacks):
    body, client = user_factory("gdpr.export")
    APIClient().post("/api/v1/auth/login", {"email": "gdpr.export@example.com", "password": "wrong-one"},
                     format="json")  # a security event naming the e-mail
    export = _export(client, django_capture_on_commit_callbacks)
    assert export["status"] == "ready" and export["download_url"] and len(export["sha256"]) == 64

    first = _download(export["download_url"])
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(first.content))
    names = set(archive.namelist())
    assert names == {"README.txt", *(f"{p.name}.json" for p in personal_data_providers())}
    readme = archive.read("README.txt").decode()
    assert all(f"{p.name}.json" in readme for p in personal_data_providers())
    profile = json.loads(archive.read("profile.json"))
    assert profile["user"][0]["email"] == "gdpr.export@example.com" and "password" not in profile["user"][0]
    security = json.loads(archive.read("security_events.json"))
    assert {e["event_type"] for e in security["security_events"]} >= {"signup", "login_failure"}
    assert json.loads(archive.read("memberships.json"))["memberships"][0]["role"] == "owner"
    audit = json.loads(archive.read("audit_entries.json"))["audit_entries"]
    assert "account.export_requested" in {e["action"] for e in audit}
    assert "gdpr.export@example.com" in {v for e in audit for v in e["personal"].values()}

    second = _download(export["download_url"])
    assert second.status_code == 410 and second.json()["code"] == "EXPORT_ALREADY_DOWNLOADED"
    assert client.get(f"/api/v1/account/export/{export['id']}").json()["download_url"] is None
    actions = list(AuditEntry.objects.filter(object_id=export["id"]).values_list("action", flat=True))
    assert actions == ["account.export_requested", "account.export_downloaded"]


def test_export_links_are_signed_expiring_and_private(user_factory, django_capture_on_commit_callbacks):
    _, client = user_factory("gdpr.link")
    _, other = user_factory("gdpr.other")
    export = _export(client, django_capture_on_commit_callbacks)
    path = urlparse(export["download_url"]).path
    assert APIClient().get(path, {"token": "forged"}).status_code == 404
    assert other.get(f"/api/v1/account/export/{export['id']}").status_code == 404  # not theirs
    AccountExport.objects.filter(pk=export["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = _download(export["download_url"])
    assert expired.status_code == 410 and expired.json()["code"] == "EXPORT_EXPIRED"
    assert APIClient().post("/api/v1/account/export").status_code == 401


def _invite(client: APIClient, email: str) -> None:
    organization_id = Membership.objects.get(user__email="gdpr.inviter@example.com").organization_id
    response = client.post(f"/api/v1/organizations/{organization_id}/invitations",
                           {"email": email, "role": "viewer"}, format="json")
    assert response.status_code == 201, response.content


def _columns_containing(needle: str) -> list[str]:
    """Every text-like column of every table of the schema (JSON as text) holding `needle`."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE table_schema = current_schema() AND data_type IN
                          ('text', 'character varying', 'character', 'json', 'jsonb', 'inet', 'USER-DEFINED')""")
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s', [f"%{needle}%"])
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def _approval_naming(*, inviter_user: User, email: str) -> None:
    """A four-eyes request in another organization whose body names the e-mail (an issuance policy
    change is the subject that needs no token), as sent, as checked and in its result."""
    from deployments.approval_models import ApprovalRequest

    ApprovalRequest.objects.create(
        organization=Membership.objects.get(user=inviter_user).organization, token=None,
        kind="issuance_policy_change", payload={"contact": email, "rows": [{"email": email}]},
        summary={"named": {"0xabc": email}}, result={email: "ok"}, gated_by="issuance_policy_changes",
        requested_by=inviter_user, expires_at=timezone.now() + timedelta(hours=1))


def test_erase_pseudonymises_and_the_audit_chain_still_verifies(user_factory):
    email = "gdpr.erase@example.com"
    body, client = user_factory("gdpr.erase")
    _, inviter = user_factory("gdpr.inviter")
    _invite(inviter, email)  # an audit entry and an invitation naming the e-mail, in another organization
    APIClient().post("/api/v1/auth/login", {"email": email, "password": "wrong-one"}, format="json",
                     HTTP_USER_AGENT="GdprAgent/1.0")
    user = User.objects.get(pk=body["id"])
    evm_account_ensure(user=user, chain_id=31337)
    _approval_naming(inviter_user=User.objects.get(email="gdpr.inviter@example.com"), email=email.upper())
    assert _columns_containing(email)  # the scan finds it before
    assert AuditPersonalDatum.objects.filter(value=email).exists()

    wrong = client.post("/api/v1/account/erase", {"password": "not-it"}, format="json")
    assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_CREDENTIALS"
    response = client.post("/api/v1/account/erase", {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 204, response.content

    call_command("verify_audit_chain")  # raises CommandError when a chain is broken
    # Not a trace of the e-mail in any column of any table (sealed columns are bytea, not scanned).
    found = _columns_containing(email)
    assert found == [], found
    assert _columns_containing("GdprAgent") == []

    user.refresh_from_db()
    assert user.email.startswith("erased-") and user.email.endswith("@invalid")
    assert not user.is_active and not user.has_usable_password() and user.algorand_address == ""
    assert user.arc76_secret_id is None and not EvmAccount.objects.filter(user=user).exists()
    assert not EncryptedSecret.objects.filter(owner_id=str(user.pk)).exists()
    assert not Membership.objects.filter(user=user).exists()
    assert Invitation.objects.get(email=user.email).revoked_at is not None
    assert AuditEntry.objects.filter(action="account.erased", object_id=str(user.pk)).exists()
    assert client.get("/api/v1/auth/profile").status_code == 401  # issued tokens are dead
    login = APIClient().post("/api/v1/auth/login", {"email": email, "password": DEFAULT_PASSWORD}, format="json")
    assert login.status_code == 401


def test_expired_export_files_are_purged(user_factory, django_capture_on_commit_callbacks, settings):
    from pathlib import Path

    from accounts.tasks import account_exports_purge_task

    _, client = user_factory("gdpr.purge")
    export = _export(client, django_capture_on_commit_callbacks)
    row = AccountExport.objects.get(pk=export["id"])
    path = Path(settings.GDPR_EXPORT_DIR) / row.file
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    AccountExport.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert account_exports_purge_task() == 1
    assert not path.exists() and AccountExport.objects.get(pk=row.pk).file == ""


def test_a_second_export_waits_for_the_first(user_factory):
    _, client = user_factory("gdpr.twice")
    assert client.post("/api/v1/account/export").status_code == 202  # not built: its commit never comes here
    again = client.post("/api/v1/account/export")
    assert again.status_code == 409 and again.json()["code"] == "EXPORT_IN_PROGRESS"
