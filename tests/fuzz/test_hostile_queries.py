"""Hostile query strings on every GET route (issue 15, item 4).

The GET routes are walked from the URL conf (tests/tenancy/routes.py); each is called by a caller the
tenant matrix (tests/tenancy/matrix.py) lets in (a member of the organization, or staff where the route
is staff-only), so the query gets past authentication to the filters, the paginators and the database.
The parameters tried on a route are the ones its OpenAPI operation declares, plus `format`,
`page_size`, `cursor` and an undeclared one; each gets every hostile value below, one parameter at a
time, the matrix's own query kept for the others. For every call:
- never a 500; every error is {"code", "message", "details", "correlation_id"};
- U+0000 in a name or value, a malformed percent-escape or bytes that are not UTF-8 answer 400
  VALIDATION_ERROR with `details.reason` NUL_CHARACTER / INVALID_ENCODING and `details.parameter`
  naming the parameter (biatec/core/request_limits.py), on every route alike.
"""
from __future__ import annotations

import re
from functools import cache
from urllib.parse import quote

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.fuzz.hostile import DIGITS, checked_error
from tests.tenancy.matrix import MATRIX
from tests.tenancy.routes import Route, api_routes
from tests.tenancy.world import World

GETS = [route for route in api_routes() if "get" in route.methods]
ALWAYS_TRIED = ("format", "page_size", "cursor", "fuzz_undeclared")

# Values as they appear in the query string (already percent-encoded where the encoding is the point),
# and the refusal the shared check must give (None: the route's own validation decides, never a 500).
RAW_VALUES: dict[str, tuple[str, str | None]] = {
    "nul-inside": ("a%00b", "NUL_CHARACTER"),
    "nul-only": ("%00", "NUL_CHARACTER"),
    "nul-utf8-overlong": ("%C0%80", "INVALID_ENCODING"),
    "invalid-utf8": ("%FF%FE%C3%28", "INVALID_ENCODING"),
    "lone-surrogate-utf8": ("%ED%A0%80", "INVALID_ENCODING"),
    "truncated-utf8": ("%E2%82", "INVALID_ENCODING"),
    "malformed-escape": ("%zz", "INVALID_ENCODING"),
    "dangling-percent": ("100%", "INVALID_ENCODING"),
    "half-escape": ("%4", "INVALID_ENCODING"),
}
PLAIN_VALUES: dict[str, str] = {
    "digits-10000": DIGITS,
    "digits-10000-negative": "-" + DIGITS,
    "very-long-100k": "A" * 100_000,
    "confusable-cyrillic": "\u0410\u0441m\u0435",
    "confusable-fullwidth-digits": "\uff15\uff10",
    "bidi-override": "\u202eemca\u202c",
    "zero-width": "5\u200b0",
    "formula-cmd": "=cmd|' /C calc'!A0",
    "formula-plus": "+1+1",
    "formula-at": "@SUM(1+1)",
    "negative": "-1",
    "zero": "0",
    "huge": "99999999999999999999",
    "exponent": "1e9",
    "nan": "NaN",
    "empty": "",
    "spaces": "   ",
    "uuid-like-unknown": "00000000-0000-0000-0000-000000000000",
    "date-garbage": "2026-13-45T99:99:99",
}
VALUES = {**RAW_VALUES, **{label: (quote(value, safe=""), None) for label, value in PLAIN_VALUES.items()}}


@cache
def _declared_query_parameters() -> dict[str, list[str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path: [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            for path, ops in schema["paths"].items() for method, op in ops.items() if method == "get"}


def _schema_path(route: Route) -> str:
    return re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", "/" + route.pattern.removeprefix("^"))


def _caller(route: Route) -> str:
    call = MATRIX[route.name]["get"]
    for role in ("owner", "staff"):
        if call.expected(role) == 200:
            return role
    return "owner"  # a route nobody reads with 200 (the /api/ catch-all): the query is still checked


def test_every_get_route_is_walked():
    names = {route.name for route in GETS}
    assert {"deployment-list", "support-deployments", "compliance-audit-log", "webhook-deliveries",
            "deployment-audit-trail"} <= names
    assert len(GETS) >= 20


def test_nul_in_a_staff_lookup_is_a_400_not_a_500(world: World):
    response = world.clients["staff"].get("/api/v1/support/deployments?correlation_id=a%00b")
    body = checked_error(response, "support lookup")
    assert response.status_code == 400 and body is not None and body["code"] == "VALIDATION_ERROR"
    assert body["details"]["reason"] == "NUL_CHARACTER" and body["details"]["parameter"] == "correlation_id"
    assert "correlation_id" in body["details"]["fields"]


def test_nul_in_a_parameter_name_is_refused_and_named_escaped(world: World):
    body = checked_error(world.clients["owner"].get("/api/v1/token/deployments?ab%00c=1"), "name")
    assert body is not None and body["details"]["reason"] == "NUL_CHARACTER"
    assert body["details"]["parameter"] == "ab\\u0000c"


def test_well_formed_queries_still_pass(world: World):
    client = world.clients["owner"]
    assert client.get("/api/v1/token/deployments?correlation_id=a%20b+c&status=queued").status_code == 200
    assert client.get("/api/v1/token/deployments?correlation_id=%C3%A9t%C3%A9&page_size=5").status_code == 200
    assert client.get("/api/v1/networks?&&x").status_code == 200


@pytest.mark.parametrize("route", GETS, ids=[route.name for route in GETS])
def test_hostile_query_values_never_fail_the_server(world: World, route: Route):
    call = MATRIX[route.name]["get"]
    client = world.clients[_caller(route)]
    path = route.path(**{p: world.objects.get(p) or call.path[p] for p in route.parameters})
    base = call.query(world.objects) if call.query is not None else {}
    names = [*_declared_query_parameters().get(_schema_path(route), []), *ALWAYS_TRIED]
    problems = []
    for name in dict.fromkeys(names):
        for label, (value, reason) in VALUES.items():
            query = "&".join([*(f"{k}={quote(v, safe='')}" for k, v in base.items() if k != name), f"{name}={value}"])
            where = f"GET {route.pattern}?{name}=<{label}>"
            try:
                body = checked_error(client.get(f"{path}?{query}"), where)
                if reason is not None:
                    assert body is not None and body["code"] == "VALIDATION_ERROR", f"{where}: {body}"
                    assert body["details"]["reason"] == reason, f"{where}: {body['details']}"
                    assert body["details"]["parameter"] == name, f"{where}: {body['details']}"
            except AssertionError as exc:
                problems.append(str(exc)[:600])
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def test_every_operation_with_query_parameters_documents_400_validation_error():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    codes = schema["components"]["schemas"]["Error400CodeEnum"]["enum"]  # spectacular lifts the enum out
    assert "VALIDATION_ERROR" in codes
    missing = [f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method, op in ops.items()
               if any(p["in"] == "query" for p in op.get("parameters", [])) and "400" not in op["responses"]]
    assert not missing, missing


def test_outside_the_api_the_refusal_is_a_plain_400(world: World):
    response = world.clients["staff"].get("/admin/?q=a%00b")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
