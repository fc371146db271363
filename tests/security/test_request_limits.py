"""Request size and JSON nesting limits: 413 REQUEST_TOO_LARGE over DATA_UPLOAD_MAX_MEMORY_SIZE, 400
VALIDATION_ERROR for JSON nested deeper than JSON_MAX_DEPTH, a sane recursion limit after the chain
libraries are imported. (The crash itself is tested against a real server in test_deep_json_server.py.)"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import RequestDataTooBig
from django.test import Client

from biatec.core.exception_handler import application_exception_handler
from biatec.core.parsers import json_depth_exceeds
from biatec.core.runtime_limits import check_recursion_limit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
REGISTER = "/api/v1/auth/register"


def _assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details", "correlation_id"}
    assert body["code"] == code and body["correlation_id"] == response["X-Correlation-ID"]
    return body


def test_body_over_the_upload_limit_answers_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"email": "big@example.com", "password": "' + b"x" * 2000 + b'"}'
    response = Client(raise_request_exception=False).post(REGISTER, data=body, content_type="application/json")
    assert _assert_error_shape(response, 413, "REQUEST_TOO_LARGE")["details"] == {"max_bytes": 1000}


def test_default_limit_applies_to_a_3_mb_body():
    body = b'{"email": "big@example.com", "password": "' + b"x" * 3_000_000 + b'"}'
    response = Client(raise_request_exception=False).post(REGISTER, data=body, content_type="application/json")
    _assert_error_shape(response, 413, "REQUEST_TOO_LARGE")


def test_request_data_too_big_raised_inside_a_view_maps_to_413(settings):
    response = application_exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert response.data["code"] == "REQUEST_TOO_LARGE"
    assert response.data["details"] == {"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_json_nested_deeper_than_the_limit_answers_400(depth):
    body = "[" * depth + "]" * depth
    response = Client().post(REGISTER, data=body, content_type="application/json")
    details = _assert_error_shape(response, 400, "VALIDATION_ERROR")["details"]
    assert details["reason"] == "JSON_TOO_DEEP" and details["max_depth"] == 64
    assert "nested deeper than 64" in response.json()["message"]


def test_nesting_within_the_limit_and_brackets_inside_strings_are_parsed(settings):
    nested = '{"email": "a@example.com", "password": 1, "x": ' + "[" * 60 + "]" * 60 + "}"
    response = Client().post(REGISTER, data=nested, content_type="application/json")
    assert response.status_code == 400 and "reason" not in response.json()["details"]
    in_string = '{"email": "' + "[{" * 5000 + '\\"[[", "password": 1}'
    response = Client().post(REGISTER, data=in_string, content_type="application/json")
    assert response.status_code == 400 and "reason" not in response.json()["details"]
    assert "email" in response.json()["details"]["fields"]  # decoded and validated as a normal body


def test_malformed_json_is_still_a_parse_error():
    response = Client().post(REGISTER, data='{"email": ', content_type="application/json")
    body = _assert_error_shape(response, 400, "VALIDATION_ERROR")
    assert "reason" not in body["details"]


@pytest.mark.parametrize(("text", "exceeds"), [
    ("[" * 64 + "]" * 64, False), ("[" * 65 + "]" * 65, True), ('{"a": "' + "[" * 100 + '"}', False),
    ('["\\\\", ' + "[" * 64 + "]" * 64 + "]", True), ('"\\"[[[["' + "[" * 3, False), ("{" * 65, True),
    ('[{"a": [{"b": []}]}]', False),
])
def test_depth_scan(text, exceeds):
    assert json_depth_exceeds(text, 64) is exceeds


def test_recursion_limit_is_restored_after_the_chain_libraries_are_imported():
    import eth_account  # noqa: F401
    import py_ecc  # noqa: F401
    import web3  # noqa: F401

    assert sys.getrecursionlimit() == 1000
    assert check_recursion_limit() == []


def test_system_check_fails_when_the_limit_is_raised_again():
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(100000)
    try:
        errors = check_recursion_limit()
    finally:
        sys.setrecursionlimit(previous)
    assert [e.id for e in errors] == ["biatec.core.E001"] and errors[0].level == checks.ERROR


@pytest.mark.parametrize("startup", [
    "import django; django.setup()",  # what the WSGI application, manage.py and tests run
    "from biatec.celery import app; app.loader.init_worker()",  # what a Celery worker or beat runs
])
def test_a_fresh_process_has_the_sane_limit_after_startup_even_if_chain_libraries_come_later(startup):
    code = f"{startup}\nimport sys, web3, eth_account, py_ecc\nprint(sys.getrecursionlimit())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "biatec.settings.test"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "1000"
