"""Pytest fixtures for local EVM nodes (anvil on loopback, never a mock).

`anvil_node` is one node per test session for chain id 31337, registered as the `evm-local` network
(`settings.CHAIN_NODES["evm-local"]`) for as long as it runs. Its chain outlives each test's database
rollback: addresses derived from the same e-mail/password keep their on-chain nonces, so tests seed
nonce sequences from the chain (`tokens.chains.evm_nonces.nonce_sequence_ensure`) rather than assume 0.

`anvil_factory` starts extra, function-scoped nodes (node-down tests, several chains at once).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devchain.anvil import AnvilProcess, start_anvil
from tests.chain_settings import network_node

EVM_LOCAL_SLUG = "evm-local"
EVM_LOCAL_CHAIN_ID = 31337


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilProcess]:
    node = start_anvil(chain_id=EVM_LOCAL_CHAIN_ID)
    try:
        with network_node(EVM_LOCAL_SLUG, {"url": node.url}):
            yield node
    finally:
        node.close()


@pytest.fixture
def evm_local(anvil_node: AnvilProcess) -> Any:
    """The `evm-local` network, backed by the session's anvil node."""
    from tokens.networks import get_available_network

    return get_available_network(EVM_LOCAL_SLUG)


@pytest.fixture
def anvil_factory() -> Iterator[Callable[..., AnvilProcess]]:
    """Start extra anvil nodes for one test; all are stopped and removed at its end."""
    started: list[AnvilProcess] = []

    def make(chain_id: int = EVM_LOCAL_CHAIN_ID, **kwargs: Any) -> AnvilProcess:
        node = start_anvil(chain_id=chain_id, **kwargs)
        started.append(node)
        return node

    yield make
    for node in started:
        node.close()
