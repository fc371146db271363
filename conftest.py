"""Shared pytest fixtures: API clients, users (ARC-76 derivations memoised per session), log capture."""
from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from accounts import arc76

DEFAULT_PASSWORD = "correct horse battery staple 42!"

# Session-scoped local chain nodes (started on first use, stopped at the end of the session).
pytest_plugins = ["tests.fixtures_evm", "tests.fixtures_algorand"]


@pytest.fixture(autouse=True, scope="session")
def _memoise_key_derivation() -> Iterator[None]:
    """Each derivation is the real 999,999-iteration PBKDF2, run once per distinct input per session:
    tests reuse e-mail/password pairs instead of lowering the iteration count."""
    original_seed, original_evm = arc76.arc76_seed, arc76.evm_private_key
    arc76.arc76_seed = functools.lru_cache(maxsize=None)(original_seed)
    arc76.evm_private_key = functools.lru_cache(maxsize=None)(original_evm)
    yield
    arc76.arc76_seed, arc76.evm_private_key = original_seed, original_evm


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's `admin_client`, with its session verified by a second factor: the admin
    requires one (tests/otp.py, docs/mfa.md)."""
    from django.test import Client

    from tests.otp import otp_force_login

    client = Client()
    otp_force_login(client, admin_user)
    return client


def register(client: APIClient, email: str, password: str = DEFAULT_PASSWORD) -> dict:
    response = client.post("/api/v1/auth/register", {"email": email, "password": password}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def auth_client(tokens: dict) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


@pytest.fixture
def user_factory(db):
    """Registers users through the API; returns (body, authenticated client)."""

    def make(name: str = "alice", password: str = DEFAULT_PASSWORD) -> tuple[dict, APIClient]:
        body = register(APIClient(), f"{name}@example.com", password)
        return body, auth_client(body["tokens"])

    return make


class LogCapture:
    """Captures the JSON log lines exactly as the production handler formats them."""

    def __init__(self) -> None:
        from biatec.core.logging import CorrelationIdFilter, JsonLineFormatter, RedactingFilter

        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonLineFormatter())
        self.handler.addFilter(CorrelationIdFilter())
        self.handler.addFilter(RedactingFilter())
        self.handler.setLevel(logging.DEBUG)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        import json

        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def json_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture.handler)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture.handler)
    root.setLevel(previous)
