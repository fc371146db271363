"""Chain adapters of the deployment pipeline, one per chain family."""
from __future__ import annotations

from tokens.networks import ALGORAND, EVM, get_network

from ..models import Deployment
from .base import ChainAdapter, SignedTx, TxState

__all__ = ["ChainAdapter", "SignedTx", "TxState", "adapter_for"]


def adapter_for(deployment: Deployment) -> ChainAdapter:
    family = get_network(deployment.network).family
    if family == EVM:
        from .evm import EvmAdapter

        return EvmAdapter()
    if family == ALGORAND:
        from .algorand import AlgorandAdapter

        return AlgorandAdapter()
    raise ValueError(f"no adapter for family {family}")
