"""Fault suite fixtures: a private Redis (the suite stops it; the machine's Redis is never touched),
a broker database per worker, users on the chain, the tally printed at the end of the session."""
from __future__ import annotations

import itertools
import os
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
    """Jobs are created without queueing: the test publishes them to its own broker."""
    from deployments import services

    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)


@pytest.fixture
def chain_user(user_factory):
    """One registered user per e-mail name (the chain remembers it across tests; counts are relative)."""
    from accounts.models import User

    def make(name: str) -> User:
        user_factory(name)
        return User.objects.get(email=f"{name}@example.com")

    return make
