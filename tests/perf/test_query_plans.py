"""Reads that must stay flat as the tables grow use an index: EXPLAIN on a seeded table (a plan, not
a time). The benchmark (bench/) measures the same reads at 1,000,000 rows."""
import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Membership, Organization, User
from deployments.models import Deployment, DeploymentEvent
from deployments.selectors import deployment_find_by_correlation_id, deployment_get, deployment_list

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
ORGANIZATIONS, PER_ORGANIZATION = 200, 100


@pytest.fixture
def seeded(user_factory):
    body, _ = user_factory("plans.reader")
    user = User.objects.get(pk=body["id"])
    mine = Membership.objects.get(user=user).organization
    organizations = [mine, *Organization.objects.bulk_create(
        [Organization(name=f"org {n}") for n in range(ORGANIZATIONS - 1)])]
    now = timezone.now()
    rows = [Deployment(organization=org, creator=user, standard=("asa-ft", "erc20-mintable")[n % 2],
                       network=("evm-local", "algorand-localnet")[n % 2], request={"name": "T"},
                       status=("completed", "failed", "pending")[n % 3], correlation_id=uuid.uuid4().hex,
                       created_at=now - timedelta(minutes=n))
            for org in organizations for n in range(PER_ORGANIZATION)]
    Deployment.objects.bulk_create(rows, batch_size=5000)
    DeploymentEvent.objects.bulk_create([DeploymentEvent(deployment=d, to_status="queued", actor="system",
                                                         correlation_id=d.correlation_id) for d in rows],
                                        batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE deployments_deployment")
        cursor.execute("ANALYZE deployments_deploymentevent")
        cursor.execute("ANALYZE accounts_membership")
    return user, rows[PER_ORGANIZATION // 2]


GROWING = ("deployments_deployment", "deployments_deploymentevent")


def _plan_scans(plan: dict, *, removed_limit: int | None) -> list[str]:
    """Nodes of an EXPLAIN (FORMAT JSON, ANALYZE) plan that read a growing table without narrowing
    it: a sequential scan, or (with `removed_limit`) an index walked with a filter that throws more
    rows than that away (EXPLAIN ANALYZE counts the rows, not the time)."""
    found = []

    def walk(node: dict) -> None:
        removed = node.get("Rows Removed by Filter", 0)
        if node.get("Relation Name") in GROWING and (
                node["Node Type"] == "Seq Scan" or (removed_limit is not None and removed > removed_limit)):
            found.append(f"{node['Node Type']} on {node['Relation Name']} (removed by filter: {removed})")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return found


def _full_scans(queryset) -> list[str]:
    return _plan_scans(json.loads(queryset.explain(format="json", analyze=True))[0]["Plan"], removed_limit=100)


FILTERS = [{}, {"status": "failed"}, {"standard": "asa-ft"}, {"network": "evm-local"},
           {"created_after": "2026-01-01T00:00:00Z"}, {"correlation_id": "x"}]


def test_growing_reads_use_indexes(seeded, admin_user):
    """Status read, the list with every filter, the support lookup by correlation ID and the admin
    changelist search: none scans the deployments or their history sequentially."""
    user, deployment = seeded
    queries = {}
    assert deployment_get(user=user, deployment_id=deployment.pk) == deployment
    queries["status read"] = Deployment.objects.filter(pk=deployment.pk, organization_id__in=Membership.objects.filter(
        user=user).values("organization_id"))
    for filters in FILTERS:
        queries[f"list {filters}"] = deployment_list(user=user, filters=filters).order_by("-created_at", "-id")[:50]
    found = deployment_find_by_correlation_id(correlation_id=deployment.correlation_id)
    assert list(found) == [deployment]
    queries["support lookup"] = found
    admin = site._registry[Deployment]
    request = RequestFactory().get("/admin/deployments/deployment/", {"q": deployment.correlation_id})
    request.user = admin_user
    for term in (deployment.correlation_id, str(deployment.pk), user.algorand_address):
        results, _ = admin.get_search_results(request, admin.get_queryset(request), term)
        assert deployment in results
        queries[f"admin search {term}"] = results.order_by("-created_at")[:100]
    scanned = {name: problems for name, query in queries.items() if (problems := _full_scans(query))}
    assert scanned == {}


def _statement_scans(sql: str) -> list[str]:
    """Sequential scans of a growing table by a statement as the server ran it (captured SQL,
    parameters bound). A changelist page's LIMIT walk of the created-at index under a status filter
    is allowed (it stops at a page of rows), so filtered index walks are not counted here."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return _plan_scans(plan[0]["Plan"], removed_limit=None)


@pytest.mark.parametrize("path", ["/admin/deployments/deployment/", "/admin/deployments/deploymentevent/",
                                  "/admin/deployments/operation/"])
def test_admin_changelists_read_no_growing_table_whole(seeded, admin_client, settings, path):
    """Every statement of the changelist page, searched and unfiltered, as the admin runs it: the
    result count, the filters' choices and the page. No full `COUNT(*)` (`show_full_result_count`), no
    `SELECT DISTINCT` for a filter's choices or a date drill-down: the page count of an unfiltered
    large table is PostgreSQL's estimate (the threshold lowered here to the seeded table's size)."""
    from django.test.utils import CaptureQueriesContext

    _, deployment = seeded
    settings.ADMIN_EXACT_COUNT_MAX_ROWS = 1000
    scanned = {}
    for params in ({"q": deployment.correlation_id}, {}):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(path, params)
        assert response.status_code == 200
        if path.endswith("/deployment/") and params:
            assert str(deployment.pk) in response.content.decode()
        for query in queries:
            if query["sql"].startswith("SELECT") and (problems := _statement_scans(query["sql"])):
                scanned[f"{params} {query['sql'][:200]}"] = problems
    assert scanned == {}


def test_the_estimate_is_only_for_an_unfiltered_large_table(seeded, settings):
    from biatec.core.admin_mixins import EstimatedCountPaginator

    settings.ADMIN_EXACT_COUNT_MAX_ROWS = 1000
    estimated = EstimatedCountPaginator(Deployment.objects.all(), 100).count
    assert abs(estimated - Deployment.objects.count()) <= Deployment.objects.count() // 10  # ANALYZEd in `seeded`
    assert EstimatedCountPaginator(Deployment.objects.filter(status="failed"), 100).count == \
        Deployment.objects.filter(status="failed").count()
    settings.ADMIN_EXACT_COUNT_MAX_ROWS = 10**9
    assert EstimatedCountPaginator(Deployment.objects.all(), 100).count == Deployment.objects.count()
