"""Plans and quotas at POST (issue 21 item 1): the monthly deployment quota under 20 concurrent
creates, staff overrides, the month rollover, the networks of the plan."""
import threading
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Membership, PlanOverride, UsageRecord, User
from accounts.plans import plan_by_slug
from accounts.quotas import next_month_start
from deployments.models import Deployment

ERC20 = {"network": "evm-local", "name": "Quota", "symbol": "QTA", "decimals": 0, "initial_supply": "1"}


@pytest.fixture
def free_owner(user_factory, no_dispatch, anvil_node):
    """An owner whose organization is on Free (the suite's default plan is Enterprise)."""
    body, client = user_factory("quota.owner")
    organization = Membership.objects.get(user_id=body["id"]).organization
    organization.plan = plan_by_slug("free")
    organization.save()
    return User.objects.get(pk=body["id"]), client, organization


def _create(client, name="Quota"):
    return client.post("/api/v1/token/erc20-preminted/create", {**ERC20, "name": name}, format="json")


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_creates_on_free_accept_exactly_three(free_owner):
    user, _, organization = free_owner
    answers: list = []
    barrier = threading.Barrier(20)

    def call(i: int) -> None:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            answers.append(_create(client, name=f"Quota {i}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(a.status_code for a in answers)
    assert codes == [202] * 3 + [402] * 17, [a.content[:200] for a in answers if a.status_code not in (202, 402)]
    refused = [a.json() for a in answers if a.status_code == 402]
    assert {r["code"] for r in refused} == {"QUOTA_EXCEEDED"}
    expected_reset = next_month_start().isoformat().replace("+00:00", "Z")
    assert {(r["details"]["limit"], r["details"]["used"], r["details"]["resets_at"]) for r in refused} == {
        (3, 3, expected_reset)}
    assert Deployment.objects.filter(organization=organization).count() == 3
    assert UsageRecord.objects.filter(organization=organization, kind="deployment").count() == 3


@pytest.mark.chain
@pytest.mark.django_db
def test_override_lifts_the_limit_and_is_history_tracked(free_owner):
    _, client, organization = free_owner
    assert [_create(client).status_code for _ in range(4)] == [202, 202, 202, 402]
    override = PlanOverride.objects.create(organization=organization, limit="deployments_per_month", value=5,
                                           reason="pilot")
    assert [_create(client).status_code for _ in range(3)] == [202, 202, 402]
    override.value = None  # unlimited
    override.save()
    assert _create(client).status_code == 202
    assert [h.value for h in override.history.order_by("history_date")] == [5, None]


@pytest.mark.chain
@pytest.mark.django_db
def test_month_rollover_resets_the_quota(free_owner):
    _, client, organization = free_owner
    assert [_create(client).status_code for _ in range(4)] == [202, 202, 202, 402]
    # The three accepted deployments happened last month: this month starts empty.
    records = UsageRecord.objects.filter(organization=organization)
    for record in records:
        record.occurred_at = record.occurred_at.replace(day=1) - timedelta(days=1)
        record.save()
    assert [_create(client).status_code for _ in range(4)] == [202, 202, 202, 402]


@pytest.mark.chain
@pytest.mark.django_db
def test_cancelled_deployments_do_not_count(free_owner):
    _, client, _ = free_owner
    ids = [_create(client).json()["id"] for _ in range(3)]
    assert _create(client).status_code == 402
    cancelled = client.post(f"/api/v1/token/deployments/{ids[0]}/cancel", {"reason": "mistake"}, format="json")
    assert cancelled.status_code == 200
    assert _create(client).status_code == 202


@pytest.mark.chain
@pytest.mark.django_db
def test_free_refuses_main_networks_with_its_own_code(free_owner, anvil_factory, settings):
    _, client, organization = free_owner
    node = anvil_factory(chain_id=8453)
    settings.CHAIN_NODES = {**settings.CHAIN_NODES, "base-mainnet": {"url": node.url}}
    response = client.post("/api/v1/token/erc20-preminted/create", {**ERC20, "network": "base-mainnet"},
                           format="json")
    assert response.status_code == 402, response.content
    assert response.json()["code"] == "PLAN_NETWORK_NOT_ALLOWED"
    assert response.json()["details"] == {"network": "base-mainnet", "plan": "free"}
    assert not Deployment.objects.exists()
    PlanOverride.objects.create(organization=organization, limit="mainnet_allowed", value=1)
    assert client.post("/api/v1/token/erc20-preminted/create", {**ERC20, "network": "base-mainnet"},
                       format="json").status_code == 202
