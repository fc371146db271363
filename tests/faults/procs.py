"""Processes the fault suite owns and may stop: a private redis-server (own port, own directory), a
cuttable TCP proxy in front of PostgreSQL, the product's web server, and a worker armed to die at
fault points. The shared Redis and PostgreSQL of the machine are never stopped (docs/architecture.md,
"The exactly-once rule")."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis

from devchain.anvil import free_port
from tests.celery_worker import WorkerProcess

ROOT = Path(__file__).resolve().parents[2]


class RedisServer:
    """`redis-server` on 127.0.0.1:<port> with no persistence; `stop()` / `start()` keep the port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="biatec-faults-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.dir / "redis.log").open("ab")
        self.proc = subprocess.Popen(  # fixed argv, no shell
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if redis.Redis.from_url(self.url(), socket_timeout=0.5).ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"private redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # an outage, not a shutdown: nothing is saved
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class WebServer:
    """The product's web process (gunicorn, as `make run`) in a subprocess with `process_env`: its
    broker, cache and database are whatever the test hands it. `call()` speaks JSON over HTTP."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log_path = Path(tempfile.mkdtemp(prefix="biatec-faults-web-")) / "web.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # fixed argv, no shell
            [sys.executable, "-m", "gunicorn", "biatec.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--threads", "4", "--worker-class", "gthread", "--timeout", "120",
             "--no-control-socket"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"web server exited: {self.output()[-3000:]}")
            with contextlib.suppress(OSError):
                if self.call("GET", "/health/live")[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"web server did not answer: {self.output()[-3000:]}")

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None,
             timeout: float = 30.0) -> tuple[int, dict | str]:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class TcpProxy:
    """A TCP forwarder on 127.0.0.1:<port> to `upstream` (the shared PostgreSQL), which the test can
    cut: `stop()` closes the listening socket and every forwarded connection (the server sees its
    clients vanish and rolls their transactions back, as when it restarts; clients see resets, then
    refused connections), `start()` listens again on the same port. The shared server itself is
    never stopped."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list = []
        self._listener = None
        self.start()

    def start(self) -> None:
        import socket
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener) -> None:
        import socket
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.close()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class ArmedWorker:
    """A real worker (prefork pool of two, embedded beat, as `make worker` + `make beat`) and the
    control file of its fault points (`biatec.core.faults`, FAULT_INJECTION_FILE), re-armed by
    `arm()` between trials; short poll, sweep and grace intervals so a killed job is taken over soon."""

    def __init__(self, broker: str) -> None:
        self.plan = Path(tempfile.mkdtemp(prefix="biatec-faults-")) / "plan.json"
        self.arm([], budget=0)
        self.broker = broker
        self.worker = WorkerProcess(broker, {
            "FAULT_INJECTION_FILE": str(self.plan),
            "DEPLOYMENT_POLL_SECONDS": "0.3",
            "DEPLOYMENT_PENDING_FALLBACK_SECONDS": "0.5",
            "DEPLOYMENT_SWEEP_INTERVAL_SECONDS": "1",
            "DEPLOYMENT_SWEEP_GRACE_SECONDS": "5",
        }, pool="prefork", concurrency=2, beat=True)

    def arm(self, points: list[str], *, budget: int, probability: float = 0.5, kills: int = 0,
            max_delay: float = 0.2) -> None:
        plan = json.dumps({"points": points, "probability": probability, "max_delay_seconds": max_delay,
                           "budget": budget, "kills": kills})
        with self.plan.open("a+") as handle:  # the worker rewrites the file under this lock (a kill)
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(plan)

    def state(self) -> dict:
        """The plan as the worker left it; read under its lock, never half-rewritten."""
        with self.plan.open() as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            return json.loads(handle.read())
