"""Webhook test fixtures: loopback HTTP receivers (real sockets, `http.server` in a thread),
organization members, subscriptions made through the API, and signature verification."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from accounts.models import Membership
from deployments.services import deployment_transition
from deployments.tests.factories import DeploymentFactory

HAPPY_PATH = ["submitted", "pending", "confirmed", "indexed", "completed"]


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["Biatec-Event-Id"]


class Receiver:
    """Answers each POST with the next scripted status (then `default_status`) and records it."""

    def __init__(self, statuses: list[int] | None = None, *, port: int = 0, default_status: int = 200) -> None:
        self.statuses = list(statuses or [])
        self.default_status = default_status
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                reply = json.dumps({"received": True, "status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/biatec"

    def types(self) -> list[str]:
        return [r.headers["Biatec-Event-Type"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A loopback port nobody listens on (a receiver that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_signature(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key == "t":
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    assert timestamp is not None, header
    return timestamp, signatures


def signature_valid(secret: str, request: ReceivedRequest) -> bool:
    """Verified independently of the app's code: HMAC-SHA256(secret, "<t>.<raw body>")."""
    timestamp, signatures = parse_signature(request.headers["Biatec-Signature"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    receivers: list[Receiver] = []

    def make(statuses: list[int] | None = None, **kwargs: Any) -> Receiver:
        receiver = Receiver(statuses, **kwargs)
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.close()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


@dataclass
class Member:
    membership: Membership
    client: Any

    @property
    def organization(self) -> Any:
        return self.membership.organization

    @property
    def user(self) -> Any:
        return self.membership.user

    def subscribe(self, url: str, **fields: Any) -> dict[str, Any]:
        body = {"url": url, "event_types": ["*"], **fields}
        response = self.client.post("/api/v1/webhooks/subscriptions", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    def deployment(self, **fields: Any) -> Any:
        return DeploymentFactory(organization=self.organization, creator=self.user, **fields)


def _member(user_factory: Callable[..., Any], name: str) -> Member:
    body, client = user_factory(name)
    membership = Membership.objects.select_related("user", "organization").get(user_id=body["id"])
    return Member(membership, client)


@pytest.fixture
def member(user_factory: Callable[..., Any]) -> Member:
    return _member(user_factory, "webhooks.alice")


@pytest.fixture
def other_member(user_factory: Callable[..., Any]) -> Member:
    return _member(user_factory, "webhooks.bob")


def transition(deployment: Any, to: str, **kwargs: Any) -> Any:
    return deployment_transition(deployment_id=deployment.pk, to=to, reason=f"test: {to}", actor="test", **kwargs)
