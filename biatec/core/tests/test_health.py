"""Health probes, metrics, OpenAPI, and the production deploy check."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.django_db


def test_live_touches_nothing():
    response = Client().get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_startup():
    assert Client().get("/health/startup").status_code == 200


def test_ready_with_database_and_broker():
    response = Client().get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    assert body["checks"]["broker"] == "ok"  # the real Redis of the test settings


def _ready_in_subprocess(extra_env: dict) -> tuple[int, dict]:
    code = (
        "import django, json; django.setup();"
        "from django.test import Client; r = Client().get('/health/ready');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "biatec.settings.test", **extra_env}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["status"], result["body"]


def test_ready_is_503_naming_database_when_unreachable():
    status, body = _ready_in_subprocess({"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing"})
    assert status == 503
    assert "database" in body["failing"]


def test_ready_is_503_naming_broker_when_unreachable():
    from django.db import connection

    test_db = connection.settings_dict["NAME"]
    status, body = _ready_in_subprocess({"REDIS_URL": "redis://127.0.0.1:1/0",
                                         "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{test_db}"})
    assert status == 503
    assert body["failing"] == ["broker"]


def test_metrics_exposition():
    Client().get("/health/live")
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_openapi_schema_and_offline_swagger():
    schema = Client().get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/auth/register" in schema.content
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "swagger-ui" in html


def test_admin_login_page():
    assert Client().get("/admin/login/").status_code == 200


def test_check_deploy_with_production_settings_and_example_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS", "KEY_", "JWT"))}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key] = value
    env["DJANGO_SETTINGS_MODULE"] = "biatec.settings.production"
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
