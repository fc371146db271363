"""Schemathesis over the whole OpenAPI schema, in-process (WSGI) against the test stack (PostgreSQL,
Redis, the local chain nodes), authenticated as a member with a real deployment and webhook
subscription: 0 answers with a 5xx status, 0 answers that do not match the schema (status code,
content type, headers, body). Positive and negative data; examples per operation are bounded
(`SCHEMATHESIS_MAX_EXAMPLES`, default 15) so the run stays within a few minutes.

Path parameters are drawn at random (404s); the `map_path_parameters` hook swaps in the ids of the
member's real objects for about half of the examples, so the operations behind a valid id are fuzzed
too (the schema has no OpenAPI links for a stateful run; the ids stand in for them)."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from deployments.tests.factories import DeploymentFactory
from webhooks.services import webhook_subscription_create, webhook_subscription_test

pytestmark = [pytest.mark.slow, pytest.mark.chain, pytest.mark.django_db]
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
KNOWN: dict[str, str] = {}


def _document() -> dict[str, Any]:
    """The schema exactly as /api/schema/ serves it (generated at collection: parametrizing needs it)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(_document())
schema.app = get_wsgi_application()


@contextmanager
def _test_database_connection_stays_open() -> Iterator[None]:
    """Requests go through the real WSGI handler; as Django's test client does, keep it from closing
    the test's database connection at the end of each request (entered per call: the test client of
    the fixtures reconnects the handler after each of its own requests)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def member(user_factory: Any) -> dict[str, str]:
    """A signed-up owner with one deployment, one subscription and one delivery; its bearer header."""
    body, _ = user_factory("fuzz.owner")
    user = User.objects.get(pk=body["id"])
    organization = user.memberships.get().organization
    deployment = DeploymentFactory(organization=organization, creator=user)
    subscription, _ = webhook_subscription_create(organization=organization, actor=user,
                                                  url="http://127.0.0.1:9/hook", event_types=["*"])
    delivery = webhook_subscription_test(subscription=subscription, actor=user)
    KNOWN.update(deployment_id=str(deployment.pk), subscription_id=str(subscription.pk),
                 delivery_id=str(delivery.pk), organization_id=str(organization.pk))
    return {"Authorization": f"Bearer {body['tokens']['access']}"}


@schemathesis.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """About half of the examples use the member's real objects."""
    if not path_parameters or not KNOWN:
        return path_parameters
    if hash(tuple(sorted(map(str, path_parameters.values())))) % 2:
        return {key: KNOWN.get(key, value) for key, value in path_parameters.items()}
    return path_parameters


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema(case: Any, member: dict[str, str], anvil_node: Any,
                                                   algod_devnet_node: Any) -> None:
    with _test_database_connection_stays_open():
        case.call_and_validate(headers=member, checks=CHECKS)
