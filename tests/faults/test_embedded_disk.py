"""The embedded default (SQLite under BIATEC_VAR_DIR, biatec/settings/local.py) on a read-only and on a
full file system (issue 15, fault suite). The var directory is a small tmpfs of this test (mounting
needs root; skipped otherwise), the web process a real gunicorn with the local settings, broker and
cache a private redis-server. Writes are refused in the error shape {code, message, details,
correlation_id} as JSON (never an HTML page or a trace), and nothing is half-written: once the disk
is writable again every table holds exactly the rows it held before the refused requests.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.procs import ROOT, RedisServer, WebServer

pytestmark = [pytest.mark.slow, pytest.mark.faults]
ERROR_KEYS = {"code", "message", "details", "correlation_id"}
PASSWORD = "correct horse battery staple 42!"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def var_mount() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = Path(tempfile.mkdtemp(prefix="biatec-faults-var-"))
    try:
        _mount("-t", "tmpfs", "-o", "size=48m", "tmpfs", str(path))
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        path.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
        with contextlib.suppress(OSError):
            path.rmdir()


def _embedded_env(var: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_", "CELERY_"))}
    return {**env, "DJANGO_SETTINGS_MODULE": "biatec.settings.local", "BIATEC_VAR_DIR": str(var),
            "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url, "CACHE_URL": redis_url, "PYTHONUNBUFFERED": "1"}


def _row_counts(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


def _register(web: WebServer) -> tuple[int, object]:
    return web.call("POST", "/api/v1/auth/register", {"email": f"disk.{uuid.uuid4().hex[:8]}@example.com",
                                                      "password": PASSWORD})


def _assert_refused(answer: tuple[int, object]) -> str:
    status, body = answer
    assert status == 503, answer
    assert body["code"] == "STORAGE_UNAVAILABLE", answer
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, answer  # JSON error shape, not HTML
    assert "Traceback" not in str(body)
    return str(body["code"])


def test_read_only_and_full_disk_refuse_writes_in_the_error_shape_and_write_nothing(var_mount):
    redis_server = RedisServer()
    env = _embedded_env(var_mount, redis_server.url(0))
    web = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        web = WebServer(env)
        status, body = _register(web)
        assert status == 201, body  # the embedded default works on this disk
        db = var_mount / "biatec.sqlite3"
        before = _row_counts(db)

        _mount("-o", "remount,ro", str(var_mount))  # read-only
        read_only_code = _assert_refused(_register(web))
        _mount("-o", "remount,rw", str(var_mount))
        assert _row_counts(db) == before

        with contextlib.closing(sqlite3.connect(db)) as conn:  # an empty WAL: the next write must grow it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = var_mount / "filler"  # full: the tmpfs has no byte left
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], check=False, capture_output=True)
        full_codes = {_assert_refused(_register(web)) for _ in range(3)}
        filler.unlink()
        assert _row_counts(db) == before  # no user, organization, key or audit row of a refused request

        status, body = _register(web)  # and the product recovers once there is room again
        assert status == 201, body
        assert sum(_row_counts(db).values()) > sum(before.values())
        assert len({read_only_code, *full_codes}) == 1  # one stable code
    finally:
        if web is not None:
            web.stop()
        redis_server.close()
