"""Every error is rendered as {code, message, details, correlation_id} with the X-Correlation-ID."""
import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("biatec.core.tests.urls")]


def _assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details", "correlation_id"}
    assert body["code"] == code
    assert body["correlation_id"] == response["X-Correlation-ID"]
    return body


def test_unknown_api_path_is_json_404():
    _assert_envelope(Client().get("/api/v1/nope"), 404, "NOT_FOUND")


def test_wrong_method_is_405():
    _assert_envelope(Client().get("/api/test/echo"), 405, "METHOD_NOT_ALLOWED")


def test_invalid_body_is_validation_error_with_field_details():
    body = _assert_envelope(
        Client().post("/api/test/echo", {"amount": 0}, content_type="application/json"), 400, "VALIDATION_ERROR"
    )
    assert "amount" in body["details"]["fields"]


def test_malformed_json_is_validation_error():
    _assert_envelope(Client().post("/api/test/echo", "{not json", content_type="application/json"), 400,
                     "VALIDATION_ERROR")


def test_unhandled_exception_is_500_without_trace(json_logs):
    response = Client(raise_request_exception=False).get("/api/test/boom")
    body = _assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["message"] == "An internal error occurred."
    # the full trace goes to the log instead
    assert any("secret internals" in (line.get("exc_info") or "") for line in json_logs.lines())


def test_plain_django_500_under_api_is_json():
    response = Client(raise_request_exception=False).get("/api/test/plain-boom")
    _assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "plain view failure" not in response.content.decode()


def test_authentication_error_is_enveloped():
    _assert_envelope(Client().get("/api/v1/auth/profile"), 401, "NOT_AUTHENTICATED")
