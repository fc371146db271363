"""Fault suite fixtures: a private Redis (the suite stops it; the machine's Redis is never touched),
a broker database per worker, users on the chain, the tally printed at the end of the session."""
from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator

import pytest
import redis

from tests.faults.procs import RedisServer
from tests.faults.tally import tally_path, tally_rows, tally_table

_databases = itertools.count(1)


def pytest_sessionstart(session):
    path = tally_path()
    if path.exists() and not os.environ.get("FAULT_TALLY_KEEP"):
        path.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = tally_rows()
    if rows:
        terminalreporter.write_sep("=", "fault tally (SIGKILL of the worker per fault point)")
        terminalreporter.write_line(tally_table(rows))


def trials() -> int:
    """Kills per fault point and chain: FAULTS_TRIALS (CI: 1; `make faults`: 20)."""
    return max(int(os.environ.get("FAULTS_TRIALS", "1")), 1)


FLUSH_ATTEMPTS = 5


@pytest.fixture(autouse=True, scope="session")
def _flush_survives_worker_deadlocks() -> Iterator[None]:
    """The suite's workers run on while pytest-django empties the database after each test; a
    statement of theirs that joins tables (beat's receipt poller, every 0.3 s) can deadlock with the
    flush's TRUNCATE, and PostgreSQL may abort the flush. Flush again then: the next test must start
    from an empty database (a leftover user fails its registration)."""
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self: TransactionTestCase) -> None:
        for attempt in range(1, FLUSH_ATTEMPTS + 1):
            try:
                original(self)
                return
            except Exception as exc:
                causes = [exc, exc.__cause__, getattr(exc.__cause__, "__cause__", None)]
                if attempt == FLUSH_ATTEMPTS or not any("deadlock detected" in str(c) for c in causes if c):
                    raise
                time.sleep(0.2 * attempt)

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]
    try:
        yield
    finally:
        TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.close()


def broker_on(server: RedisServer) -> str:
    """A database of its own on the private Redis, emptied (16 databases; reused round-robin)."""
    url = server.url(1 + next(_databases) % 15)
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def no_dispatch(monkeypatch):
    """Jobs (deployments, token operations) are created without queueing: the test publishes them to
    its own broker."""
    from deployments import operation_services, services

    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    monkeypatch.setattr(operation_services, "job_enqueue_on_commit", lambda job_type, job_id: None)


@pytest.fixture
def chain_user(user_factory):
    """One registered user per e-mail name (the chain remembers it across tests; counts are relative)."""
    from accounts.models import User

    def make(name: str) -> User:
        user_factory(name)
        return User.objects.get(email=f"{name}@example.com")

    return make
