"""What the pipeline needs from a chain family. Adapters wrap the chain clients in `tokens.chains`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from tokens.networks import Network

from ..models import Deployment, DeploymentTransaction


@dataclass
class SignedTx:
    """A signed transaction (or Algorand group) ready to be stored, then broadcast."""

    step: str
    tx_id: str
    signed_bytes: bytes
    sender: str
    group_tx_ids: list[str] = field(default_factory=list)
    nonce: int | None = None
    first_valid: int | None = None
    last_valid: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


TxStateName = Literal["unknown", "pending", "confirmed", "failed", "dead"]


@dataclass
class TxState:
    """`unknown`: the node has not seen it (re-broadcast); `dead`: proven unable to land."""

    state: TxStateName
    confirmed_in: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    message: str = ""


class ChainAdapter(Protocol):
    def steps(self, deployment: Deployment) -> list[str]:
        """Ordered steps, e.g. ["create"] or ["create", "bootstrap"]."""

    def prepare(self, deployment: Deployment, step: str) -> list[SignedTx]:
        """Fund (local networks), build and sign the transactions of `step`. No broadcast."""

    def broadcast(self, tx: DeploymentTransaction) -> None:
        """Send the stored signed bytes; sending the same bytes again must be harmless."""

    def check(self, tx: DeploymentTransaction) -> TxState:
        """Where the transaction is now."""

    def step_results(self, deployment: Deployment, tx: DeploymentTransaction, state: TxState) -> dict[str, Any]:
        """Results learnt from a confirmed step (contract address, asset id, app id ...)."""

    def is_final(self, deployment: Deployment, tx: DeploymentTransaction) -> bool:
        """Enough confirmations for the network."""

    def read_back(self, deployment: Deployment) -> dict[str, Any]:
        """Read the token from the chain; raise TransactionFailed when it does not match the request."""


@runtime_checkable
class BatchPolling(Protocol):
    """Optional capability: one node query tells which of many broadcast transactions were mined
    (docs/decisions/0013-batched-receipt-polling.md). Families without it poll per deployment."""

    def poll_batch(self, *, network: Network, tx_ids: list[str]) -> set[str]:
        """The ids among `tx_ids` that now have a receipt; raises ChainUnavailable."""
