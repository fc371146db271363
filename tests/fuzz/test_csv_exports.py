"""CSV formula injection in every CSV export (issue 15 item 4, issue 14 defect 10).

The CSV exports are found, not listed: every GET route walked from the URL conf (tests/tenancy/routes.py)
is fetched by a caller the tenant matrix lets in, plain, with `?format=csv` and with `Accept: text/csv`;
a route is an export when any of these answers `text/csv`. A view or OpenAPI operation that declares
CSV (a renderer, a `text/csv` response) must be among them. Each export found must have a seeder
below, which plants text starting with `=`, `+`, `-`, `@`, tab and CR in every text column that
export reads (straight into the rows, past any API validation: the export must not rely on it), so a
new CSV export fails here until it is seeded and shown to escape. For every export:
- every cell is already neutral (`safe_cell(cell) == cell`, biatec/core/csv_export.py), numbers aside;
- every planted value is in the export as `safe_cell(value)` (quote-prefixed): the seed got there.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from drf_spectacular.generators import SchemaGenerator

from biatec.audit.chain import audit_record
from biatec.core.csv_export import safe_cell
from compliance.models import AllowListEntry, ComplianceDecision
from deployments.models import Deployment, DeploymentEvent, Token
from deployments.tests.factories import DeploymentFactory
from tests.tenancy.matrix import MATRIX
from tests.tenancy.routes import Route, api_routes
from tests.tenancy.world import World

GETS = [route for route in api_routes() if "get" in route.methods]
# One value per dangerous first character; short enough for every column (16 characters at most).
FORMULAS = ["=1+2", "+1+2", "-1+2", "@SUM(1)", "\t=1+2", "\r=1+2"]
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _seed_deployment_audit_trail(world: World) -> None:
    deployment = Deployment.objects.get(pk=world.objects["deployment_id"])
    for value in FORMULAS:
        DeploymentEvent.objects.create(deployment=deployment, from_status=value, to_status=value, actor=value,
                                       reason=value, correlation_id=value, facts={value: value})


def _seed_compliance_audit_log(world: World) -> None:
    for value in FORMULAS:
        audit_record(action=value, actor=value, organization_id=world.organization.pk, object_type=value,
                     object_id=value, payload={value: value}, correlation_id=value)


def _seed_compliance_report(world: World) -> None:
    for value in FORMULAS:
        deployment = DeploymentFactory(organization=world.organization, creator=world.owner, standard=value,
                                       network=value, correlation_id=value)  # status: a DB constraint
        DeploymentEvent.objects.create(deployment=deployment, from_status="", to_status=value, actor=value,
                                       facts={"compliance": {"mica_overall": value,
                                                             "mica": {"failing_rules": [value], "regime": value}}})
        ComplianceDecision.objects.create(organization=world.organization, actor=value,
                                          source=ComplianceDecision.Source.CREATE, standard=value, network=value,
                                          allowed=False, failing_rules=[value], correlation_id=value)


def _seed_allowlist_export(world: World) -> None:
    token = Token.objects.get(pk=world.objects["token_id"])
    for value in FORMULAS:
        AllowListEntry.objects.create(organization=world.organization, token=token, address=value, status=value,
                                      kyc_provider=value, investor_category=value, reason=value, added_by=value)


SEEDERS: dict[str, Callable[[World], None]] = {
    "allowlist-export": _seed_allowlist_export,
    "deployment-audit-trail": _seed_deployment_audit_trail,
    "compliance-audit-log": _seed_compliance_audit_log,
    "compliance-report": _seed_compliance_report,
}


def _caller(route: Route) -> str:
    call = MATRIX[route.name]["get"]
    return next((role for role in ("owner", "staff") if call.expected(role) == 200), "owner")


def _fetch(world: World, route: Route, *, csv_format: bool, accept: str | None = None) -> Any:
    call = MATRIX[route.name]["get"]
    path = route.path(**{p: world.objects.get(p) or call.path[p] for p in route.parameters})
    query = call.query(world.objects) if call.query is not None else {}
    query = {**query, "format": "csv"} if csv_format else query
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    return world.clients[_caller(route)].get(path, **headers)


def _is_csv(response: Any) -> bool:
    return response.status_code == 200 and response.get("Content-Type", "").startswith("text/csv")


def _found_exports(world: World) -> dict[str, dict[str, Any]]:
    """Route name -> the fetch options that made it answer CSV."""
    found = {}
    for route in GETS:
        for options in ({"csv_format": False}, {"csv_format": True}, {"csv_format": False, "accept": "text/csv"}):
            if _is_csv(_fetch(world, route, **options)):
                found[route.name] = options
                break
    return found


@cache
def _declared_exports() -> set[str]:
    """Routes whose view has a CSV renderer or whose operation documents a text/csv response."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    by_path = {re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", "/" + r.pattern.removeprefix("^")): r.name for r in GETS}
    declared = {by_path[path] for path, ops in schema["paths"].items() if path in by_path
                for status, answer in ops.get("get", {}).get("responses", {}).items()
                if "text/csv" in answer.get("content", {})}
    for route in GETS:
        view = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
        renderers = getattr(view, "renderer_classes", None) or []
        if any("csv" in getattr(renderer, "media_type", "") for renderer in renderers):
            declared.add(route.name)
    return declared


def _cells(response: Any) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")) for cell in row]


def test_every_csv_export_is_found_and_seeded(world: World):
    found = _found_exports(world)
    assert set(found) >= _declared_exports(), "routes that declare CSV but never answered it"
    unknown = set(found) - set(SEEDERS)
    assert not unknown, f"CSV exports without a seeder here (add one that plants formulas in every column): {unknown}"
    assert set(SEEDERS) - set(found) == set(), "seeders for routes that no longer export CSV"
    assert {"deployment-audit-trail", "compliance-audit-log", "compliance-report"} <= set(found)


def test_every_csv_export_escapes_every_formula_cell(world: World):
    problems = []
    for name, options in _found_exports(world).items():
        route = next(r for r in GETS if r.name == name)
        SEEDERS[name](world)
        response = _fetch(world, route, **options)
        assert _is_csv(response), (name, response.status_code, response.content[:300])
        cells = _cells(response)
        unsafe = [c for c in cells if safe_cell(c) != c and not NUMBER.fullmatch(c)]
        missing = [v for v in FORMULAS if safe_cell(v) not in cells]
        if unsafe:
            problems.append(f"{name}: cells a spreadsheet would evaluate: {unsafe[:10]}")
        if missing:
            problems.append(f"{name}: planted values not exported as escaped cells: {missing}")
    assert not problems, "\n".join(problems)
