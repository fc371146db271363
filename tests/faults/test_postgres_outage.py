"""PostgreSQL gone for FAULTS_PG_DOWN_SECONDS (20) under load, then back (issue 15, fault suite).

The web server (gunicorn) and a worker (prefork, embedded beat) reach the test database through a
TCP proxy of this test (tests/faults/procs.py `TcpProxy`); cutting it is what a server restart looks
like from the product: every open connection dies mid-transaction (the server rolls those back) and
new ones are refused until it is back. The machine's PostgreSQL itself is never stopped. A client
creates deployments over HTTP all along. Every answer is 202 or a 503 in the error shape with one
stable code; the worker reconnects by itself; every accepted deployment completes with one contract
on chain and no nonce gap; and no transition is half-applied: each history row has its audit entry,
the statuses chain up, and the deployment's status is the last history row's.
"""
from __future__ import annotations

import os
import time

import pytest
from django.db import connection

from accounts.models import User
from biatec.audit.models import AuditEntry
from deployments.models import Deployment, DeploymentEvent
from tests.celery_worker import WorkerProcess, process_env, wait_for
from tests.faults.jobs import REGISTRY
from tests.faults.load import ENV, ERROR_KEYS, Load, assert_accepted_complete_once, stop_all
from tests.faults.procs import RedisServer, TcpProxy, WebServer

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.faults, pytest.mark.django_db(transaction=True)]
DOWN_SECONDS = float(os.environ.get("FAULTS_PG_DOWN_SECONDS", "20"))


def _through(proxy: TcpProxy, env: dict[str, str]) -> dict[str, str]:
    db = connection.settings_dict
    return {**env, "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@127.0.0.1:{proxy.port}/{db['NAME']}"}


def _history_consistent(ids: list[str]) -> list[str]:
    """What is wrong with the deployments' histories (empty when every transition is whole)."""
    problems = []
    for deployment in Deployment.objects.filter(pk__in=ids):
        events = list(DeploymentEvent.objects.filter(deployment=deployment).order_by("id"))
        statuses = [e.to_status for e in events]
        if not events or statuses[-1] != deployment.status:
            problems.append(f"{deployment.pk}: status {deployment.status}, history {statuses}")
        for previous, event in zip(events, events[1:], strict=False):
            if event.from_status != previous.to_status:
                problems.append(f"{deployment.pk}: {previous.to_status} then {event.from_status}->{event.to_status}")
        audited = AuditEntry.objects.filter(action="deployment.transition", object_id=str(deployment.pk)).count()
        if audited != len(events):  # one audit entry per history row, `queued` included
            problems.append(f"{deployment.pk}: {len(events)} history rows, {audited} transition audit entries")
    return problems


def test_postgres_gone_under_load_accepts_or_503s_and_applies_transitions_whole(anvil_node, user_factory):
    body, _ = user_factory("faults.postgres")
    user = User.objects.get(pk=body["id"])
    before = REGISTRY["deployment:erc20-preminted"].baseline(user)
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    redis_server = RedisServer()
    web = worker = load = None
    try:
        env = _through(proxy, process_env(redis_server.url(0), ENV))
        web = WebServer(env)
        worker = WorkerProcess(redis_server.url(0), {**ENV, "DATABASE_URL": env["DATABASE_URL"]},
                               pool="prefork", concurrency=2, beat=True)
        load = Load(web, body["tokens"]["access"])
        assert wait_for(lambda: len(load.answers) >= 4, timeout=60)
        load.phase = "down"
        proxy.stop()  # every connection of the web server and the worker dies here
        time.sleep(DOWN_SECONDS)
        load.phase = "back"
        proxy.start()
        time.sleep(5)
        load.stop()

        assert {status for _, status, _ in load.answers} <= {202, 503}, load.answers
        assert any(phase == "down" for phase, _, _ in load.answers), "requests were made while PostgreSQL was away"
        refused = [b for _, status, b in load.answers if status == 503]
        assert refused, "no request was refused while PostgreSQL was away"
        assert all(isinstance(b, dict) and set(b) == ERROR_KEYS for b in refused), refused
        assert {b["code"] for b in refused} == {"DATABASE_UNAVAILABLE"}, refused
        assert any(status == 202 for phase, status, _ in load.answers if phase == "back"), load.answers

        ids = assert_accepted_complete_once(load, user, before, worker, timeout=180)
        assert _history_consistent(ids) == []
    finally:
        stop_all(load, worker, web)
        proxy.stop()
        redis_server.close()
