"""Hostile request bodies on every write endpoint (issue 15, item 4).

The write endpoints are walked from the URL conf (tests/tenancy/routes.py), so a new one is fuzzed
without being listed; its valid body comes from the tenant matrix (tests/tenancy/matrix.py), which
already fails for a route without an entry. Each endpoint is called as the owner of the organization
whose objects it names (so the request gets past authentication and permissions to the parser, the
serializers, the services and the database) with:
- a 10 MB body: 413 REQUEST_TOO_LARGE, also for an anonymous caller (refused before parsing);
- bodies that are not acceptable JSON (10,000-deep nesting, invalid UTF-8, integers of 10,000
  digits, NaN / Infinity literals, raw NUL bytes...): 400 VALIDATION_ERROR;
- a valid body with one hostile value planted in one field at a time (NUL bytes, which PostgreSQL
  refuses in text, 10,000-digit strings, NaN / Infinity strings, unicode confusables, bidi
  overrides...): accepted or refused, never a 500.
Every error body is {"code", "message", "details", "correlation_id"}.

Schemathesis over the whole OpenAPI schema is tests/api_contract/test_schemathesis.py (not repeated
here); the CSV exports are tests/fuzz/test_csv_exports.py.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.fuzz.hostile import FIELD_VALUES, RAW_BODIES, TEN_MB, checked_error, leaf_paths, planted
from tests.tenancy.matrix import MATRIX
from tests.tenancy.routes import Route, api_write_routes
from tests.tenancy.world import World

WRITES = [(route, method) for route, method in api_write_routes()]
IDS = [f"{method.upper()} {route.name}" for route, method in WRITES]


def _path(route: Route, method: str, world: World) -> str:
    call = MATRIX[route.name][method]
    path = route.path(**{p: world.objects.get(p) or call.path[p] for p in route.parameters})
    if call.query is not None:
        path += "?" + "&".join(f"{k}={v}" for k, v in call.query(world.objects).items())
    return path


def _send(client: APIClient, route: Route, method: str, world: World, body: bytes) -> Any:
    """`body` as the route's own media type (JSON; text/csv for a CSV import: a hostile body is then a
    hostile file, which must answer 400 as well)."""
    content_type = MATRIX[route.name][method].content_type
    response = getattr(client, method)(_path(route, method, world), data=body, content_type=content_type)
    if response.status_code < 300:
        world.objects_new()  # the call may have cancelled or deleted the objects it named
    return response


def _shape(response: Any, where: str) -> str | None:
    body = checked_error(response, where)
    return None if body is None else body["code"]


def _template(route: Route, method: str, world: World) -> Any:
    call = MATRIX[route.name][method]
    body = call.body(world.objects) if call.body is not None else None
    return body if body else {"name": "Acme"}  # a body-less endpoint: any key is refused


def test_every_write_endpoint_of_every_app_is_fuzzed():
    names = {route.name for route, _ in WRITES}
    assert {"auth-register", "deployment-cancel", "compliance-evaluate", "webhook-subscription",
            "token-create-erc20-mintable", "token-create-arc3-nft"} <= names
    assert len(WRITES) >= 25


@pytest.mark.parametrize(("route", "method"), WRITES, ids=IDS)
def test_a_10_mb_body_answers_413_before_parsing(world: World, route: Route, method: str):
    body = b'{"name": "' + b"A" * TEN_MB + b'"}'
    for caller in ("owner", "anon"):
        response = _send(world.clients[caller], route, method, world, body)
        where = f"{method.upper()} {route.pattern} as {caller}"
        assert response.status_code == 413, f"{where}: {response.status_code} {response.content[:300]!r}"
        assert _shape(response, where) == "REQUEST_TOO_LARGE"


@pytest.mark.parametrize(("route", "method"), WRITES, ids=IDS)
def test_bodies_that_are_not_acceptable_json_answer_400(world: World, route: Route, method: str):
    # A path that names nothing answers 404 whatever the body (token/<unknown>/create), before the body
    # is read: a JSON array, never a valid body (`{}` is one for pause), finds that out. A valid body
    # may answer 404 later, for what the chain lacks (an operation on a token whose contract is not on
    # the node the suite runs): that comes after the body's validation, so a malformed one answers 400.
    probe = _send(world.clients["owner"], route, method, world, b"[]")
    expected = (404, _shape(probe, "array body")) if probe.status_code == 404 else (400, "VALIDATION_ERROR")
    problems = []
    for label, body in RAW_BODIES.items():
        response = _send(world.clients["owner"], route, method, world, body)
        where = f"{method.upper()} {route.pattern} with {label}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code} {response.content[:300]!r}")
            continue
        code = _shape(response, where)
        if method != "delete" and (response.status_code, code) != expected:  # DELETE takes no body
            problems.append(f"{where}: {response.status_code} {code} (expected {expected})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("route", "method"), WRITES, ids=IDS)
def test_hostile_values_in_every_field_never_fail_the_server(world: World, route: Route, method: str):
    template = _template(route, method, world)
    problems = []
    for path in leaf_paths(template):
        for label, value in FIELD_VALUES.items():
            body = json.dumps(planted(template, path, value)).encode()
            response = _send(world.clients["owner"], route, method, world, body)
            where = f"{method.upper()} {route.pattern} with {label} at {'.'.join(map(str, path))}"
            try:
                _shape(response, where)
            except AssertionError as exc:
                problems.append(str(exc))
    assert not problems, "\n".join(problems)
