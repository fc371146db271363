"""The back office of plans and usage: seeded plans editable, overrides with history, usage records
read-only, the monthly CSV export per organization."""
import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.models import Membership, Organization, Plan, PlanOverride, UsageKind, User
from accounts.plans import plan_by_slug
from accounts.usage_services import usage_fee_record, usage_record, usage_refund
from tests.otp import otp_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    staff = User.objects.create_superuser("admin.billing@example.com", "admin password long enough")
    client = Client()
    otp_force_login(client, staff)
    return client


@pytest.fixture
def organization(user_factory) -> Organization:
    body, _ = user_factory("admin.usage")
    return Membership.objects.get(user_id=body["id"]).organization


def test_the_four_plans_are_seeded_with_the_issues_deployment_limits():
    assert {p.slug: p.deployments_per_month for p in Plan.objects.all()} == {
        "free": 3, "basic": 10, "premium": 50, "enterprise": None}
    assert not Plan.objects.get(slug="free").mainnet_allowed


def test_plans_are_edited_and_overrides_keep_history(staff_client, organization):
    plan = plan_by_slug("basic")
    assert staff_client.get(f"/admin/accounts/plan/{plan.pk}/change/").status_code == 200
    override = PlanOverride.objects.create(organization=organization, limit="members", value=20, reason="deal")
    assert staff_client.get(f"/admin/accounts/planoverride/{override.pk}/history/").status_code == 200
    assert staff_client.get("/admin/accounts/usagerecord/").status_code == 200


def test_monthly_csv_export_per_organization(staff_client, organization):
    december = datetime(2026, 12, 3, tzinfo=UTC)
    charged = usage_record(organization_id=organization.pk, kind=UsageKind.DEPLOYMENT, subject_id=uuid.uuid4(),
                           network="evm-local", standard="erc20-mintable", occurred_at=december)
    usage_fee_record(kind=charged.kind, subject_id=charged.subject_id, network="evm-local", tx_id="0xabc",
                     amount=21000 * 10**9, unit="wei", payer="0xpayer")
    refunded = usage_record(organization_id=organization.pk, kind=UsageKind.DEPLOYMENT, subject_id=uuid.uuid4(),
                            network="evm-local", occurred_at=december)
    usage_refund(kind=refunded.kind, subject_id=refunded.subject_id, reason="cancelled")
    usage_record(organization_id=organization.pk, kind=UsageKind.DEPLOYMENT, subject_id=uuid.uuid4(),
                 network="evm-local", occurred_at=datetime(2026, 11, 30, 23, 59, tzinfo=UTC))  # November
    response = staff_client.get("/admin/accounts/usagerecord/export/",
                                {"organization": str(organization.pk), "month": "2026-12"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(r["subject_id"], r["fee_amount"], r["fee_unit"], bool(r["refunded_at"])) for r in rows} == {
        (str(charged.subject_id), str(21000 * 10**9), "wei", False), (str(refunded.subject_id), "0", "", True)}
    form = staff_client.get("/admin/accounts/usagerecord/export/", {"organization": "nope", "month": "2026-12"})
    assert form.status_code == 200 and b"No such organization" in form.content
