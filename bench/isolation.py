"""What a benchmark run owns, and nothing else: one PostgreSQL database and one Redis key prefix.

- `BenchDatabase`: `biatec_bench_<pid>_<random>`, created empty, dropped at the end (WITH (FORCE), so
  a leftover connection of a killed child cannot keep it alive). Nothing else on the server is read
  or written.
- `RedisKeys`: a prefix `biatec-bench-<pid>-<random>:` on the shared Redis. The Celery broker uses it
  through kombu's `global_keyprefix` transport option (bench/celery_app.py, bench/wsgi.py), the
  throttle cache through its KEY_PREFIX (bench/settings.py); at the end exactly the keys matching the
  prefix are deleted (SCAN + DEL, never FLUSHDB), and `leftovers()` proves none remain.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_PREFIX = "biatec_bench_"
KEY_PREFIX_STEM = "biatec-bench-"


def _run_suffix() -> str:
    return f"{os.getpid()}_{secrets.token_hex(4)}"


@dataclass
class BenchDatabase:
    name: str = field(default_factory=lambda: f"{DATABASE_PREFIX}{_run_suffix()}")
    created: bool = False

    @property
    def url(self) -> str:
        base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgres://", 1)
        return f"{base}/{self.name}"

    def create(self) -> None:
        import psycopg

        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')  # a fresh name: fails rather than reuse
        self.created = True

    def drop(self) -> None:
        if not self.created:
            return
        import psycopg

        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.created = False


def bench_databases() -> set[str]:
    """Names of the benchmark databases that exist now (the smoke test compares before and after)."""
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            [DATABASE_PREFIX.replace("_", r"\_") + "%"]).fetchall()
    return {row[0] for row in rows}


@dataclass
class RedisKeys:
    url: str = REDIS_URL
    prefix: str = field(default_factory=lambda: f"{KEY_PREFIX_STEM}{_run_suffix().replace('_', '-')}:")

    def _client(self):  # noqa: ANN202 - redis.Redis
        import redis

        return redis.Redis.from_url(self.url)

    def leftovers(self) -> list[bytes]:
        return list(self._client().scan_iter(match=f"{self.prefix}*", count=1000))

    def delete(self) -> int:
        """Delete this run's keys, and only those."""
        client = self._client()
        keys = self.leftovers()
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
        return len(keys)
