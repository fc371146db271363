"""Session fixtures for devchain's own servers: one devnet and one IPFS server per test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from algosdk import account
from algosdk.v2client.algod import AlgodClient

from devchain.algod import DevnetProcess, start_devnet
from devchain.ipfs import IpfsProcess, start_ipfs

from .algod_helpers import Account


@pytest.fixture(scope="session")
def algod_devnet() -> Iterator[DevnetProcess]:
    """A devnet subprocess on a free loopback port (token ``devnet-token``), stopped by PID at the end."""
    with start_devnet() as devnet:
        yield devnet


@pytest.fixture(scope="session")
def algod(algod_devnet: DevnetProcess) -> AlgodClient:
    """An unmodified algosdk client of the session devnet."""
    return AlgodClient(algod_devnet.token, algod_devnet.url)


@pytest.fixture
def funded(algod_devnet: DevnetProcess) -> Callable[[int], Account]:
    """Make a new account funded with ``amount`` microAlgos by the dispenser: ``(private key, address)``."""
    def make(amount: int = 10_000_000) -> Account:
        sk, addr = account.generate_account()
        algod_devnet.fund(addr, amount)
        return sk, addr
    return make


@pytest.fixture(scope="session")
def ipfs_server() -> Iterator[IpfsProcess]:
    """An IPFS test server subprocess on a free loopback port, with bearer auth."""
    with start_ipfs(bearer_token="ipfs-test-token") as server:
        yield server
