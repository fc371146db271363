"""Chain adapters of the deployment pipeline, one per chain family (docs/architecture.md,
"Chain adapters")."""
from __future__ import annotations

from tokens.networks import ALGORAND, EVM

from .algorand import AlgorandAdapter
from .algorand_operations import AlgorandOperationAdapter
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
from .evm_operations import EvmOperationAdapter

__all__ = ["BatchPolling", "ChainAdapter", "ChainJob", "ClaimedIds", "SignedTx", "StoredTx", "TxState",
           "adapter_for_family", "adapter_for_job", "read_back_compare"]

_ADAPTERS: dict[str, type[ChainAdapter]] = {EVM: EvmAdapter, ALGORAND: AlgorandAdapter}


def adapter_for_family(family: str) -> ChainAdapter:
    try:
        return _ADAPTERS[family]()
    except KeyError:
        raise ValueError(f"no adapter for family {family}") from None


_OPERATION_ADAPTERS: dict[str, type[ChainAdapter]] = {EVM: EvmOperationAdapter, ALGORAND: AlgorandOperationAdapter}


def adapter_for_job(family: str, *, operation: bool) -> ChainAdapter:
    """The deployment adapter of the family, or its token-operation adapter."""
    if not operation:
        return adapter_for_family(family)
    try:
        return _OPERATION_ADAPTERS[family]()
    except KeyError:
        raise ValueError(f"no operation adapter for family {family}") from None
