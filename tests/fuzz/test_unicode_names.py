"""Unicode confusables, bidi overrides, zero-width and combining characters in names (issue 15 item
4; the decision is docs/decisions/0015-unicode-names-stored-as-accepted.md): never a 500, stored
exactly as accepted (no NFKC, no stripping), answered back exactly in JSON, and rendered escaped in
the admin and in CSV exports. Token names need a chain node (a create without one stops before it
stores anything), so that part runs with anvil."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from biatec.core.csv_export import safe_cell
from deployments.models import Deployment
from tests.fuzz.hostile import FIELD_VALUES, checked_error
from tests.otp import otp_force_login
from tests.tenancy.world import World
from webhooks.models import WebhookSubscription

NAMES = {label: FIELD_VALUES[label] for label in (
    "confusable-cyrillic", "confusable-fullwidth", "bidi-override", "zero-width", "combining-marks", "astral-emoji")}
NAMES["combining-marks"] = "A" + "\u0301" * 50  # the fuzz value's 501 characters exceed the columns
NAMES["markup-and-confusable"] = "<script>alert(1)</script>\u0410\u0441m\u0435"
NAMES["formula-confusable"] = "\uff1dHYPERLINK(1)"  # full-width '=' (a spreadsheet may fold it)
ERC20 = {"network": "evm-local", "symbol": "ACME", "decimals": 18, "initial_supply": "1000", "cap": "5000"}


def _admin(world: World) -> Client:
    staff = User.objects.get(email="tenancy.staff@example.com")
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client = Client()
    otp_force_login(client, staff)
    return client


@pytest.mark.parametrize("label", NAMES)
def test_webhook_descriptions_are_stored_and_answered_exactly(world: World, label: str):
    value = NAMES[label]
    client = world.clients["owner"]
    created = client.post("/api/v1/webhooks/subscriptions", data=json.dumps(
        {"url": "http://127.0.0.1:9/u", "event_types": ["*"], "description": value}), content_type="application/json")
    assert checked_error(created, label) is None, created.content
    pk = created.json()["id"]
    assert WebhookSubscription.objects.get(pk=pk).description == value
    assert client.get(f"/api/v1/webhooks/subscriptions/{pk}").json()["description"] == value
    patched = client.patch(f"/api/v1/webhooks/subscriptions/{pk}", data=json.dumps({"description": value[::-1]}),
                           content_type="application/json")
    assert checked_error(patched, label) is None and patched.json()["description"] == value[::-1]
    assert WebhookSubscription.objects.get(pk=pk).description == value[::-1]


def test_the_admin_renders_hostile_names_escaped(world: World):
    subscription = WebhookSubscription.objects.get(pk=world.objects["subscription_id"])
    subscription.description = NAMES["markup-and-confusable"]
    subscription.save(update_fields=["description"])
    page = _admin(world).get(reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\u0410\u0441m\u0435" in html


def test_a_full_width_formula_is_escaped_in_csv():
    assert safe_cell(NAMES["formula-confusable"]) == "'" + NAMES["formula-confusable"]


@pytest.mark.chain
@pytest.mark.usefixtures("anvil_node")
@pytest.mark.parametrize("label", NAMES)
def test_token_names_are_stored_and_answered_exactly(world: World, label: str):
    value = NAMES[label]
    client = world.clients["owner"]
    created = client.post("/api/v1/token/erc20-mintable/create", data=json.dumps({**ERC20, "name": value}),
                          content_type="application/json")
    if checked_error(created, label) is not None:  # refused (e.g. too long on chain): cleanly, nothing stored
        assert created.status_code == 400 and created.json()["code"] == "VALIDATION_ERROR", created.content
        return
    assert created.status_code == 202, created.content
    deployment = Deployment.objects.get(pk=created.json()["id"])
    assert deployment.request["name"] == value
    detail = client.get(f"/api/v1/token/deployments/{deployment.pk}").json()
    assert value in json.dumps(detail, ensure_ascii=False)
    page = _admin(world).get(reverse("admin:deployments_deployment_change", args=[deployment.pk]))
    assert page.status_code == 200 and b"<script>alert(1)</script>" not in page.content
