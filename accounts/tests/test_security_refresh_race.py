"""Defect 7 of issue 14: two refreshes with one token at the same moment, on PostgreSQL, each in its
own thread and database connection: exactly one gets a new pair."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts import services
from accounts.errors import InvalidToken
from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 4
PARALLEL = 3


def _race(refresh: str) -> list[str]:
    barrier = threading.Barrier(PARALLEL)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait(timeout=10)
            services.token_refresh(refresh=refresh)
            outcome = "ok"
        except InvalidToken:
            outcome = "refused"
        finally:
            connection.close()  # each thread has its own connection
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_parallel_refreshes_with_one_token_succeed_exactly_once():
    for round_number in range(ROUNDS):
        user = User.objects.create_user(f"race{round_number}@example.com", "x" * 20)
        pair = services.token_pair_issue(user=user)
        outcomes = _race(pair.refresh)
        assert sorted(outcomes) == ["ok"] + ["refused"] * (PARALLEL - 1), (round_number, outcomes)
        # The losers presented a token already used: reuse, so every token of the user is revoked.
        user.refresh_from_db()
        assert user.token_version == 1
