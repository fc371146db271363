"""The plan's request rate, per organization, on write requests (accounts.throttles.PlanRateThrottle)."""
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
    # Write requests count (an empty body: 400 after the throttle); reads do not.
    statuses = [client.post("/api/v1/token/erc20-preminted/create", {}, format="json").status_code
                for _ in range(3)]
    assert statuses == [400, 400, 400]
    refused = client.post("/api/v1/token/erc20-preminted/create", {}, format="json")
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED" and "Retry-After" in refused
    assert client.get("/api/v1/token/deployments").status_code == 200
    _, other = user_factory("rate.other")  # another organization (Enterprise: unlimited) is not affected
    assert all(other.post("/api/v1/token/erc20-preminted/create", {}, format="json").status_code == 400
               for _ in range(5))
