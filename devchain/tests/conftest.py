"""Session fixtures for devchain's own servers: one devnet and one IPFS server per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devchain.algod import DevnetProcess, start_devnet
from devchain.ipfs import IpfsProcess, start_ipfs


@pytest.fixture(scope="session")
def algod_devnet() -> Iterator[DevnetProcess]:
    """A devnet subprocess on a free loopback port (token ``devnet-token``), stopped by PID at the end."""
    with start_devnet() as devnet:
        yield devnet


@pytest.fixture(scope="session")
def ipfs_server() -> Iterator[IpfsProcess]:
    """An IPFS test server subprocess on a free loopback port, with bearer auth."""
    with start_ipfs(bearer_token="ipfs-test-token") as server:
        yield server
