"""Correlation IDs (echo, replacement, logs, Celery) and JSON log hygiene."""
import json
import logging

import pytest
from django.test import Client

from biatec.core.correlation import reset_correlation_id, set_correlation_id
from biatec.core.tasks import ping

pytestmark = pytest.mark.django_db


def test_valid_incoming_id_is_echoed(json_logs):
    response = Client().get("/api/v1/nope", HTTP_X_CORRELATION_ID="req-123.abc_DEF")
    assert response["X-Correlation-ID"] == "req-123.abc_DEF"
    assert response.json()["correlation_id"] == "req-123.abc_DEF"
    request_lines = [line for line in json_logs.lines() if line["logger"] == "biatec.request"]
    assert request_lines and request_lines[-1]["correlation_id"] == "req-123.abc_DEF"
    assert request_lines[-1]["path"] == "/api/v1/nope"


@pytest.mark.parametrize("bad", ["abc\r\nInjected: 1", "x" * 65, "has space", "semi;colon"])
def test_invalid_incoming_id_is_replaced(bad):
    response = Client().get("/health/live", HTTP_X_CORRELATION_ID=bad)
    cid = response["X-Correlation-ID"]
    assert cid != bad and len(cid) == 36 and "\n" not in cid


def test_generated_when_absent_and_on_health():
    response = Client().get("/health/live")
    assert len(response["X-Correlation-ID"]) == 36


def test_celery_task_log_line_carries_the_correlation_id(json_logs, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    token = set_correlation_id("cid-from-request-42")
    try:
        result = ping.delay("hello")
    finally:
        reset_correlation_id(token)
    assert result.get() == "cid-from-request-42"
    lines = [line for line in json_logs.lines() if line["message"] == "ping task ran"]
    assert lines and lines[-1]["correlation_id"] == "cid-from-request-42"


def test_task_restores_correlation_id_from_message_header(json_logs):
    """What a worker sees: the ID arrives as a message header, not from the caller's context."""
    result = ping.apply(args=["via header"], headers={"biatec_correlation_id": "cid-in-header-7"})
    assert result.get() == "cid-in-header-7"
    lines = [line for line in json_logs.lines() if line["message"] == "ping task ran"]
    assert lines[-1]["correlation_id"] == "cid-in-header-7"


def test_redaction_of_secret_extras(json_logs):
    logging.getLogger("biatec.test").info(
        "user did a thing", extra={"password": "hunter2-very-secret", "mnemonic": "abandon " * 24,
                                   "details": {"private_key": "0xdeadbeef", "ok": 1}, "amount": 5},
    )
    line = json_logs.lines()[-1]
    assert line["password"] == "[REDACTED]"
    assert line["mnemonic"] == "[REDACTED]"
    assert line["details"] == {"private_key": "[REDACTED]", "ok": 1}
    assert line["amount"] == 5
    assert "hunter2" not in json_logs.text and "deadbeef" not in json_logs.text


def test_control_characters_cannot_forge_log_lines(json_logs):
    logging.getLogger("biatec.test").warning("value: %s", "evil\r\n{\"level\": \"CRITICAL\"}",
                                             extra={"path": "/a\nb"})
    raw_lines = json_logs.text.splitlines()
    assert len(raw_lines) == 1
    parsed = json.loads(raw_lines[0])
    assert "\n" not in parsed["message"] and "\\x0a" in parsed["message"]
    assert parsed["path"] == "/a\\x0ab"
