"""Pytest fixtures for the local Algorand devnet and the IPFS test server (real servers on loopback,
never mocks).

`algod_devnet_node` is one devnet per test session, registered as the `algorand-localnet` network
(`settings.CHAIN_NODES["algorand-localnet"]`) while it runs; `ipfs_node` is one IPFS test server
(bearer auth) registered as `settings.IPFS_API_URL` / `IPFS_API_AUTH`. Both restore the previous
settings at teardown. The chain outlives each test's database rollback: accounts derived from the
same e-mail/password keep their balances and created assets, so tests read state relative to
what they find. (devchain's own tests use `algod_devnet` / `ipfs_server`; these names differ.)
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from devchain.algod import DevnetProcess, start_devnet
from devchain.ipfs import IpfsProcess, start_ipfs
from tests.chain_settings import network_node

ALGORAND_LOCAL_SLUG = "algorand-localnet"
IPFS_TEST_TOKEN = "biatec-ipfs-test-token"
_MISSING = object()


@pytest.fixture(scope="session")
def algod_devnet_node() -> Iterator[DevnetProcess]:
    node = start_devnet()
    try:
        with network_node(ALGORAND_LOCAL_SLUG, {"url": node.url, "token": node.token}):
            yield node
    finally:
        node.stop()


@pytest.fixture
def algorand_local(algod_devnet_node: DevnetProcess) -> Any:
    """The `algorand-localnet` network, backed by the session's devnet."""
    from tokens.networks import get_available_network

    return get_available_network(ALGORAND_LOCAL_SLUG)


@pytest.fixture(scope="session")
def ipfs_node() -> Iterator[IpfsProcess]:
    node = start_ipfs(bearer_token=IPFS_TEST_TOKEN)
    previous = {name: getattr(settings, name, _MISSING) for name in ("IPFS_API_URL", "IPFS_API_AUTH")}
    settings.IPFS_API_URL = node.url
    settings.IPFS_API_AUTH = f"Bearer {IPFS_TEST_TOKEN}"
    try:
        yield node
    finally:
        for name, value in previous.items():
            if value is _MISSING:
                delattr(settings, name)
            else:
                setattr(settings, name, value)
        node.stop()
