"""Local EVM node (Foundry's anvil) for tests, ``make run`` and ``make demo``.

Why this module exists: every EVM behaviour of the product is tested against a real node on
loopback, never a mock. anvil comes from npm (``@foundry-rs/anvil``, pinned in package.json and
installed by ``npm ci``), starts in a fraction of a second, and several instances with different
chain ids on different ports simulate several chains.

Design choices:

* The native binary inside the platform package is started directly (not the ``node`` wrapper
  in ``node_modules/.bin``) so that ``.pid`` is anvil's own PID and a SIGKILL cannot orphan it.
  The wrapper is the fallback; anvil runs in its own session either way, and signals go to
  that process group, which contains only what we started.
* Every instance gets a ``--state`` file. anvil 1.7.1 loads it at start and dumps chain state,
  blocks, transactions and receipts into it when it receives SIGTERM, so ``restart()`` brings
  the same chain back on the same port ("node down, then back" tests).
* The dev faucet key (anvil's first prefunded account from the public default mnemonic) is
  defined here and nowhere else; ``fund()`` refuses non-loopback URLs so that the well-known
  key is never used against a public network.

Run standalone: ``python -m devchain.anvil --chain-id 31337 --port 8545`` prints ``URL=...``
and ``PID=...`` and keeps the node up until interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Private key of anvil's account 0 for the default mnemonic
#: "test test test test test test test test test test test junk". Public knowledge; it holds
#: 10 000 ETH on every fresh anvil chain. Only devchain may use it (dev faucet).
DEV_FAUCET_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#: Address of :data:`DEV_FAUCET_PRIVATE_KEY` (checked by the tests).
DEV_FAUCET_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"

DEFAULT_CHAIN_ID = 31337
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_MACHINE_TO_NPM_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
}
_FUND_LOCK = threading.Lock()
_LIVE: set[AnvilProcess] = set()
_LIVE_LOCK = threading.Lock()
_rpc_ids = itertools.count(1)


class AnvilError(RuntimeError):
    """anvil could not be found, started or reached."""


def find_anvil_binary() -> Path:
    """Locate the anvil executable.

    Order: ``$ANVIL_BIN``; the native binary of the platform package
    (``node_modules/@foundry-rs/anvil-<os>-<arch>/bin/anvil``); the npm wrapper
    ``node_modules/.bin/anvil``. The native binary comes first because the wrapper is a
    node process that would sit between us and anvil (see the module docstring).
    """
    override = os.environ.get("ANVIL_BIN")
    if override:
        path = Path(override)
        if not path.is_file():
            raise AnvilError(f"ANVIL_BIN={override!r} is not a file")
        return path
    os_name = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, sys.platform)
    arch = _MACHINE_TO_NPM_ARCH.get(platform.machine().lower(), platform.machine().lower())
    exe = "anvil.exe" if os_name == "win32" else "anvil"
    candidates = [
        REPO_ROOT / "node_modules" / "@foundry-rs" / f"anvil-{os_name}-{arch}" / "bin" / exe,
        REPO_ROOT / "node_modules" / ".bin" / "anvil",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise AnvilError(
        "anvil not found under node_modules; run `npm ci` in "
        f"{REPO_ROOT} (or set ANVIL_BIN). Looked at: {', '.join(map(str, candidates))}"
    )


def rpc(url: str, method: str, params: Sequence[Any] | None = None, timeout: float = 5.0) -> Any:
    """Make one JSON-RPC call with the standard library and return ``result``.

    Used for readiness checks so that starting a node does not depend on web3's retry and
    middleware behaviour. Raises :class:`AnvilError` on a JSON-RPC error object.
    """
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": next(_rpc_ids),
            "method": method,
            "params": list(params or []),
        }
    ).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = json.loads(response.read())
    if "error" in payload:
        raise AnvilError(f"{method} failed: {payload['error']}")
    return payload["result"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port``.

    Checked before starting because a node already listening there (say another anvil with
    the same chain id) would answer our readiness probe and hide the fact that ours failed.
    SO_REUSEADDR makes TIME_WAIT leftovers of a just-stopped node count as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class AnvilProcess:
    """A running anvil node started by :func:`start_anvil`.

    Attributes: ``url`` (HTTP JSON-RPC endpoint), ``chain_id``, ``port``, ``pid`` (anvil's
    process id; changes on :meth:`restart`), ``state_path`` (file anvil loads at start and
    dumps to on SIGTERM), ``startup_seconds`` (time from spawn to first ``eth_chainId``).
    Usable as a context manager: leaving the block stops the node and removes the temporary
    state directory if this object created it.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        chain_id: int,
        port: int,
        binary: Path,
        state_path: Path,
        owns_state_dir: bool,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 15.0,
    ) -> None:
        self.chain_id = chain_id
        self.port = port
        self.binary = binary
        self.state_path = state_path
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.startup_seconds = 0.0
        self._owns_state_dir = owns_state_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path = state_path.parent / f"anvil-{port}.log"

    @property
    def url(self) -> str:
        """HTTP JSON-RPC URL of the node."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """PID of the anvil process (raises if it is not running)."""
        if self._proc is None:
            raise AnvilError("anvil is not running")
        return self._proc.pid

    def is_running(self) -> bool:
        """True while the process we started has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def _command(self) -> list[str]:
        return [
            str(self.binary),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--state", str(self.state_path),
            "--silent",
            *self.extra_args,
        ]  # fmt: skip

    def _launch(self) -> None:
        """Spawn anvil and block until it answers ``eth_chainId`` with our chain id."""
        if not _port_is_free(self.host, self.port):
            raise AnvilError(f"port {self.host}:{self.port} is already in use")
        started = time.monotonic()
        with open(self._log_path, "ab") as log:
            # Own session: Ctrl-C in the parent's terminal does not kill anvil before it can
            # dump its state, and killpg() reaches the native binary behind the npm wrapper.
            self._proc = subprocess.Popen(  # fixed argv, no shell
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with _LIVE_LOCK:
            _LIVE.add(self)
        deadline = started + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise AnvilError(f"anvil exited with code {self._proc.returncode} during startup: {self._log_tail()}")
            try:
                answered = int(rpc(self.url, "eth_chainId", timeout=1.0), 16)
            except (OSError, AnvilError, ValueError) as exc:  # not listening yet
                last_error = exc
                time.sleep(0.02)
                continue
            if answered != self.chain_id:
                self.stop()
                raise AnvilError(f"node on port {self.port} reports chain id {answered}")
            self.startup_seconds = time.monotonic() - started
            return
        self.stop()
        raise AnvilError(
            f"anvil did not answer eth_chainId within {self.startup_timeout}s ({last_error}); log: {self._log_tail()}"
        )

    def _log_tail(self, limit: int = 2000) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-limit:].strip() or "(empty)"
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop anvil: SIGTERM (anvil dumps its state file), then SIGKILL after ``timeout``.

        Signals go to anvil's own process group, whose id is its PID; nothing else is in it.
        Idempotent. A SIGKILL fallback loses the chain changes since the last dump.
        """
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self._proc = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def restart(self) -> AnvilProcess:
        """Stop and start again on the same port and chain id, keeping the chain.

        anvil 1.7.1 writes accounts, blocks, transactions and receipts to ``state_path`` on
        SIGTERM and loads them at start, so block number, balances, nonces, contracts and
        receipts survive. Returns ``self`` (with a new ``pid``).
        """
        self.stop()
        self._launch()
        return self

    def close(self) -> None:
        """Stop the node and delete the temporary state directory if we created it."""
        self.stop()
        if self._owns_state_dir:
            shutil.rmtree(self.state_path.parent, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid={self._proc.pid}" if self._proc else "stopped"
        return f"<AnvilProcess {self.url} chain_id={self.chain_id} {state}>"


def start_anvil(
    chain_id: int = DEFAULT_CHAIN_ID,
    port: int | None = None,
    *,
    state_path: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 15.0,
) -> AnvilProcess:
    """Start anvil on 127.0.0.1 and return once it answers ``eth_chainId``.

    ``port=None`` picks a free port (retrying if another process grabs it first), so parallel
    test sessions never collide. ``state_path`` defaults to a file in a fresh temporary
    directory that :meth:`AnvilProcess.close` removes; pass a path to keep the chain across
    runs. ``extra_args`` are appended to the anvil command line (e.g. ``["--block-time", "1"]``).
    """
    binary = find_anvil_binary()
    owns_state_dir = state_path is None
    if state_path is None:
        state_file = Path(tempfile.mkdtemp(prefix="biatec-anvil-")) / "state.json"
    else:
        state_file = Path(state_path).resolve()
        state_file.parent.mkdir(parents=True, exist_ok=True)
    attempts = 1 if port is not None else 3
    for attempt in range(attempts):
        node = AnvilProcess(
            chain_id=chain_id,
            port=port if port is not None else free_port(),
            binary=binary,
            state_path=state_file,
            owns_state_dir=owns_state_dir,
            extra_args=extra_args,
            startup_timeout=startup_timeout,
        )
        try:
            node._launch()
        except AnvilError:
            node.stop()
            if attempt + 1 == attempts:
                if owns_state_dir:
                    shutil.rmtree(state_file.parent, ignore_errors=True)
                raise
            continue
        return node
    raise AssertionError("unreachable")


def _check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise AnvilError(f"the dev faucet only funds on loopback nodes, not {url!r}")


@contextlib.contextmanager
def _faucet_lock(url: str) -> Iterator[None]:
    """One faucet transfer at a time per node, across threads (a lock) and processes (an exclusive
    `flock` on a file named after the node's URL). Faucet nodes are loopback-only, so every process
    that can fund from one runs on this machine."""
    name = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"biatec-faucet-{name}.lock"
    with _FUND_LOCK, path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fund(url: str, address: str, wei: int, *, timeout: float = 30.0) -> dict[str, Any]:
    """Send ``wei`` from the dev faucet to ``address`` and wait for the receipt.

    A real signed EIP-1559 transfer (not ``anvil_setBalance``), so funding exercises the same
    path as production: chain id, nonce, fees, signature, mining. Serialised across threads
    and processes (`_faucet_lock`) so that concurrent callers, several Celery workers
    included, never race for the faucet's nonce. Returns the
    receipt as a plain dict; raises :class:`AnvilError` if the transfer reverted.
    """
    from eth_account import Account
    from web3 import Web3

    _check_loopback(url)
    if wei < 0:
        raise ValueError("wei must be >= 0")
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
    to = Web3.to_checksum_address(address)
    with _faucet_lock(url):
        chain_id = w3.eth.chain_id
        nonce = w3.eth.get_transaction_count(DEV_FAUCET_ADDRESS, "pending")
        base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        priority = 1_000_000_000
        tx = {
            "chainId": chain_id,
            "nonce": nonce,
            "to": to,
            "value": int(wei),
            "type": 2,
            "maxPriorityFeePerGas": priority,
            "maxFeePerGas": 2 * base_fee + priority,
        }
        tx["gas"] = w3.eth.estimate_gas({"from": DEV_FAUCET_ADDRESS, "to": to, "value": int(wei)})
        signed = Account.sign_transaction(tx, DEV_FAUCET_PRIVATE_KEY)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
    if receipt["status"] != 1:
        raise AnvilError(f"faucet transfer {tx_hash.to_0x_hex()} reverted")
    return dict(receipt)


@atexit.register
def _stop_leftovers() -> None:
    """Stop nodes this Python process started and forgot, so no anvil outlives its test run."""
    with _LIVE_LOCK:
        leftovers = list(_LIVE)
    for node in leftovers:
        with contextlib.suppress(Exception):
            node.stop(timeout=5.0)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry: start a node, print ``URL=``/``PID=`` lines, run until killed."""
    parser = argparse.ArgumentParser(
        prog="python -m devchain.anvil",
        description="Run a local anvil EVM node on loopback.",
    )
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--state", default=None, help="state file to load and dump (keeps chain)")
    args = parser.parse_args(argv)

    stop_requested = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    node = start_anvil(args.chain_id, args.port, state_path=args.state)
    print(f"URL={node.url}", flush=True)
    print(f"PID={node.pid}", flush=True)
    print(f"CHAIN_ID={node.chain_id}", flush=True)
    print(f"STARTUP_SECONDS={node.startup_seconds:.3f}", flush=True)
    try:
        while not stop_requested.wait(0.5):
            if not node.is_running():
                print("anvil exited unexpectedly", file=sys.stderr, flush=True)
                return 1
    finally:
        node.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
