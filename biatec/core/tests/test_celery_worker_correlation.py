"""Through a real broker and a real worker process: the task's log lines carry the correlation ID of
the context that queued it (sent as a message header)."""
import json

import pytest

from biatec.core.correlation import reset_correlation_id, set_correlation_id
from biatec.core.tasks import ping
from tests.celery_worker import WorkerProcess, fresh_broker_url, publish, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_real_worker_logs_the_publishers_correlation_id():
    broker = fresh_broker_url()
    token = set_correlation_id("cid-through-redis-77")
    try:
        publish(ping, broker, "over the wire")
    finally:
        reset_correlation_id(token)
    worker = WorkerProcess(broker)
    try:
        assert wait_for(lambda: "ping task ran" in worker.output(), timeout=60), worker.output()
    finally:
        worker.stop()
    lines = [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
    ran = [line for line in lines if line.get("message") == "ping task ran"]
    assert ran and ran[0]["correlation_id"] == "cid-through-redis-77"
    assert ran[0]["task_message"] == "over the wire"
