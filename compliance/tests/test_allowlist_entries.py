"""Allow-list entries through the API: CRUD, e-mail resolution, validation, audit entry and webhook
event per change, the export, the admin registration, and another organization's token (404)."""
from __future__ import annotations

import csv
import io

import pytest
from algosdk.encoding import encode_address
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import EvmAccount, Membership, User
from biatec.audit.models import AuditEntry
from compliance.models import AllowListEntry, BlockListEntry, JurisdictionRules
from compliance.tests.allowlist_support import add, address, base, token_for
from tests.otp import otp_force_login
from webhooks.models import WebhookEvent
from webhooks.services import webhook_subscription_create

ALGORAND_ADDRESS = encode_address(bytes(32))  # a valid Algorand address, computed (secret scan)

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(alice):
    return token_for(alice)


@pytest.fixture
def hooked(alice):
    webhook_subscription_create(organization=alice.organization, actor=alice.user, url="http://127.0.0.1:9/h",
                                event_types=["allowlist.added", "allowlist.updated", "allowlist.removed"])


def _events(kind):
    return list(WebhookEvent.objects.filter(type=f"allowlist.{kind}").order_by("created_at"))


def test_add_read_list_update_delete_each_audited_and_sent_as_a_webhook_event(alice, token, hooked):
    holder = address()
    response = add(alice, token, address=holder.lower(), jurisdiction="de", investor_category="professional",
                   kyc_verified=True, kyc_provider="Onfido", reason="onboarded")
    assert response.status_code == 201, response.content
    entry = response.json()
    assert entry["address"] == holder and entry["status"] == "active" and entry["jurisdiction"] == "DE"
    assert entry["added_by"] == f"user:{alice.user.pk}"
    url = f"{base(token)}/allowlist/{entry['id']}"
    assert alice.client.get(url).json() == entry

    add(alice, token, address=address(), jurisdiction="FR", status="suspended")
    listed = alice.client.get(f"{base(token)}/allowlist").json()
    assert len(listed["results"]) == 2 and "next" in listed
    assert [e["id"] for e in alice.client.get(f"{base(token)}/allowlist?status=active").json()["results"]] == [
        entry["id"]]
    assert len(alice.client.get(f"{base(token)}/allowlist?jurisdiction=FR").json()["results"]) == 1

    changed = alice.client.patch(url, {"status": "suspended", "reason": "review"}, format="json")
    assert changed.status_code == 200 and changed.json()["status"] == "suspended"
    assert alice.client.delete(url).status_code == 204
    assert alice.client.get(url).status_code == 404

    actions = list(AuditEntry.objects.filter(object_type="allowlist_entry", object_id=entry["id"])
                   .order_by("sequence").values_list("action", flat=True))
    assert actions == ["allowlist.added", "allowlist.updated", "allowlist.removed"]
    added, updated, removed = _events("added"), _events("updated"), _events("removed")
    assert len(added) == 2 and len(updated) == 1 and len(removed) == 1
    assert updated[0].payload["data"]["changes"]["status"] == ["active", "suspended"]
    assert removed[0].payload["data"]["entry"]["id"] == entry["id"]
    assert all(e.organization_id == alice.organization.pk for e in added + updated + removed)
    history = AllowListEntry.history.filter(id=entry["id"]).order_by("history_date")
    assert [h.history_type for h in history] == ["+", "~", "-"]


def test_an_entry_named_by_the_email_of_a_member_gets_that_users_address(alice, bob, token):
    response = add(alice, token, email=alice.user.email.upper())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user_id"] == str(alice.user.pk)
    assert body["address"] == EvmAccount.objects.get(user=alice.user, chain_id=31337).address  # evm-local
    for email in ("nobody@example.com", bob.user.email):  # not registered / not a member of the organization
        refused = add(alice, token, email=email)
        assert refused.status_code == 422 and refused.json()["code"] == "RECIPIENT_NOT_FOUND", refused.content


@pytest.mark.parametrize("body", [
    {},
    {"address": ALGORAND_ADDRESS},  # Algorand, on an EVM token
    {"address": "0x12"},
    {"address": "0x000000000000000000000000000000000000dEaD", "email": "a@example.com"},
    {"address": "0x000000000000000000000000000000000000dead", "jurisdiction": "XX"},
    {"address": "0x000000000000000000000000000000000000dead", "status": "frozen"},
    {"address": "0x000000000000000000000000000000000000dead", "investor_category": "whale"},
    {"address": "0x000000000000000000000000000000000000dead", "kyc_verified_at": "2026-01-02T00:00:00Z",
     "kyc_expires_at": "2026-01-01T00:00:00Z"},
])
def test_malformed_entries_are_400_and_write_nothing(alice, token, body):
    response = add(alice, token, **body)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR", response.content
    assert not AllowListEntry.objects.filter(token=token).exists()


def test_the_same_address_twice_is_a_conflict(alice, token):
    holder = address()
    assert add(alice, token, address=holder).status_code == 201
    again = add(alice, token, address=holder.lower())
    assert again.status_code == 409 and again.json()["code"] == "CONFLICT"


def test_a_viewer_reads_but_cannot_write(alice, bob, token):
    Membership.objects.create(user=bob.user, organization=alice.organization, role=Membership.Role.VIEWER)
    entry = add(alice, token, address=address()).json()
    assert bob.client.get(f"{base(token)}/allowlist/{entry['id']}").status_code == 200
    assert bob.client.post(f"{base(token)}/allowlist", {"address": address()}, format="json").status_code == 403
    assert bob.client.patch(f"{base(token)}/allowlist/{entry['id']}", {"status": "revoked"},
                            format="json").status_code == 403


def test_export_as_json_and_csv_audited(alice, token):
    for country in ("DE", "FR"):
        add(alice, token, address=address(), jurisdiction=country, reason="=HYPERLINK(1)")
    as_json = alice.client.get(f"{base(token)}/allowlist/export?format=json")
    assert as_json.status_code == 200 and as_json.json()["count"] == 2
    as_csv = alice.client.get(f"{base(token)}/allowlist/export?format=csv&jurisdiction=DE")
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert len(rows) == 1 and rows[0]["jurisdiction"] == "DE" and rows[0]["reason"] == "'=HYPERLINK(1)"
    assert AuditEntry.objects.filter(action="export.allowlist", object_id=str(token.pk)).count() == 2


def test_another_organizations_token_entry_and_block_are_404_on_every_endpoint(alice, bob, token):
    entry = add(alice, token, address=address()).json()
    block = alice.client.post("/api/v1/compliance/blocklist", {"address": address(), "category": "fraud"},
                              format="json").json()
    t = base(token)
    calls = [
        ("get", f"{t}/allowlist", None), ("post", f"{t}/allowlist", {"address": address()}),
        ("get", f"{t}/allowlist/{entry['id']}", None), ("patch", f"{t}/allowlist/{entry['id']}", {"reason": "x"}),
        ("delete", f"{t}/allowlist/{entry['id']}", None),
        ("post", f"{t}/allowlist/bulk", {"entries": [{"address": address()}]}),
        ("get", f"{t}/allowlist/export?format=csv", None), ("get", f"{t}/jurisdiction-rules", None),
        ("put", f"{t}/jurisdiction-rules", {"max_holders": 1}),
        ("post", f"{t}/transfers/validate", {"from": address(), "to": address(), "amount": "1"}),
        ("get", f"/api/v1/compliance/blocklist/{block['id']}", None),
        ("patch", f"/api/v1/compliance/blocklist/{block['id']}", {"reason": "x"}),
        ("delete", f"/api/v1/compliance/blocklist/{block['id']}", None),
        ("get", f"/api/v1/compliance/blocklist?organization={alice.organization.pk}", None),
    ]
    for method, url, body in calls:
        response = getattr(bob.client, method)(url, body, format="json") if body else getattr(bob.client, method)(url)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["code"] == "NOT_FOUND"
    assert AllowListEntry.objects.filter(token=token).count() == 1
    assert BlockListEntry.objects.filter(organization=alice.organization).count() == 1
    assert not JurisdictionRules.objects.filter(token=token).exists()
    assert bob.client.get("/api/v1/compliance/blocklist").json()["results"] == []


def test_the_admin_registers_the_registry_with_history_and_filters():
    for model in (AllowListEntry, BlockListEntry, JurisdictionRules):
        assert model in admin.site._registry
    entry_admin = admin.site._registry[AllowListEntry]
    assert "status" in entry_admin.list_filter and "jurisdiction" in entry_admin.list_filter
    assert entry_admin.object_history_template  # simple-history's history view


def test_the_admin_pages_render_and_the_suspend_action_goes_through_the_service(alice, token):
    entry = add(alice, token, address=address(), jurisdiction="DE", kyc_verified=True,
                kyc_expires_at="2099-01-01T00:00:00Z").json()
    alice.client.post("/api/v1/compliance/blocklist", {"address": address(), "category": "aml"}, format="json")
    alice.client.put(f"{base(token)}/jurisdiction-rules", {"max_holders": 3}, format="json")
    staff = User.objects.create_superuser("allowlist-staff@example.com", "a long staff password 123")
    browser = Client()
    otp_force_login(browser, staff)
    for model in ("allowlistentry", "blocklistentry", "jurisdictionrules"):
        assert browser.get(reverse(f"admin:compliance_{model}_changelist")).status_code == 200
    for query in ("?status__exact=active", "?jurisdiction=DE", "?kyc_expiry=30d", "?kyc_expiry=expired"):
        assert browser.get(reverse("admin:compliance_allowlistentry_changelist") + query).status_code == 200
    for view in ("change", "history"):
        assert browser.get(reverse(f"admin:compliance_allowlistentry_{view}", args=[entry["id"]])).status_code == 200
    response = browser.post(reverse("admin:compliance_allowlistentry_changelist"),
                            {"action": "suspend_entries", "_selected_action": [entry["id"]]})
    assert response.status_code == 302
    assert AllowListEntry.objects.get(pk=entry["id"]).status == "suspended"
    assert AuditEntry.objects.filter(object_id=entry["id"], action="allowlist.updated",
                                     actor=f"staff:{staff.pk}").exists()
