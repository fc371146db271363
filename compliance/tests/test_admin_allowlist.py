"""The holder registry in the admin for compliance staff: the allow list's KYC-expiry filter and the
drift reports (read-only, viewable by the compliance group)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from compliance.holder_sync import allowlist_drift_keep
from compliance.models import AllowListEntry
from compliance.tests.allowlist_support import address, token_for
from tests.otp import otp_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    user = User.objects.create_user("registry.officer@example.com", "an officer's long password 2", is_staff=True)
    user.groups.add(Group.objects.get(name="compliance"))
    client = Client()
    otp_force_login(client, user)
    return user, client


@pytest.fixture
def token(alice):
    return token_for(alice)


def _entry(token, expires_in_days):
    expires = None if expires_in_days is None else timezone.now() + timedelta(days=expires_in_days)
    return AllowListEntry.objects.create(organization_id=token.organization_id, token=token, address=address(),
                                         kyc_expires_at=expires, added_by="test")


def _listed(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response, {obj.pk for obj in response.context["cl"].result_list}


def test_the_kyc_expiring_filter_returns_the_right_entries(officer, token):
    _, client = officer
    soon, later, past, never = _entry(token, 10), _entry(token, 60), _entry(token, -1), _entry(token, None)
    url = reverse("admin:compliance_allowlistentry_changelist")
    page, everything = _listed(client, url)
    assert everything == {soon.pk, later.pk, past.pk, never.pk}
    assert b"KYC expiring" in page.content and b"No expiry" in page.content
    assert _listed(client, url + "?kyc_expiry=30d")[1] == {soon.pk}
    assert _listed(client, url + "?kyc_expiry=expired")[1] == {past.pk}
    assert _listed(client, url + "?kyc_expiry=none")[1] == {never.pk}
    assert _listed(client, url + "?kyc_expiry=30d&status__exact=active")[1] == {soon.pk}  # with the others
    assert _listed(client, url + "?kyc_expiry=30d&status__exact=suspended")[1] == set()


def test_the_compliance_group_views_drift_reports_read_only(officer, token):
    user, client = officer
    assert user.has_perm("compliance.view_allowlistdriftreport")
    for action in ("add", "change", "delete"):
        assert not user.has_perm(f"compliance.{action}_allowlistdriftreport")
    difference = {"entry_id": "5b1e0c4e-0000-4000-8000-000000000001", "address": address(), "status": "active",
                  "expected": {"allowed": True}, "on_chain": {"eligible": False}, "fix": "resync"}
    drifted = allowlist_drift_keep(token=token, drift={"checked": 3, "differences": [difference]})
    in_sync = allowlist_drift_keep(token=token, drift={"checked": 3, "differences": []})
    unread = allowlist_drift_keep(token=token, error="NETWORK_UNAVAILABLE: the node does not answer")

    url = reverse("admin:compliance_allowlistdriftreport_changelist")
    page, listed = _listed(client, url)
    assert listed == {drifted.pk, in_sync.pk, unread.pk}
    assert b"Allow-list drift reports" in page.content and b"Add allow-list drift report" not in page.content
    assert _listed(client, url + "?in_sync=yes")[1] == {in_sync.pk}
    assert _listed(client, url + "?in_sync=no")[1] == {drifted.pk}
    assert _listed(client, url + "?in_sync=unread")[1] == {unread.pk}

    detail = client.get(reverse("admin:compliance_allowlistdriftreport_change", args=[drifted.pk]))
    assert detail.status_code == 200
    assert b"&quot;fix&quot;: &quot;resync&quot;" in detail.content  # the differences, pretty-printed JSON
    assert b'name="_save"' not in detail.content
    assert client.get(reverse("admin:compliance_allowlistdriftreport_add")).status_code == 403
    assert client.post(reverse("admin:compliance_allowlistdriftreport_delete", args=[drifted.pk]),
                       {"post": "yes"}).status_code == 403


def test_a_compliance_officer_adds_suspends_and_activates_entries_through_the_services(officer, token):
    from biatec.audit.models import AuditEntry
    from compliance.holder_services import jurisdiction_rules_set

    user, client = officer
    url = reverse("admin:compliance_allowlistentry_add")
    assert client.get(url).status_code == 200
    holder = address()
    response = client.post(url, {"token": token.pk, "address": holder.lower(), "status": "active",
                                 "investor_category": "professional", "jurisdiction": "DE", "reason": "onboarded"})
    assert response.status_code == 302, response.content[:3000]
    entry = AllowListEntry.objects.get(token=token, address=holder)  # stored EIP-55, as the API stores it
    assert entry.added_by == f"staff:{user.pk}" and entry.investor_category == "professional"
    assert AuditEntry.objects.filter(action="allowlist.added", actor=f"staff:{user.pk}",
                                     object_id=str(entry.pk)).exists()
    assert entry.history.first().history_user == user

    # The token's rules refuse a country: a form error names the code, and nothing is written.
    jurisdiction_rules_set(token=token, values={"allowed_countries": ["DE"]}, actor="test")
    other = address()
    refused = client.post(url, {"token": token.pk, "address": other, "status": "active",
                                "investor_category": "retail", "jurisdiction": "FR"})
    assert refused.status_code == 200 and b"ALLOWLIST_RULE_VIOLATION" in refused.content
    assert not AllowListEntry.objects.filter(token=token, address=other).exists()
    malformed = client.post(url, {"token": token.pk, "address": "0x1234", "status": "active",
                                  "investor_category": "retail"})
    assert malformed.status_code == 200 and not AllowListEntry.objects.filter(token=token, address="0x1234").exists()

    changelist = reverse("admin:compliance_allowlistentry_changelist")
    client.post(changelist, {"action": "suspend_entries", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.status == "suspended"
    client.post(changelist, {"action": "activate_entries", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.status == "active"
    assert AuditEntry.objects.filter(action="allowlist.updated", actor=f"staff:{user.pk}").count() == 2
    # The entry itself stays read-only: changes go through the actions.
    detail = client.get(reverse("admin:compliance_allowlistentry_change", args=[entry.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
