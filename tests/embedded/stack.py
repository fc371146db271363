"""`make run` as a subprocess of a test: the command line of the Makefile's `run` target, on a free
port, with a var directory of its own (SQLite file, Redis socket and data, beat schedule), so that it
never touches the developer's `var/`."""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "embedded stack test passphrase"
# Variables of the test settings (PostgreSQL, the machine's Redis, eager tasks) that must not leak
# into the product under test: it must run on its embedded defaults.
_NOT_INHERITED = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DATABASE_TEST_NAME", "REDIS_URL", "CELERY_BROKER_URL",
                  "CELERY_TASK_ALWAYS_EAGER", "CACHE_URL", "PYTEST_", "EVM_RPC_", "ALGOD_", "IPFS_")


def run_command(port: int) -> list[str]:
    """What `make run PORT=<port>` runs (tests/embedded/test_make_run.py checks the Makefile says so)."""
    return [sys.executable, "-m", "biatec.embedded", "run", "--host", "127.0.0.1", "--port", str(port)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedStack:
    def __init__(self, var_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.var_dir = var_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = var_dir.parent / f"make-run-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        env.update({"BIATEC_VAR_DIR": str(var_dir), "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
                    **(extra_env or {})})
        self.env = env
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(run_command(self.port), cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    # --- lifecycle ---------------------------------------------------------------------------
    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"make run exited with {self.proc.returncode}:\n{self.output()[-6000:]}")
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"make run not ready in {timeout}s:\n{self.output()[-6000:]}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    # --- the product's API -------------------------------------------------------------------
    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=kwargs.pop("timeout", 120), **kwargs)

    def register(self, client: httpx.Client) -> dict[str, str]:
        email = f"embedded-{uuid.uuid4().hex[:10]}@example.com"
        answer = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['tokens']['access']}"}

    # --- the product's database, read directly -----------------------------------------------
    def sql(self, query: str, *params: Any) -> list[tuple]:
        db = sqlite3.connect(f"file:{self.var_dir / 'biatec.sqlite3'}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(query, params).fetchall()
        finally:
            db.close()

    def redis(self, db: int = 0):  # noqa: ANN201 - a redis client
        import redis

        from biatec.embedded import redis_socket_path

        return redis.Redis(unix_socket_path=str(redis_socket_path(self.var_dir)), db=db)


def erc20_body(name: str = "Embedded Token") -> dict[str, Any]:
    return {"network": "evm-local", "name": name, "symbol": "EMB", "decimals": 18,
            "initial_supply": "1000000000000000000000", "cap": "5000000000000000000000"}


def wait_for(predicate, timeout: float, interval: float = 0.5) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
