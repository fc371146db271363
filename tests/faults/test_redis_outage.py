"""Redis (broker and throttle counters) stopped for FAULTS_REDIS_DOWN_SECONDS (30) under load, then
restarted empty (issue 15, fault suite).

Real processes: the web server (gunicorn) and a worker (prefork, embedded beat) whose broker and
Redis cache are a private redis-server of this test (own port, own directory; SIGKILLed, so whatever
it held is gone), the test database, the session's anvil. A client creates deployments over HTTP
all along. Every answer is 202 or a 503 in the error shape with one stable code, never a 500 or a
hang; every accepted deployment completes, because each carries a deadline (`next_action_at`) that
beat's sweep honours once the broker is back (docs/architecture.md, "The exactly-once rule", rule 6),
with one contract each on chain and no nonce gap.
"""
from __future__ import annotations

import os
import time

import pytest

from accounts.models import User
from tests.celery_worker import WorkerProcess, process_env, wait_for
from tests.faults.jobs import REGISTRY
from tests.faults.load import ENV, ERROR_KEYS, Load, assert_accepted_complete_once, stop_all
from tests.faults.procs import RedisServer, WebServer

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.faults, pytest.mark.django_db(transaction=True)]
DOWN_SECONDS = float(os.environ.get("FAULTS_REDIS_DOWN_SECONDS", "30"))
def test_redis_down_under_load_accepts_or_503s_and_loses_nothing(anvil_node, user_factory):
    body, _ = user_factory("faults.redis")
    user = User.objects.get(pk=body["id"])
    before = REGISTRY["deployment:erc20-preminted"].baseline(user)
    redis_server = RedisServer()
    web = worker = load = None
    try:
        web = WebServer(process_env(redis_server.url(0), ENV))
        worker = WorkerProcess(redis_server.url(0), ENV, pool="prefork", concurrency=2, beat=True)
        load = Load(web, body["tokens"]["access"])
        assert wait_for(lambda: len(load.answers) >= 3, timeout=30)
        load.phase = "down"
        redis_server.stop()
        time.sleep(DOWN_SECONDS)
        load.phase = "back"
        redis_server.start()  # same port, empty: every queued message is gone
        time.sleep(3)
        load.stop()

        statuses = {(phase, status) for phase, status, _ in load.answers}
        assert {status for _, status in statuses} <= {202, 503}, load.answers
        assert any(phase == "down" for phase, _ in statuses), "requests were made while Redis was down"
        refused = [b for _, status, b in load.answers if status == 503]
        assert all(isinstance(b, dict) and set(b) == ERROR_KEYS for b in refused), refused
        assert len({b["code"] for b in refused}) <= 1, {b["code"] for b in refused}  # one stable code
        assert all(status == 202 for phase, status, _ in load.answers if phase == "before")

        assert_accepted_complete_once(load, user, before, worker, timeout=150)
    finally:
        stop_all(load, worker, web)
        redis_server.close()
