"""The plan's request rate, per organization, on every authenticated request (reads too), at no SQL
cost once cached (accounts.throttles.PlanRateThrottle, accounts/plan_rate.py)."""
import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import throttles
from accounts.models import Membership, PlanOverride, User
from accounts.plans import plan_by_slug
from conftest import DEFAULT_PASSWORD, auth_client
from deployments.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/token/deployments"


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    """Every request of a test falls in one window of the throttle (a minute's boundary between two
    requests would start a fresh count): the throttle's clock stands still at the test's start."""
    now = time.time()
    monkeypatch.setattr(throttles, "time", SimpleNamespace(time=lambda: now))


def _limited(user_factory, name: str, per_minute: int):
    body, client = user_factory(name)
    organization = Membership.objects.get(user_id=body["id"]).organization
    organization.plan = plan_by_slug("free")
    organization.save()
    override = PlanOverride.objects.create(organization=organization, limit="requests_per_minute", value=per_minute)
    return body, client, organization, override


def _refused(response) -> bool:
    return (response.status_code == 429 and response.json()["code"] == "RATE_LIMITED"
            and int(response["Retry-After"]) >= 1)


def test_reads_and_writes_count_per_organization(user_factory):
    _, client, _, _ = _limited(user_factory, "rate.owner", 4)
    assert [client.get(LIST).status_code for _ in range(2)] == [200, 200]
    # Write requests count too (an empty body: 400 after the throttle).
    assert [client.post("/api/v1/token/erc20-preminted/create", {}, format="json").status_code
            for _ in range(2)] == [400, 400]
    assert _refused(client.get(LIST))
    assert _refused(client.post("/api/v1/token/erc20-preminted/create", {}, format="json"))
    _, other = user_factory("rate.other")  # another organization (Enterprise: unlimited) is not affected
    assert all(other.get(LIST).status_code == 200 for _ in range(6))


def test_the_members_of_an_organization_share_its_budget_by_claim_or_header(user_factory):
    owner_body, owner, organization, _ = _limited(user_factory, "rate.shared", 3)
    member_body, member = user_factory("rate.member")
    Membership.objects.create(user_id=member_body["id"], organization=organization, role=Membership.Role.VIEWER)
    by_claim = auth_client(owner.post("/api/v1/auth/login", {
        "email": "rate.member@example.com", "password": DEFAULT_PASSWORD,
        "organization_id": str(organization.pk)}, format="json").json())
    assert owner.get(LIST).status_code == 200
    assert by_claim.get(LIST).status_code == 200
    assert member.get(LIST, HTTP_X_ORGANIZATION_ID=str(organization.pk)).status_code == 200
    assert _refused(owner.get(LIST))
    assert member.get(LIST).status_code == 200  # the member's own organization: its own budget
    # A header naming an organization the caller is not in spends nobody's budget (and lists nothing).
    _, stranger = user_factory("rate.stranger")
    listed = stranger.get(LIST, HTTP_X_ORGANIZATION_ID=str(organization.pk))
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_an_override_change_applies_at_once(user_factory):
    _, client, organization, override = _limited(user_factory, "rate.change", 2)
    assert [client.get(LIST).status_code for _ in range(2)] == [200, 200]
    assert _refused(client.get(LIST))
    override.value = 100
    override.save()
    assert client.get(LIST).status_code == 200  # same minute: the cached rate was dropped
    override.delete()  # the Free plan's 60
    plan = plan_by_slug("free")
    plan.requests_per_minute = 3
    plan.save()  # a plan's change reaches every organization on it
    assert _refused(client.get(LIST))
    organization.plan = plan_by_slug("enterprise")
    organization.save()  # unlimited
    assert all(client.get(LIST).status_code == 200 for _ in range(3))


def test_a_member_removed_stops_counting_against_the_organization(user_factory):
    _, owner, organization, _ = _limited(user_factory, "rate.left", 2)
    member_body, member = user_factory("rate.leaver")
    Membership.objects.create(user_id=member_body["id"], organization=organization, role=Membership.Role.VIEWER)
    assert member.get(LIST, HTTP_X_ORGANIZATION_ID=str(organization.pk)).status_code == 200
    Membership.objects.filter(user_id=member_body["id"], organization=organization).delete()
    listed = member.get(LIST, HTTP_X_ORGANIZATION_ID=str(organization.pk))
    assert listed.status_code == 200 and listed.json()["results"] == []  # not counted
    assert owner.get(LIST).status_code == 200  # the second of two
    assert _refused(owner.get(LIST))


def test_a_warm_throttled_read_costs_what_an_unthrottled_one_does(user_factory, monkeypatch):
    body, client, organization, _ = _limited(user_factory, "rate.sql", 1000)
    deployment = DeploymentFactory(organization=organization, creator=User.objects.get(pk=body["id"]))
    paths = (f"{LIST}/{deployment.pk}", LIST)
    for path in paths:
        client.get(path)  # warm: the auth state and the plan rate's entries
    counted = []
    for path in paths:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        counted.append(len(queries))
    assert counted[0] == 1  # the status read: one statement after authentication, throttled or not
    monkeypatch.setattr(throttles.PlanRateThrottle, "allow_request", lambda self, request, view: True)
    unthrottled = []
    for path in paths:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        unthrottled.append(len(queries))
    assert counted == unthrottled


def test_a_warm_throttled_read_makes_three_redis_round_trips(user_factory, monkeypatch):
    """Redis round trips, counted (never timed): the auth state, the plan rate's entries (one MGET:
    which organization, and that organization's rate, version and plan version, by this process's
    hints of the user's primary organization and its plan) and the window's count (one MULTI).
    Django's backend builds a client per call; ours keeps one per pool."""
    from django.core.cache import caches
    from redis.connection import AbstractConnection

    body, client, organization, _ = _limited(user_factory, "rate.redis", 1000)
    deployment = DeploymentFactory(organization=organization, creator=User.objects.get(pk=body["id"]))
    path = f"{LIST}/{deployment.pk}"
    client.get(path)
    client.get(path)  # warm: the entries, and the plan hint
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(b"".join(command) if isinstance(command, list) else command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    assert client.get(path).status_code == 200
    assert len(sent) == 3, sent
    throttle_cache = caches["throttle"]
    assert throttle_cache._cache.get_client() is throttle_cache._cache.get_client(write=True)


def test_a_new_primary_organization_counts_though_the_process_hinted_the_old_one(user_factory):
    body, client, organization, _ = _limited(user_factory, "rate.moved", 2)
    new_home_body, _ = user_factory("rate.newhome")  # Enterprise: unlimited
    new_home = Membership.objects.get(user_id=new_home_body["id"]).organization
    Membership.objects.create(user_id=body["id"], organization=new_home, role=Membership.Role.VIEWER)
    assert [client.get(LIST).status_code for _ in range(2)] == [200, 200]  # the old primary's 2 of 2
    assert _refused(client.get(LIST))  # the hint now names the old primary
    Membership.objects.filter(user_id=body["id"], organization=organization).delete()
    assert all(client.get(LIST).status_code == 200 for _ in range(4))  # counted under the new one


def test_without_the_throttle_redis_reads_pass_and_writes_fail_closed(user_factory, settings):
    _, client, _, _ = _limited(user_factory, "rate.down", 1)
    settings.CACHES = {**settings.CACHES, "throttle": {**settings.CACHES["throttle"],
                                                       "LOCATION": "redis://127.0.0.1:1/0"}}
    assert all(client.get(LIST).status_code == 200 for _ in range(3))
    refused = client.post("/api/v1/token/erc20-preminted/create", {}, format="json")
    assert refused.status_code == 503 and refused.json()["code"] == "RATE_LIMITER_UNAVAILABLE"


def test_api_keys_count_under_their_own_organization(user_factory):
    from rest_framework.test import APIClient

    body, client, organization, _ = _limited(user_factory, "rate.keys", 3)
    other_body, _ = user_factory("rate.keys.other")
    other = Membership.objects.get(user_id=other_body["id"]).organization
    Membership.objects.create(user_id=body["id"], organization=other, role=Membership.Role.ADMIN)

    def key_client(organization_id) -> APIClient:
        created = client.post(f"/api/v1/organizations/{organization_id}/api-keys", {"name": "k", "role": "viewer"},
                              format="json")
        assert created.status_code == 201, created.content
        keyed = APIClient()
        keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {created.json()['key']}")
        return keyed

    own_key, others_key = key_client(organization.pk), key_client(other.pk)  # the creates count: 2 of 3
    assert all(others_key.get(LIST).status_code == 200 for _ in range(4))  # the other organization's budget
    assert own_key.get(LIST).status_code == 200  # 3 of 3
    assert _refused(own_key.get(LIST))
    assert _refused(client.get(LIST))  # the members and the keys of an organization share its budget
