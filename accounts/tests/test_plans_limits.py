"""The non-monthly limits of a plan at their creates: webhook subscriptions, members (open
invitations count), allow-list entries per token; and the API-key helper's entry point."""
import pytest

from accounts.models import Membership, PlanOverride
from accounts.plans import plan_by_slug
from accounts.quotas import QuotaExceeded, quota_check
from compliance.holder_services import allowlist_entry_create
from deployments.tests.factories import DeploymentFactory, token_of
from webhooks.models import WebhookSubscription
from webhooks.services import webhook_subscription_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def free(user_factory):
    body, client = user_factory("limits.owner")
    membership = Membership.objects.select_related("organization", "user").get(user_id=body["id"])
    membership.organization.plan = plan_by_slug("free")
    membership.organization.save()
    return membership, client


def test_webhook_subscriptions_on_free(free):
    membership, _ = free
    organization = membership.organization
    webhook_subscription_create(organization=organization, url="http://127.0.0.1:9/a", event_types=["*"], actor=None)
    with pytest.raises(QuotaExceeded) as refused:
        webhook_subscription_create(organization=organization, url="http://127.0.0.1:9/b", event_types=["*"],
                                    actor=None)
    assert refused.value.details == {"quota": "webhook_subscriptions", "limit": 1, "used": 1, "resets_at": None,
                                     "plan": "free"}
    assert WebhookSubscription.objects.filter(organization=organization).count() == 1


def test_members_count_open_invitations(free):
    membership, client = free
    url = f"/api/v1/organizations/{membership.organization_id}/invitations"
    for i in range(2):
        assert client.post(url, {"email": f"m{i}@example.com", "role": "viewer"}, format="json").status_code == 201
    refused = client.post(url, {"email": "m3@example.com", "role": "viewer"}, format="json")
    assert refused.status_code == 402 and refused.json()["code"] == "QUOTA_EXCEEDED"
    assert refused.json()["details"]["used"] == 3


def test_allowlist_entries_per_token(free):
    membership, _ = free
    PlanOverride.objects.create(organization=membership.organization, limit="allowlist_entries_per_token", value=2)
    token = token_of(DeploymentFactory(organization=membership.organization, creator=membership.user))
    for i in range(2):
        allowlist_entry_create(token=token, address=f"0x{i:040x}", email=None, values={}, actor="t")
    with pytest.raises(QuotaExceeded):
        allowlist_entry_create(token=token, address=f"0x{9:040x}", email=None, values={}, actor="t")


def test_api_keys_quota_entry_point(free):
    from django.db import transaction

    membership, _ = free
    with transaction.atomic():
        quota_check(membership.organization, "api_keys", used=lambda: 0)
        with pytest.raises(QuotaExceeded):
            quota_check(membership.organization, "api_keys", used=lambda: 1)
