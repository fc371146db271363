"""Throttle tests: small rates, and a Redis key prefix of each test's own, whose keys are deleted
afterwards (never FLUSHDB: other test runs share the server)."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import caches


def _redis(alias: str = "throttle"):
    return caches[alias]._cache.get_client(None, write=True)


@pytest.fixture
def throttle_sandbox(settings) -> Iterator[Callable[..., str]]:
    """Gives `set_rates(scope="N/period", ...)`; returns the key prefix in use."""
    prefix = f"biatec-test-throttle-{uuid.uuid4().hex}"
    settings.CACHES = {**settings.CACHES, "throttle": {**settings.CACHES["throttle"], "KEY_PREFIX": prefix}}

    def set_rates(**rates: str) -> str:
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **rates}}
        return prefix

    yield set_rates
    client = _redis()
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def throttle_keys(prefix: str) -> list[str]:
    return [k.decode() for k in _redis().scan_iter(match=f"{prefix}:*")]
