"""A create whose deployment committed answers 202 even when its first task cannot be queued (the
broker is down): the deployment exists, the failure is logged, and its deadline lets the sweep
queue it later. Before, the publish error escaped the on-commit callback: a 500 for a request that
had created a deployment, and a retrying client made a duplicate."""
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from biatec.celery import app
from deployments.models import Deployment, DeploymentStatus

ERC20 = {"network": "evm-local", "name": "Broker Down", "symbol": "BDN", "decimals": 18,
         "initial_supply": "1000", "cap": "5000"}


@contextmanager
def broker_down(settings) -> Iterator[None]:  # noqa: ANN001
    """The real Celery app, not eager, publishing to a Redis port where nothing listens."""
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_publish_retry")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:9/0", task_publish_retry=False)
    app._pool, app.amqp._producer_pool = None, None  # connections are made afresh, to the dead broker
    try:
        yield
    finally:
        settings.CELERY_TASK_ALWAYS_EAGER = True
        app.conf.update(saved)
        app._pool, app.amqp._producer_pool = None, None


@pytest.mark.django_db(transaction=True)
@pytest.mark.chain
def test_committed_create_answers_202_when_queueing_its_task_fails(user_factory, evm_local, settings, json_logs):
    _, client = user_factory("enqueue.down")
    with broker_down(settings):
        answer = client.post("/api/v1/token/erc20-mintable/create", ERC20, format="json",
                             HTTP_IDEMPOTENCY_KEY="broker-down-1")
    assert answer.status_code == 202, answer.content
    deployment = Deployment.objects.get(pk=answer.json()["id"])
    assert deployment.status == DeploymentStatus.QUEUED
    assert deployment.next_action_at is not None  # the sweep's deadline
    assert any(line.get("message", "").startswith("could not queue the deployment") and
               line.get("deployment_id") == str(deployment.pk) for line in json_logs.lines())
    # The same request again replays the 202: one deployment, not two.
    again = client.post("/api/v1/token/erc20-mintable/create", ERC20, format="json",
                        HTTP_IDEMPOTENCY_KEY="broker-down-1")
    assert again.status_code == 202 and again.json()["id"] == str(deployment.pk)
    assert Deployment.objects.filter(idempotency_key="broker-down-1").count() == 1
