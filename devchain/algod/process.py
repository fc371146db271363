"""Start a loopback test server as a subprocess and stop it by PID.

Shared by the devnet and the IPFS test server.  The child prints
``KEY=value`` lines on stdout once it listens (``<PREFIX>_URL`` and
``<PREFIX>_PID``), which both this launcher and a Makefile can parse; the
port can therefore be 0 (the OS picks a free one, no race).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """Handle on a server subprocess: ``.url``, ``.pid``, ``.stop()``; a context manager."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self._proc = proc
        self.url = url
        self.pid = proc.pid

    def alive(self) -> bool:
        """True while the child has not exited."""
        return self._proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the child by its PID, SIGKILL it if it does not exit in ``timeout``."""
        if self._proc.poll() is not None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self._proc.wait(timeout)
        except ProcessLookupError:
            pass
        finally:
            if self._proc.stdout is not None:
                self._proc.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _drain(stream: IO[str]) -> None:
    """Keep reading the child's stdout so it can never block on a full pipe."""
    try:
        for _ in stream:
            pass
    except (OSError, ValueError):
        pass


def spawn(module: str, args: list[str], prefix: str, probe_path: str,
          headers: dict[str, str] | None = None, timeout: float = 20.0) -> tuple[subprocess.Popen[str], str]:
    """Run ``python -m module args``; wait for its URL line and a 2xx on ``probe_path``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=env, cwd=str(PROJECT_ROOT))
    deadline = time.monotonic() + timeout
    url = None
    assert proc.stdout is not None
    try:
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{module} exited before announcing its URL (rc={proc.poll()})")
            if line.startswith(f"{prefix}_URL="):
                url = line.strip().split("=", 1)[1]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{module} did not announce its URL in {timeout}s")
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        while True:
            try:
                req = urllib.request.Request(url + probe_path, headers=headers or {})
                with urllib.request.urlopen(req, timeout=2):
                    return proc, url
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None:
                    raise RuntimeError(f"{module} exited during start-up (rc={proc.returncode})") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{module} did not answer {probe_path} in {timeout}s") from None
                time.sleep(0.05)
    except BaseException:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        raise


def announce(prefix: str, url: str, pid_file: str | None = None, url_file: str | None = None) -> None:
    """Print the parsable start-up lines (and optionally write PID/URL files)."""
    pid = os.getpid()
    if pid_file:
        Path(pid_file).write_text(f"{pid}\n")
    if url_file:
        Path(url_file).write_text(f"{url}\n")
    print(f"{prefix}_PID={pid}", flush=True)
    print(f"{prefix}_URL={url}", flush=True)


def install_sigterm_exit() -> None:
    """Turn SIGTERM into SystemExit so ``finally`` blocks close the socket."""
    def _handler(signum: int, frame: object) -> None:
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, _handler)
