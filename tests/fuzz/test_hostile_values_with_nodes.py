"""Hostile values that pass the request checks must still never fail the server where they are
stored (issue 15, item 4).

Without a chain node a create stops at 400 NETWORK_UNAVAILABLE, before anything is written; here the
local nodes answer (anvil, the Algorand devnet), so a create gets as far as a 202 and its row, and a
value that survives validation reaches PostgreSQL (which refuses NUL in text and in jsonb). The
create endpoints are walked from the URL conf; each valid body is its standard's example plus a full
compliance profile, with one hostile value (those that can survive validation: tests/fuzz/hostile.py
STORED_VALUES) planted in one field at a time. No deployment runs (no
on-commit callbacks in these tests), so nothing is sent to the nodes beyond the preflight questions.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fuzz.hostile import ERROR_KEYS, STORED_VALUES, leaf_paths, planted
from tests.tenancy.routes import api_write_routes
from tests.tenancy.world import World, world_kept
from tokens.standards import STANDARDS

pytestmark = [pytest.mark.chain, pytest.mark.slow]  # ~1 min: one create per field and value

PROFILE = {
    "issuer_legal_name": "Example Issuer GmbH", "issuer_lei": "5493001KJTIIGC8Y1R12", "issuer_country": "DE",
    "token_classification": "utility", "offer_to_public_eu": True, "member_states": ["DE", "FR"],
    "expected_total_consideration_eur": "5000000", "offerees_per_member_state": {"DE": 1000, "FR": 400},
    "white_paper_url": "https://issuer.example/wp.pdf", "white_paper_sha256": "ab" * 32,
    "white_paper_publication_date": "2099-06-01", "competent_authority": "BaFin", "notification_date": "2099-01-05",
}
CREATES = [route for route, method in api_write_routes()
           if method == "post" and route.name.startswith("token-create-")]
EVALUATE = [route for route, method in api_write_routes() if route.name == "compliance-evaluate"]


@pytest.fixture(scope="module")
def kept_world(django_db_setup, django_db_blocker, anvil_node, algod_devnet_node) -> Iterator[World]:
    with world_kept(django_db_blocker) as world:
        yield world


@pytest.fixture
def world(kept_world: World, db) -> World:
    return kept_world


def _check(response, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code} {response.content[:500]!r}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == ERROR_KEYS, f"{where}: {body}"


def _fuzz(client, path: str, template: dict) -> list[str]:
    problems = []
    for field_path in leaf_paths(template):
        for label, value in STORED_VALUES.items():
            response = client.post(path, data=json.dumps(planted(template, field_path, value)),
                                   content_type="application/json")
            try:
                _check(response, f"POST {path} with {label} at {'.'.join(map(str, field_path))}")
            except AssertionError as exc:
                problems.append(str(exc))
    return problems


def test_the_walk_finds_every_standard():
    assert {route.name.removeprefix("token-create-") for route in CREATES} == set(STANDARDS)


@pytest.mark.parametrize("route", CREATES, ids=[r.name for r in CREATES])
def test_hostile_values_in_a_create_that_gets_to_the_database(world: World, route):
    slug = route.name.removeprefix("token-create-")
    template = {**STANDARDS[slug].example_request(), "compliance_metadata": PROFILE}
    client = world.clients["owner"]
    valid = client.post(route.path(), data=json.dumps(template), content_type="application/json")
    assert valid.status_code == 202, valid.content  # the baseline gets to the database
    problems = _fuzz(client, route.path(), template)
    assert not problems, "\n".join(problems)


def test_hostile_values_in_a_compliance_evaluation(world: World):
    (route,) = EVALUATE
    template = {"standard": "erc20-mintable", **STANDARDS["erc20-mintable"].example_request(),
                "compliance_metadata": PROFILE}
    client = world.clients["owner"]
    valid = client.post(route.path(), data=json.dumps(template), content_type="application/json")
    assert valid.status_code == 200, valid.content
    problems = _fuzz(client, route.path(), template)
    assert not problems, "\n".join(problems)
