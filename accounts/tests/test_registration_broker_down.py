"""Sign-up with the broker down (issue 14/15: no 500 after the user row committed).

The Celery app really publishes (not eager) to a Redis URL on a closed local port, with a password in
it: the sign-up answers 201, the user exists with no EVM accounts yet, the log says the derivation was
not queued without naming the broker URL or its password, and the beat sweep
(`accounts.tasks.evm_accounts_sweep_task`, biatec/celery.py) derives the missing accounts later."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from accounts.models import EvmAccount, User
from accounts.tasks import _evm_chain_ids, evm_accounts_sweep_task, users_missing_evm_accounts
from biatec.celery import app
from conftest import DEFAULT_PASSWORD

BROKER_PASSWORD = "broker-pw-7Qm2"


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on exit: nothing listens there


@pytest.fixture
def broker_down(settings) -> Iterator[str]:
    url = f"redis://:{BROKER_PASSWORD}@127.0.0.1:{_closed_port()}/0"
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "broker_connection_timeout")}
    saved_pools = (app._pool, app.amqp._producer_pool)
    app.conf.update(broker_url=url, task_always_eager=False, broker_connection_timeout=1)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app._pool = None  # a pool made for the real broker would be reused otherwise
    app.amqp._producer_pool = None
    try:
        yield url
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.update(saved)
        app._pool, app.amqp._producer_pool = saved_pools


@pytest.mark.django_db(transaction=True)  # the on-commit publish runs inside the request, as in production
def test_sign_up_with_the_broker_down_answers_201_and_the_sweep_derives_later(broker_down, json_logs):
    response = APIClient(raise_request_exception=False).post(
        "/api/v1/auth/register", {"email": "broker.down@example.com", "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 201, response.content
    user = User.objects.get(email="broker.down@example.com")
    assert response.json()["id"] == str(user.pk)
    assert not EvmAccount.objects.filter(user=user).exists()
    assert users_missing_evm_accounts() == [str(user.pk)]
    not_queued = [line for line in json_logs.lines() if line["message"].startswith("EVM account derivation not queued")]
    assert [(line["user_id"], line["level"]) for line in not_queued] == [(str(user.pk), "WARNING")]
    assert BROKER_PASSWORD not in json_logs.text and broker_down not in json_logs.text

    assert evm_accounts_sweep_task.apply().get() == 1  # what beat runs; derivation needs no broker
    assert sorted(EvmAccount.objects.filter(user=user).values_list("chain_id", flat=True)) == _evm_chain_ids()
    assert users_missing_evm_accounts() == []
    assert evm_accounts_sweep_task.apply().get() == 0  # idempotent


def test_the_sweep_is_on_the_beat_schedule():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "accounts.tasks.evm_accounts_sweep_task" in tasks
    assert "accounts.tasks.evm_accounts_sweep_task" in app.tasks
