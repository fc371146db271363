"""HTTP load for the outage tests (Redis, PostgreSQL): a client creating deployments through the real
web server all along, and the check every outage test ends with."""
from __future__ import annotations

import threading
import time

from accounts.models import User
from deployments.models import Deployment
from tests.celery_worker import WorkerProcess, wait_for
from tests.faults.deployment_jobs import deployment_statuses, evm_verify
from tests.faults.procs import WebServer

ERROR_KEYS = {"code", "message", "details", "correlation_id"}
CREATE = {"network": "evm-local", "name": "Outage", "symbol": "OUT", "decimals": 0, "initial_supply": "2"}
ENV = {
    "DEPLOYMENT_POLL_SECONDS": "0.3", "DEPLOYMENT_PENDING_FALLBACK_SECONDS": "1",
    "DEPLOYMENT_SWEEP_INTERVAL_SECONDS": "1", "DEPLOYMENT_SWEEP_GRACE_SECONDS": "5",
    "DEPLOYMENT_POLL_MAX_SECONDS": "3",
}


class Load:
    """Creates a deployment over HTTP every few hundred milliseconds until stopped; keeps every answer."""

    def __init__(self, web: WebServer, token: str) -> None:
        self.web, self.token = web, token
        self.answers: list[tuple[str, int, object]] = []
        self.phase = "before"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            phase = self.phase
            try:
                status, body = self.web.call("POST", "/api/v1/token/erc20-preminted/create", CREATE, self.token)
            except OSError as exc:  # a hang past the client's timeout, a reset connection
                status, body = 0, repr(exc)
            self.answers.append((phase, status, body))
            time.sleep(0.3)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=60)


def assert_accepted_complete_once(load: Load, user: User, nonce_before: int, worker: WorkerProcess,
                                  timeout: float) -> list[str]:
    """Every deployment the load got a 202 for completes, nothing exists for a refused request, and
    the chain holds exactly one contract per deployment with no nonce gap. Returns their ids."""
    ids = [b["id"] for _, status, b in load.answers if status == 202]
    assert ids
    done = wait_for(lambda: set(deployment_statuses(ids).values()) == {"completed"}, timeout=timeout)
    assert done, (list(Deployment.objects.filter(pk__in=ids).values("status", "error_code", "error_message")),
                  worker.output()[-3000:])
    assert Deployment.objects.filter(creator=user).count() == len(ids)  # no row for a refused request
    verdict = evm_verify(user, nonce_before, ids)
    assert verdict.ok, verdict
    return ids


def stop_all(*parts: object) -> None:
    """Stop the load, the worker and the web server of an outage test (whichever were started)."""
    for part in parts:
        if part is not None:
            part.stop()  # type: ignore[attr-defined]
