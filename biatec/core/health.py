"""Health probes with JSON bodies. `live` touches nothing; `ready` checks the database, applied
migrations and (in Redis mode) the broker, naming the failing check in a 503."""
from __future__ import annotations

import time
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

_STARTED_AT = time.time()


def _check_database() -> str | None:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        return f"database unreachable: {type(exc).__name__}"
    return None


def _check_migrations() -> str | None:
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return f"migrations unknown: {type(exc).__name__}"
    return f"{len(plan)} migrations not applied" if plan else None


def _check_broker() -> str | None:
    if not getattr(settings, "HEALTH_CHECK_BROKER", False):
        return None
    try:
        with current_app.connection_for_write() as conn:  # the project's app (biatec.celery)
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker unreachable: {type(exc).__name__}"
    return None


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def startup(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "uptime_seconds": round(time.time() - _STARTED_AT, 1)})


def ready(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {}
    failing: list[str] = []
    database_error = _check_database()
    checks["database"] = database_error or "ok"
    if database_error:
        failing.append("database")
        checks["migrations"] = "skipped"
    else:
        migrations_error = _check_migrations()
        checks["migrations"] = migrations_error or "ok"
        if migrations_error:
            failing.append("migrations")
    broker_error = _check_broker()
    checks["broker"] = broker_error or ("ok" if settings.HEALTH_CHECK_BROKER else "not used")
    if broker_error:
        failing.append("broker")
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)
