"""Chain adapters of the deployment pipeline, one per chain family."""
from __future__ import annotations

from tokens.networks import ALGORAND, EVM, get_network

from ..models import Deployment
from .algorand import AlgorandAdapter
from .base import BatchPolling, ChainAdapter, SignedTx, TxState
from .evm import EvmAdapter

__all__ = ["BatchPolling", "ChainAdapter", "SignedTx", "TxState", "adapter_for", "adapter_for_family"]

_ADAPTERS: dict[str, type] = {EVM: EvmAdapter, ALGORAND: AlgorandAdapter}


def adapter_for_family(family: str) -> ChainAdapter:
    try:
        return _ADAPTERS[family]()
    except KeyError:
        raise ValueError(f"no adapter for family {family}") from None


def adapter_for(deployment: Deployment) -> ChainAdapter:
    return adapter_for_family(get_network(deployment.network).family)
