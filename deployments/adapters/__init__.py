"""Chain adapters of the deployment pipeline, one per chain family (docs/architecture.md,
"Chain adapters")."""
from __future__ import annotations

from tokens.networks import ALGORAND, EVM

from .algorand import AlgorandAdapter
from .base import (
    BatchPolling,
    ChainAdapter,
    ChainJob,
    ClaimedIds,
    SignedTx,
    StoredTx,
    TxState,
    read_back_compare,
)
from .evm import EvmAdapter

__all__ = ["BatchPolling", "ChainAdapter", "ChainJob", "ClaimedIds", "SignedTx", "StoredTx", "TxState",
           "adapter_for_family", "read_back_compare"]

_ADAPTERS: dict[str, type[ChainAdapter]] = {EVM: EvmAdapter, ALGORAND: AlgorandAdapter}


def adapter_for_family(family: str) -> ChainAdapter:
    try:
        return _ADAPTERS[family]()
    except KeyError:
        raise ValueError(f"no adapter for family {family}") from None
