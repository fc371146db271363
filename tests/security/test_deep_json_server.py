"""Defect: one unauthenticated request with a JSON body nested 100,000 deep (200 KB) killed the server
process (SIGSEGV in the C JSON decoder, because py_ecc had raised the recursion limit to 100000).

Against real server processes (`manage.py runserver --noreload`, and gunicorn with one sync worker as
in production; test settings, this test's database): the body answers 400 VALIDATION_ERROR, and the
same process (for gunicorn: the same worker, not a replacement) is still alive and answers /health/live."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
DEPTH = 100_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _command(kind: str, port: int) -> list[str]:
    if kind == "gunicorn":
        return [str(Path(sys.executable).with_name("gunicorn")), "biatec.wsgi:application", "--bind",
                f"127.0.0.1:{port}", "--workers", "1", "--graceful-timeout", "5"]
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]


def serving_pids(process: subprocess.Popen) -> set[int]:
    """The process and its children (gunicorn's worker): a replaced worker has a new pid."""
    parent = psutil.Process(process.pid)
    return {parent.pid, *(child.pid for child in parent.children(recursive=True))}


def start_server(root: Path, database_url: str, kind: str = "runserver") -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "biatec.settings.test", "DATABASE_URL": database_url,
           "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(_command(kind, port), cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/health/live", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.3)
    output = _stop(process)
    raise AssertionError(f"the server did not come up (exit {process.returncode}):\n{output}")


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    return process.stdout.read().decode(errors="replace") if process.stdout else ""


@pytest.fixture(params=["runserver", "gunicorn"])
def server(db, request) -> Iterator[tuple[subprocess.Popen, str]]:
    process, base = start_server(ROOT, _database_url(), request.param)
    try:
        yield process, base
    finally:
        _stop(process)


@pytest.mark.slow
def test_deeply_nested_json_answers_400_and_the_server_survives(server):
    process, base = server
    pids = serving_pids(process)
    body = b"[" * DEPTH + b"]" * DEPTH
    try:
        response = httpx.post(f"{base}/api/v1/auth/register", content=body,
                              headers={"Content-Type": "application/json"}, timeout=60)
    except httpx.TransportError as exc:  # the connection died with the process
        time.sleep(0.5)
        raise AssertionError(f"no answer ({exc!r}); server exit code {process.poll()}") from None
    assert response.status_code == 400, response.text[:500]
    payload = response.json()
    assert payload["code"] == "VALIDATION_ERROR"
    assert payload["details"]["reason"] == "JSON_TOO_DEEP"
    assert payload["correlation_id"] == response.headers["X-Correlation-ID"]
    nested_in_object = b'{"email": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    again = httpx.post(f"{base}/api/v1/auth/login", content=nested_in_object,
                       headers={"Content-Type": "application/json"}, timeout=60)
    assert again.status_code == 400 and again.json()["details"]["reason"] == "JSON_TOO_DEEP"
    assert process.poll() is None, "the server process died"
    live = httpx.get(f"{base}/health/live", timeout=10)
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert process.poll() is None
    assert serving_pids(process) == pids, "a worker process died and was replaced"
