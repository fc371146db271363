"""The local faucet comes in through the LOCAL_FAUCET setting (tokens/chains/faucet.py): nothing under
tokens/ imports devchain, a network is funded only when it is local and a faucet is configured."""
from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from biatec.core.errors import InsufficientFunds
from devchain import faucet as devchain_faucet
from tokens.chains import evm
from tokens.chains.faucet import local_faucet
from tokens.networks import Network

pytestmark = pytest.mark.chain
CALLS: list[dict] = []


def recording_faucet(**kwargs) -> None:
    CALLS.append(kwargs)
    devchain_faucet.fund(**kwargs)


def test_the_configured_faucet_funds_a_local_network(evm_local: Network, settings) -> None:
    settings.LOCAL_FAUCET = f"{__name__}.recording_faucet"
    CALLS.clear()
    address = "0x00000000000000000000000000000000000fa0c1"
    before = evm.get_balance(network=evm_local, address=address)
    assert evm.ensure_funded(network=evm_local, address=address, needed_wei=before + 10**17) >= before + 10**17
    assert [(c["family"], c["address"], c["node_url"]) for c in CALLS] == [
        ("evm", to_checksum_address(address), evm_local.node_url)]


def test_without_a_faucet_a_local_network_is_not_funded(evm_local: Network, settings) -> None:
    settings.LOCAL_FAUCET = ""
    address = "0x00000000000000000000000000000000000fa0c2"
    before = evm.get_balance(network=evm_local, address=address)
    with pytest.raises(InsufficientFunds):
        evm.ensure_funded(network=evm_local, address=address, needed_wei=before + 10**17)
    assert evm.get_balance(network=evm_local, address=address) == before


def test_public_networks_never_get_a_faucet(settings) -> None:
    settings.LOCAL_FAUCET = "devchain.faucet.fund"
    assert local_faucet(Network("ethereum-mainnet", "evm", "Ethereum", chain_id=1)) is None
    assert local_faucet(Network("evm-local", "evm", "Local", chain_id=31337, is_local=True)) is devchain_faucet.fund
