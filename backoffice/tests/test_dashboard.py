"""The back office's dashboard (the admin index) and correlation-ID search, through the Django test
client (the browser flows are tests/browser): figures counted per day, status and standard, each
chart with its table, a query count independent of the number of rows, the header's search box on
every admin page, and links only to what the user may view."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import Membership, User
from deployments.models import DeploymentStatus
from deployments.services import deployment_transition
from deployments.tests.factories import DeploymentFactory
from tests.otp import otp_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(user_factory) -> Membership:
    body, _ = user_factory("dashboard.owner")
    return Membership.objects.select_related("organization", "user").get(user_id=body["id"])


def _staff_client(email: str, *, superuser: bool = True, group: str | None = None) -> Client:
    user = User.objects.create_user(email, "a staff password that is long 7", is_staff=True, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    otp_force_login(client, user)
    return client


def _failed(owner: Membership, code: str, correlation_id: str = "") -> None:
    deployment = DeploymentFactory(organization=owner.organization, creator=owner.user,
                                   **({"correlation_id": correlation_id} if correlation_id else {}))
    deployment_transition(deployment_id=deployment.pk, to="submitted", reason="signed", actor="system:worker")
    deployment_transition(deployment_id=deployment.pk, to="failed", reason="x", actor="system:worker",
                          error={"code": code, "message": "m", "retryable": True})


def test_dashboard_counts_per_status_standard_and_failure_code(owner):
    _failed(owner, "CHAIN_UNAVAILABLE")
    _failed(owner, "CHAIN_UNAVAILABLE")
    _failed(owner, "INSUFFICIENT_FUNDS")
    DeploymentFactory(organization=owner.organization, creator=owner.user, standard="asa", network="algorand-localnet")
    response = _staff_client("dash.staff@example.com").get("/admin/")
    assert response.status_code == 200
    board = response.context["dashboard"]
    charts = {chart.key: chart for chart in board.charts}
    assert set(charts) == {"deployments-by-status", "deployments-by-standard", "operations-by-status",
                           "operations-by-standard", "failure-codes", "queue-depth", "webhook-success"}
    by_status = charts["deployments-by-status"]
    assert by_status.headers == ["day", "failed", "queued", "total"]
    assert by_status.rows[-1][1:] == [3, 1, 4]  # today: 3 failed, 1 queued
    assert charts["deployments-by-standard"].headers == ["day", "asa", "erc20-mintable", "total"]
    assert charts["failure-codes"].rows == [["CHAIN_UNAVAILABLE", 2], ["INSUFFICIENT_FUNDS", 1]]
    queue = {row[0]: row for row in charts["queue-depth"].rows}
    assert queue["algorand-localnet"][1] == 1 and "ago" in queue["algorand-localnet"][2]
    assert board.webhook_rate is None
    html = response.content.decode()
    assert html.count('src="data:image/svg+xml;base64,') == len(charts)
    assert html.count("<table>") >= len(charts)  # every chart's numbers, and the drift alerts
    assert 'id="usage-per-plan"' in html and 'id="drift-alerts"' in html


def test_dashboard_queries_do_not_grow_with_rows(owner, django_assert_max_num_queries):
    client = _staff_client("dash.count@example.com")
    _failed(owner, "CHAIN_UNAVAILABLE")
    with django_assert_max_num_queries(40) as few:
        client.get("/admin/")
    for _ in range(5):
        _failed(owner, "RPC_TIMEOUT")
        DeploymentFactory(organization=owner.organization, creator=owner.user, standard="asa")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/admin/")


def test_correlation_search_box_on_every_admin_page_and_results(owner):
    _failed(owner, "CHAIN_UNAVAILABLE", correlation_id="req-dash-42")
    client = _staff_client("dash.search@example.com")
    for path in ("/admin/", "/admin/deployments/deployment/", "/admin/webhooks/webhookdelivery/"):
        assert 'id="correlation-search"' in client.get(path).content.decode(), path
    assert 'id="correlation-search"' not in Client().get("/admin/login/").content.decode()
    page = client.get("/admin/support/correlation/?correlation_id=req-dash-42")
    assert page.status_code == 200
    sections = {s["name"]: s["rows"] for s in page.context["sections"]}
    assert len(sections["deployments"]) == 1 and sections["deployments"][0]["url"].endswith("/change/")
    assert "Nothing carries" in client.get("/admin/support/correlation/?correlation_id=nope").content.decode()


def test_correlation_search_needs_a_verified_staff_session(owner):
    assert Client().get("/admin/support/correlation/?correlation_id=x").status_code == 302


def test_compliance_user_sees_the_dashboard_and_links_only_to_what_it_may_view(owner):
    _failed(owner, "CHAIN_UNAVAILABLE", correlation_id="req-dash-43")
    client = _staff_client("dash.compliance@example.com", superuser=False, group="compliance")
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/support/correlation/?correlation_id=req-dash-43")
    assert page.status_code == 200
    rows = {s["name"]: s["rows"] for s in page.context["sections"]}["deployments"]
    assert rows[0]["url"]  # the compliance group views deployments
    assert DeploymentStatus.FAILED in page.content.decode()


def test_usage_per_plan_counts_accepted_and_refunded_records_by_the_organizations_plan(db):
    import uuid

    from django.utils import timezone

    from accounts.models import Organization, Plan, UsageRecord
    from accounts.usage_selectors import usage_per_plan

    basic = Plan.objects.get(slug="basic")
    on_basic, on_default = Organization.objects.create(name="B", plan=basic), Organization.objects.create(name="D")
    now = timezone.now()
    for organization, kind, refunded in [(on_basic, "deployment", None), (on_basic, "deployment", now),
                                         (on_basic, "operation", None), (on_default, "deployment", None)]:
        UsageRecord.objects.create(organization=organization, kind=kind, subject_id=uuid.uuid4(), network="evm-local",
                                   occurred_at=now, refunded_at=refunded)
    rows = {row["plan"]: row for row in usage_per_plan(since=now - timezone.timedelta(days=30))}
    assert rows["basic"] == {"plan": "basic", "organizations": 1, "deployments": 1, "operations": 1, "refunded": 1}
    assert rows["enterprise"]["deployments"] >= 1  # no plan row: the default plan of the test settings


@pytest.fixture
def dashboard_cache(settings):
    """The production behaviour: the dashboard kept between requests (the test settings build it on
    every request); this run's own cache prefix, emptied before and after."""
    from django.core.cache import caches

    settings.BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS = 180
    cache = caches[settings.DASHBOARD_CACHE_ALIAS]
    cache.clear()
    yield cache
    cache.clear()


def test_dashboard_index_shows_the_last_build_until_it_is_too_old_or_a_rebuild_is_asked(
        owner, dashboard_cache, settings, django_assert_max_num_queries):
    from datetime import timedelta

    from backoffice.dashboard_cache import CACHE_KEY
    from backoffice.tasks import dashboard_refresh_task

    client = _staff_client("dash.cache@example.com")
    dashboard_refresh_task()  # what beat runs
    _failed(owner, "CHAIN_UNAVAILABLE")  # after the build
    response = client.get("/admin/")
    board = response.context["dashboard"]
    charts = {chart.key: chart for chart in board.charts}
    assert charts["failure-codes"].rows == []  # the kept build: the failure came after it
    assert b"Figures as of" in response.content

    rebuilt = {c.key: c for c in client.get("/admin/?refresh=1").context["dashboard"].charts}
    assert rebuilt["failure-codes"].rows == [["CHAIN_UNAVAILABLE", 1]]  # staff asked for a rebuild
    _failed(owner, "INSUFFICIENT_FUNDS")
    kept = {c.key: c for c in client.get("/admin/").context["dashboard"].charts}
    assert kept["failure-codes"].rows == [["CHAIN_UNAVAILABLE", 1]]  # the rebuild was kept

    stale = dashboard_cache.get(CACHE_KEY)
    stale.built_at -= timedelta(seconds=settings.BACKOFFICE_DASHBOARD_MAX_AGE_SECONDS + 1)
    dashboard_cache.set(CACHE_KEY, stale)  # beat stopped: the build is older than the max age
    fresh = {c.key: c for c in client.get("/admin/").context["dashboard"].charts}
    assert fresh["failure-codes"].rows == [["CHAIN_UNAVAILABLE", 1], ["INSUFFICIENT_FUNDS", 1]]

    with django_assert_max_num_queries(6):  # a kept build: the admin's session, user and OTP reads (a build: 14)
        client.get("/admin/")


def test_dashboard_refresh_is_a_beat_job():
    from biatec.celery import app

    assert app.conf.beat_schedule["dashboard-refresh"]["task"] == "backoffice.tasks.dashboard_refresh_task"
    app.loader.import_default_modules()
    assert "backoffice.tasks.dashboard_refresh_task" in app.tasks
