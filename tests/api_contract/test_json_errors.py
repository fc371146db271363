"""Under /api/ every answer is the JSON error shape, whatever the settings module says about DEBUG."""
from __future__ import annotations

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
SHAPE = {"code", "message", "details", "correlation_id"}


def _json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == SHAPE and body["code"] == code


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_path_under_api_is_a_json_404(debug: bool) -> None:
    with override_settings(DEBUG=debug):
        for path in ("/api/nonexistent", "/api/v1/nope", "/api/v1/token/deployments/not-a-uuid"):
            _json_error(APIClient().get(path), 404, "NOT_FOUND")


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_standard_is_a_json_404(debug: bool, user_factory) -> None:
    _, client = user_factory("json.errors")
    with override_settings(DEBUG=debug):
        _json_error(client.post("/api/v1/token/erc99-magic/create", {}, format="json"), 404, "UNSUPPORTED_STANDARD")


@pytest.mark.parametrize("debug", [True, False])
def test_a_wrong_method_is_a_json_405(debug: bool) -> None:
    with override_settings(DEBUG=debug):
        _json_error(APIClient().get("/api/v1/auth/register"), 405, "METHOD_NOT_ALLOWED")


def test_an_unhandled_error_in_a_view_is_a_json_500_with_debug_on(user_factory, monkeypatch) -> None:
    from deployments import selectors

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "deployment_list", explode)
    _, client = user_factory("json.errors.500")
    client.raise_request_exception = False
    with override_settings(DEBUG=True):
        _json_error(client.get("/api/v1/token/deployments"), 500, "INTERNAL_ERROR")


@pytest.mark.urls("tests.api_contract.urls_plain_views")
def test_django_own_error_pages_under_api_are_json_with_debug_on() -> None:
    client = Client(raise_request_exception=False, enforce_csrf_checks=True)
    with override_settings(DEBUG=True):
        _json_error(client.get("/api/plain/boom"), 500, "INTERNAL_ERROR")
        _json_error(client.post("/api/plain/form", {"a": "b"}), 403, "PERMISSION_DENIED")
    assert Client(enforce_csrf_checks=True).post("/admin/login/", {}).status_code == 403  # HTML elsewhere
