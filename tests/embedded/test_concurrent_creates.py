"""Issue 16: the embedded default under concurrent load, against `make run` itself.

50 creates sent at the same moment by 5 users: every answer is 202, or 503 DATABASE_BUSY with
Retry-After (the lock could not be had; nothing written), never another 5xx; the deployment rows in
the SQLite file are exactly the 202s; and the worker that `make run` starts completes every one.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from .stack import EmbeddedStack, erc20_body, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.chain]

USERS = 5
REQUESTS = 50


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[EmbeddedStack]:  # noqa: ANN001
    stack = EmbeddedStack(tmp_path_factory.mktemp("embedded-load") / "var",
                          {"THROTTLE_AUTH_REGISTER": "1000/hour"})
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def users(stack: EmbeddedStack) -> list[dict[str, str]]:
    with stack.client() as client:
        return [stack.register(client) for _ in range(USERS)]


def _fire(stack: EmbeddedStack, users: list[dict[str, str]], prefix: str) -> list[tuple[int, dict[str, str], Any]]:
    """REQUESTS creates released together by a barrier, each with its own Idempotency-Key."""
    barrier = threading.Barrier(REQUESTS)
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=0)

    def one(index: int) -> tuple[int, dict[str, str], Any]:
        with stack.client(limits=limits) as client:
            headers = {**users[index % USERS], "Idempotency-Key": f"{prefix}-{index}"}
            barrier.wait()
            answer = client.post("/api/v1/token/erc20-mintable/create", json=erc20_body(f"Load {prefix} {index}"),
                                 headers=headers)
            try:
                body = answer.json()
            except ValueError:
                body = answer.text
            return answer.status_code, dict(answer.headers), body

    with ThreadPoolExecutor(REQUESTS) as pool:
        return list(pool.map(one, range(REQUESTS)))


def _check_answers(answers: list[tuple[int, dict[str, str], Any]]) -> list[str]:
    """Every answer 202 or 503 DATABASE_BUSY + Retry-After; returns the ids of the accepted ones."""
    accepted = []
    for status, headers, body in answers:
        if status == 202:
            accepted.append(body["id"])
        else:
            assert status == 503, (status, body)
            assert body["code"] == "DATABASE_BUSY", body
            assert int(headers["retry-after"]) >= 1, headers
    return accepted


def test_50_concurrent_creates_answer_202_or_503_and_rows_are_the_202s(stack, users) -> None:
    assert stack.sql("PRAGMA journal_mode") == [("wal",)]  # as every process of make run opens it
    answers = _fire(stack, users, "rows")
    accepted = _check_answers(answers)
    assert accepted, "no create was accepted"
    rows = stack.sql("SELECT id FROM deployments_deployment WHERE idempotency_key LIKE 'rows-%'")
    assert len(rows) == len(accepted)
    assert {row[0].replace("-", "") for row in rows} == {a.replace("-", "") for a in accepted}
    # A refused request left no idempotency record either (a retry with its key runs afresh).
    records = stack.sql("SELECT count(*) FROM deployments_idempotencyrecord WHERE key LIKE 'rows-%'")[0][0]
    assert records == len(accepted)


def test_with_the_worker_every_accepted_deployment_completes(stack, users) -> None:
    accepted = _check_answers(_fire(stack, users, "done"))
    assert accepted
    headers = users[0]

    def statuses() -> dict[str, str]:
        found = stack.sql("SELECT id, status FROM deployments_deployment WHERE idempotency_key LIKE 'done-%'")
        return {row[0].replace("-", ""): row[1] for row in found}

    assert wait_for(lambda: set(statuses().values()) == {"completed"}, timeout=240, interval=1), statuses()
    assert len(statuses()) == len(accepted)
    # Server threads, worker and beat wrote one SQLite file at once, and every writer waited for the
    # lock instead of failing (without WAL + IMMEDIATE + the busy timeout the worker's tasks fail
    # on "database is locked" by the hundred here, and only the sweep gets their deployments done).
    assert "database is locked" not in stack.output()
    # The API says the same as the database (read as the first user: its own deployments).
    with stack.client() as client:
        for deployment_id in accepted:
            answer = client.get(f"/api/v1/token/deployments/{deployment_id}", headers=headers)
            if answer.status_code == 404:
                continue  # another user's deployment
            assert answer.json()["status"] == "completed", answer.json()
            assert answer.json()["results"].get("contract_address")
