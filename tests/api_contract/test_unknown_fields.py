"""Every write endpoint refuses unknown fields, naming each one (never silently ignores them).

The endpoints are walked from the URL conf, so a new write endpoint is covered the day it is added."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import User
from compliance.models import AllowListEntry, BlockListEntry
from deployments.models import ApprovalRequest, Deployment, Operation
from deployments.tests.factories import DeploymentFactory, operation_of, token_of
from tokens.standards import STANDARDS
from webhooks.services import webhook_subscription_create, webhook_subscription_test

pytestmark = pytest.mark.django_db
UNKNOWN = {"zz_unknown_field": 1, "vesting_schedule": True}
WRITE_METHODS = ("post", "put", "patch")
NOT_WALKED = {
    # The fallback for slugs that are not standards: it answers 404 UNSUPPORTED_STANDARD to every body.
    "api/v1/token/<str:standard>/create",
}
# Endpoints that take a file, not JSON (a JSON body is 415): their form fields are the ones checked.
MULTIPART = {"api/v1/tokens/<uuid:token_id>/allowlist/import"}


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def write_endpoints() -> list[tuple[str, str]]:
    found = []
    for route, callback in _routes(get_resolver().url_patterns):
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if not route.startswith("api/v1/") or view is None or route in NOT_WALKED:
            continue
        found += [(route, method) for method in WRITE_METHODS if hasattr(view, method)]
    return found


@pytest.fixture
def objects(user_factory, settings) -> dict[str, str]:
    # Nothing here reaches a node: unknown fields are refused before any network question.
    settings.CHAIN_NODES = {"evm-local": {"url": "http://127.0.0.1:1"},
                            "algorand-localnet": {"url": "http://127.0.0.1:1", "token": "x"}}
    body, client = user_factory("unknown.fields")
    user = User.objects.get(pk=body["id"])
    organization = user.memberships.get().organization
    deployment: Deployment = DeploymentFactory(organization=organization, creator=user)
    subscription, _ = webhook_subscription_create(organization=organization, actor=user,
                                                  url="http://127.0.0.1:9/hook", event_types=["*"])
    delivery = webhook_subscription_test(subscription=subscription, actor=user)  # not sent: no commit here
    # One token per family, so that every operation kind reaches its body's validation.
    evm_token = token_of(DeploymentFactory(organization=organization, creator=user, status="completed"))
    asa_token = token_of(DeploymentFactory(organization=organization, creator=user, status="completed",
                                           standard="asa-ft", network="algorand-localnet"), standard="asa-ft")
    operation = operation_of(evm_token, creator=user)
    entry = AllowListEntry.objects.create(organization=organization, token=evm_token,
                                          address=evm_token.issuer_address, added_by="test")
    block = BlockListEntry.objects.create(organization=organization, address=evm_token.issuer_address,
                                          category="fraud", effective_from=entry.created_at, added_by="test")
    approval = ApprovalRequest.objects.create(  # a four-eyes request (the owner may approve: the body comes first)
        organization=organization, token=evm_token, kind="transfer", payload={}, gated_by="kind", requested_by=user,
        expires_at=timezone.now() + timedelta(hours=1))
    return {"client": client, "deployment_id": str(deployment.pk), "approval_id": str(approval.pk),
            "subscription_id": str(subscription.pk),
            "delivery_id": str(delivery.pk), "organization_id": str(organization.pk),
            "token_id": str(evm_token.pk), "asa_token_id": str(asa_token.pk), "operation_id": str(operation.pk),
            "entry_id": str(entry.pk), "block_id": str(block.pk), "membership_id": str(user.memberships.get().pk)}


def _objects_for(route: str, objects: dict[str, Any]) -> dict[str, Any]:
    """An operation kind the ERC-20 token does not support is sent to the asset."""
    match = re.fullmatch(r"api/v1/tokens/<uuid:token_id>/operations/([a-z_]+)", route)
    if match and match.group(1) not in STANDARDS["erc20-mintable"].operations:
        return {**objects, "token_id": objects["asa_token_id"]}
    return objects


def _url(route: str, objects: dict[str, Any]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: objects[m.group(1)], route)


def _body(route: str) -> dict[str, Any]:
    """A body valid but for the unknown fields where the endpoint validates in stages."""
    match = re.fullmatch(r"api/v1/token/([a-z0-9-]+)/create", route)
    if match:
        return {**STANDARDS[match.group(1)].example_request(), **UNKNOWN}
    if route == "api/v1/compliance/evaluate":
        return {"standard": "erc20-mintable", **STANDARDS["erc20-mintable"].example_request(), **UNKNOWN}
    return dict(UNKNOWN)


def test_the_walk_finds_every_kind_of_write_endpoint() -> None:
    routes = {route for route, _ in write_endpoints()}
    assert "api/v1/auth/register" in routes and "api/v1/webhooks/subscriptions/<uuid:subscription_id>" in routes
    assert {f"api/v1/token/{slug}/create" for slug in STANDARDS} <= routes
    assert len(routes) >= 25


@pytest.mark.parametrize(("route", "method"), write_endpoints())
def test_unknown_fields_are_refused_by_name(objects: dict[str, Any], route: str, method: str) -> None:
    response = getattr(objects["client"], method)(_url(route, _objects_for(route, objects)), _body(route),
                                                  format="multipart" if route in MULTIPART else "json")
    assert response.status_code == 400, (route, method, response.content)
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert set(UNKNOWN) <= set(body["details"]["fields"]), body
    assert not Deployment.objects.exclude(status="completed").exclude(pk=objects["deployment_id"]).exists()
    assert Operation.objects.count() == 1  # the fixture's
