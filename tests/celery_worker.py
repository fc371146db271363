"""A real Celery worker in a subprocess, on its own Redis database, against the test database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def process_env(broker_url: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a product process (worker, web server) against the test database, `broker_url`
    (broker and Redis cache) and the chain nodes registered in this test process."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "biatec.settings.test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "PYTHONUNBUFFERED": "1",  # output() reads the log file while the worker runs
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "DEPLOYMENT_POLL_SECONDS": "0.2",
        **{f"EVM_RPC_{k.upper().replace('-', '_')}": v["url"] for k, v in settings.CHAIN_NODES.items()
           if k.startswith(("evm", "ethereum", "base", "arbitrum"))},
        **{f"ALGOD_URL_{k.upper().replace('-', '_')}": v["url"] for k, v in settings.CHAIN_NODES.items()
           if k.startswith(("algorand", "voi", "aramid"))},
        **{f"ALGOD_TOKEN_{k.upper().replace('-', '_')}": v.get("token", "") for k, v in
           settings.CHAIN_NODES.items() if k.startswith(("algorand", "voi", "aramid"))},
        "IPFS_API_URL": settings.IPFS_API_URL or "",
        "IPFS_API_AUTH": settings.IPFS_API_AUTH or "",
        **(extra_env or {}),
    }


class WorkerProcess:
    def __init__(self, broker_url: str, extra_env: dict[str, str] | None = None, *, pool: str = "solo",
                 concurrency: int = 1, beat: bool = False) -> None:
        self.broker_url = broker_url
        self.log_path = Path(f"/tmp/biatec-worker-{uuid.uuid4().hex[:8]}.log")
        env = process_env(broker_url, extra_env)
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "biatec", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
             *(["-B", "-s", str(self.log_path.with_suffix(".beat"))] if beat else [])],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:  # prefork children and an embedded beat live in the worker's own process group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self.log.closed:
            self.log.close()

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()


def fresh_broker_url() -> str:
    """A Redis database index of its own, emptied, so no other run's messages reach this worker."""
    index = 8 + (os.getpid() % 7)
    url = f"redis://127.0.0.1:6379/{index}"
    redis.Redis.from_url(url).flushdb()
    return url


def publish(task, broker_url: str, *args: str) -> None:
    from biatec.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # really publish, even though the test process runs eagerly
    try:
        with app.connection_for_write(url=broker_url) as conn:
            task.apply_async(args=list(args), connection=conn)
    finally:
        app.conf.task_always_eager = eager


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
