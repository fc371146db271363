"""What the local chain servers (the Algorand devnet, the IPFS server) share: an error answer with a
status, a threading server that binds loopback only, and a handler that writes a whole body."""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StatusError(Exception):
    """An error answer: `message` with the HTTP `status`; each server renders it in its node's shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals: the local servers never listen elsewhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server that refuses any address but loopback (`what` names it in the error)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], *, what: str) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"{what} binds loopback only, not {host!r}")
        super().__init__((host, port), handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def run(self, ready: Callable[[LoopbackServer], Any] | None = None) -> None:
        """Serve until interrupted; `ready(server)` is called once it listens."""
        if ready is not None:
            ready(self)
        try:
            self.serve_forever(poll_interval=0.2)
        finally:
            self.server_close()


class BodyHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 handler whose answers carry their length (keep-alive clients need it)."""

    protocol_version = "HTTP/1.1"

    def _send(self, status: int, payload: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
