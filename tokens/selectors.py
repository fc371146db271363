"""Reads of the tokens app."""
from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from tokens.models import EvmNonceSequence
from tokens.networks import Network, all_networks


def network_public(network: Network) -> dict[str, Any]:
    """What anybody may know about a network. The node URL only for local networks: hosted
    providers' URLs carry API keys, loopback ones are what a developer needs to point a wallet at."""
    return {
        "slug": network.slug,
        "family": network.family,
        "name": network.name,
        "chain_id": network.chain_id,
        "genesis_id": network.genesis_id,
        "genesis_hash": network.genesis_hash,
        "confirmations": network.required_confirmations,
        "is_local": network.is_local,
        "available": network.available,
        "node_url": network.node_url if network.is_local else None,
        "explorer_tx_url": network.explorer_tx_url,
        "explorer_address_url": network.explorer_address_url,
    }


def network_list() -> list[dict[str, Any]]:
    """Every network of the registry, in registry order, available or not."""
    return [network_public(network) for network in all_networks()]


def nonce_sequence_get(*, chain_id: int, address: str) -> EvmNonceSequence | None:
    return EvmNonceSequence.objects.filter(chain_id=chain_id, address=to_checksum_address(address)).first()
