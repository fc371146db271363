"""Processes and measuring tools of a benchmark run: the server (gunicorn, as `make run` starts it),
Celery workers and beat (as tests/celery_worker.py runs them), an HTTP load generator on keep-alive
connections, percentiles and process CPU."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


class Child:
    """One child process in its own session, its output in a log file; `stop()` ends its group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """CPU (user + system) of the process and of its live children."""
        try:
            proc = psutil.Process(self.proc.pid)
            total = sum(proc.cpu_times()[:2])
            for child in proc.children(recursive=True):
                try:
                    total += sum(child.cpu_times()[:2])
                except psutil.NoSuchProcess:
                    pass
            return total
        except psutil.NoSuchProcess:
            return 0.0

    def tail(self, limit: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_bytes()[-limit:].decode(errors="replace")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of its group (gunicorn/prefork children)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self._log.close()


def start_server(env: dict[str, str], log_dir: Path, port: int) -> Child:
    """gunicorn with the arguments of `make run` (biatec/embedded/supervisor.py): gthread, 2 workers,
    8 threads, serving bench/wsgi.py (the product plus the bare baseline view)."""
    server = Child("server", [
        sys.executable, "-m", "gunicorn", "bench.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", env.get("GUNICORN_WORKERS", "2"), "--threads", env.get("GUNICORN_THREADS", "8"),
        "--worker-class", "gthread", "--timeout", "120", "--graceful-timeout", "10", "--access-logfile", "-",
        "--no-control-socket",
    ], env, log_dir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"gunicorn exited: {server.tail()}")
        try:
            status, _, _ = Http(port).request("GET", "/health/live")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("gunicorn did not answer within 60 s")


def start_worker(env: dict[str, str], log_dir: Path, index: int, profile: Path | None = None,
                 wall: bool = False) -> Child:
    """A solo-pool worker; with `profile`, under cProfile (bench/cpu_profile.py: its CPU time, or wall
    time with `wall`; stats written there on its warm shutdown)."""
    wrap = ["-m", "bench.cpu_profile", str(profile), *(["--wall"] if wall else [])] if profile else []
    return Child(f"worker-{index}-{time.monotonic_ns()}", [
        sys.executable, *wrap, "-m", "celery", "-A", "bench.celery_app", "worker", "--pool=solo", "--concurrency=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO", "-n", f"bench{index}@%h",
    ], env, log_dir)


def start_beat(env: dict[str, str], log_dir: Path) -> Child:
    return Child("beat", [
        sys.executable, "-m", "celery", "-A", "bench.celery_app", "beat", "-l", "WARNING",
        "--schedule", str(log_dir / "celerybeat-schedule"),
    ], env, log_dir)


class Http:
    """One keep-alive HTTP/1.1 connection to the server; `request` returns (status, body, ms)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        payload = None if body is None else json.dumps(body).encode()
        all_headers = {**({"Content-Type": "application/json"} if payload is not None else {}), **(headers or {})}
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=payload, headers=all_headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, data, (time.perf_counter() - started) * 1000
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server closed an idle keep-alive connection: reconnect once
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             expect: int = 200) -> Any:
        status, data, _ = self.request(method, path, body, headers)
        if status != expect:
            raise RuntimeError(f"{method} {path} answered {status}, expected {expect}: {data[:500]!r}")
        return json.loads(data) if data else None


@dataclass
class LoadResult:
    samples: list[float]
    throughput: float
    errors: int

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)


def load(port: int, make_request: Callable[[int], tuple[str, str, Any, dict[str, str]]], total: int,
         concurrency: int, expect: int = 200, budget_seconds: float | None = None,
         min_samples: int = 5) -> LoadResult:
    """`total` requests from `concurrency` threads, each on its own keep-alive connection (closed loop).
    `make_request(i)` gives (method, path, body, headers) of request i. With `budget_seconds`, no new
    request starts after that long once `min_samples` have been answered (a slow query cannot stall the run)."""
    counter = iter(range(total))
    lock = threading.Lock()
    samples: list[float] = []
    errors = [0]
    start = threading.Barrier(concurrency + 1)
    deadline = [float("inf")]

    def client() -> None:
        http_ = Http(port)
        start.wait()
        while True:
            with lock:
                over = budget_seconds is not None and len(samples) >= min_samples and time.perf_counter() > deadline[0]
                i = None if over else next(counter, None)
            if i is None:
                return
            method, path, body, headers = make_request(i)
            status, _, ms = http_.request(method, path, body, headers)
            with lock:
                samples.append(ms)
                if status != expect:
                    errors[0] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + (budget_seconds or 0)
    start.wait()
    for thread in threads:
        thread.join()
    return LoadResult(samples, len(samples) / (time.perf_counter() - began), errors[0])
