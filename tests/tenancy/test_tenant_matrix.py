"""Tenant and role matrix generated from the URL conf (issue 15, item 3).

Every route under /api/ is found by walking the URL resolver (tests/tenancy/routes.py) and every
method it implements is called by each caller of tests/tenancy/world.py, against objects of
organization X, with the answer each caller must get taken from the committed matrix
(tests/tenancy/matrix.py). For every call:
- the status is the matrix's; never 500; every error body is {code, message, details, correlation_id};
- a non-member of X or an anonymous client never sees any identifier of X in the answer (ids,
  e-mails, addresses, correlation ids), whatever the status;
- a non-member gets for X's object exactly what it gets for an id that does not exist (no oracle);
- a refused write leaves X's deployments, subscriptions, deliveries, memberships as they were.
A walked route without an entry, or an entry for a route that no longer exists, fails.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.tenancy.matrix import MATRIX, Call, Expected
from tests.tenancy.routes import WRITE_METHODS, Route, api_routes
from tests.tenancy.world import ROLES, World

ERROR_KEYS = {"code", "message", "details", "correlation_id"}
ROUTES = {route.name: route for route in api_routes()}
CASES = [(name, method) for name, route in ROUTES.items() for method in route.methods]


def test_every_walked_route_has_a_matrix_entry_and_no_entry_is_stale():
    walked = {name: sorted(route.methods) for name, route in ROUTES.items()}
    committed = {name: sorted(methods) for name, methods in MATRIX.items()}
    assert walked.keys() - committed.keys() == set(), "routes without a tenant/role matrix entry"
    assert committed.keys() - walked.keys() == set(), "matrix entries for routes that no longer exist"
    assert walked == committed, "the matrix must name exactly the methods each route implements"


def test_the_walk_finds_routes_of_every_app():
    prefixes = {route.pattern.split("/")[2] for route in ROUTES.values() if route.pattern.startswith("api/v1/")}
    assert prefixes >= {"auth", "account", "networks", "token", "support", "compliance", "webhooks"}
    assert len(ROUTES) >= 40


def _matches(status: int, expected: Expected) -> bool:
    return status in expected if isinstance(expected, frozenset) else status == expected


def _call(client: APIClient, route: Route, method: str, call: Call, objects: dict[str, str]) -> Any:
    values = {name: objects.get(name) or call.path[name] for name in route.parameters}
    path = route.path(**values)
    if call.query is not None:
        path += "?" + "&".join(f"{k}={v}" for k, v in call.query(objects).items())
    body = call.body(objects) if call.body is not None else None
    if method == "get":
        return client.get(path)
    if call.content_type != "application/json":
        return getattr(client, method)(path, data=body, content_type=call.content_type)
    return getattr(client, method)(path, data=json.dumps(body) if body is not None else None,
                                   content_type="application/json")


def _error_code(response: Any) -> str | None:
    if response.status_code < 400:
        return None
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["correlation_id"] == response["X-Correlation-ID"]
    return body["code"]


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{m.upper()} {n}" for n, m in CASES])
def test_tenant_and_role_matrix(world: World, name: str, method: str):
    route, call = ROUTES[name], MATRIX[name][method]
    problems = []
    for role in ROLES:
        objects = world.objects_new()
        before = world.fingerprint()
        response = _call(world.clients[role], route, method, call, objects)
        status, expected = response.status_code, call.expected(role)
        where = f"{method.upper()} {route.path(**{p: objects.get(p, p) for p in route.parameters})} as {role}"
        if status >= 500 or not _matches(status, expected):
            problems.append(f"{where}: {status} (expected {expected}) {response.content[:300]!r}")
            continue
        code = _error_code(response)
        if role in ("other", "anon", "staff") and name != "support-deployments":
            content = response.content.decode("utf-8", "replace")
            leaked = [s for s in world.secrets if s in content]
            if leaked:
                problems.append(f"{where}: the answer names organization X's {leaked}")
        if role in ("other", "staff") and status == 404 and route.parameters:
            unknown = {**objects, **{p: str(uuid.uuid4()) for p in route.parameters if p.endswith("_id")}}
            twin = _call(world.clients[role], route, method, call, unknown)
            if (twin.status_code, _error_code(twin)) != (status, code):
                problems.append(f"{where}: X's object answers {status} {code}, an unknown id "
                                f"{twin.status_code} {_error_code(twin)}")
        if method in WRITE_METHODS and status >= 400 and world.fingerprint() != before:
            problems.append(f"{where}: refused with {status} but changed organization X's objects")
    assert not problems, "\n".join(problems)
