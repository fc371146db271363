"""The plan's request rate, per organization (accounts.throttles.PlanRateThrottle)."""
import pytest

from accounts.models import Membership, PlanOverride
from accounts.plans import plan_by_slug


@pytest.mark.django_db
def test_the_plans_request_rate_counts_per_organization(user_factory):
    body, client = user_factory("rate.owner")
    organization = Membership.objects.get(user_id=body["id"]).organization
    organization.plan = plan_by_slug("free")
    organization.save()
    PlanOverride.objects.create(organization=organization, limit="requests_per_minute", value=3)
    statuses = [client.get("/api/v1/token/deployments").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    refused = client.get("/api/v1/token/deployments")
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED" and "Retry-After" in refused
    _, other = user_factory("rate.other")  # another organization (Enterprise: unlimited) is not affected
    assert all(other.get("/api/v1/token/deployments").status_code == 200 for _ in range(5))
