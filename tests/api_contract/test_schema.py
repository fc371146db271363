"""The OpenAPI document describes every request and answer: a client generated from it never needs
our source (no untyped body, every error documented with its code enum, strict request bodies)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from biatec.core.schema import error_codes_by_status
from tokens.standards import STANDARDS

from .schema_walk import contract_problems, resolve, untyped_schemas

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def document(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    import json

    return json.loads(response.content)


def test_the_schema_has_no_contract_problem(document: dict) -> None:
    assert contract_problems(document) == []


def test_one_create_path_per_standard_with_its_own_strict_body(document: dict) -> None:
    for slug, spec in STANDARDS.items():
        operation = document["paths"][f"/api/v1/token/{slug}/create"]["post"]
        body = resolve(operation["requestBody"]["content"]["application/json"]["schema"], document)
        assert body["additionalProperties"] is False
        assert set(body["required"]) >= {"network", "name"}
        network = resolve(body["properties"]["network"].get("allOf", [body["properties"]["network"]])[0], document)
        assert network["enum"] == [n.slug for n in spec.networks()], slug
        assert set(body["properties"]) == set(spec.serializer().fields) | {"compliance_metadata"}
        assert {"202", "400", "401", "402", "403", "409", "422", "503"} <= set(operation["responses"])


def test_error_responses_carry_the_code_enum(document: dict) -> None:
    codes = error_codes_by_status()
    for status in ("400", "401", "404", "409", "422", "503"):
        schema = document["components"]["schemas"][f"Error{status}"]
        enum = resolve(schema["properties"]["code"]["allOf"][0], document)["enum"] \
            if "allOf" in schema["properties"]["code"] else schema["properties"]["code"]["enum"]
        assert enum == codes[int(status)]
    assert "NETWORK_UNAVAILABLE" in codes[503] and "INSUFFICIENT_FUNDS" in codes[402]
    assert "VALIDATION_ERROR" in codes[400] and "COMPLIANCE_VIOLATION" in codes[422]


def test_standard_is_an_enum_wherever_it_is_a_parameter_or_discriminator(document: dict) -> None:
    listing = document["paths"]["/api/v1/token/deployments"]["get"]
    standard = next(p for p in listing["parameters"] if p["name"] == "standard")
    assert sorted(resolve(standard["schema"], document)["enum"]) == sorted(STANDARDS)
    evaluate = resolve(document["paths"]["/api/v1/compliance/evaluate"]["post"]["requestBody"]["content"]
                       ["application/json"]["schema"], document)
    assert evaluate["discriminator"]["propertyName"] == "standard"
    assert len(evaluate["oneOf"]) == len(STANDARDS)


def test_the_walk_finds_planted_problems() -> None:
    planted = {
        "openapi": "3.0.3", "components": {"schemas": {"Loose": {"type": "object"}}},
        "paths": {"/api/x/{id}": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"type": "object",
                                                                         "properties": {"a": {}}}}}},
            "responses": {"200": {"description": "ok"}}}}},
    }
    problems = contract_problems(planted)
    assert any("bare object" in p for p in untyped_schemas(planted))
    assert any("empty schema" in p for p in problems)
    assert any("allows unknown properties" in p for p in problems)
    assert any("400 not documented" in p for p in problems)
    assert any("404 not documented" in p for p in problems)
    assert any("no body schema" in p for p in problems)
