"""What the pipeline needs from a chain family (docs/architecture.md, "Chain adapters").

Adapters wrap the chain clients of `tokens.chains`. They receive plain data, a `ChainJob` (the job,
with its network resolved once) and `StoredTx` snapshots of stored transactions, never ORM rows, and
they never query the database: the pipeline reads and writes the rows.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from biatec.core.errors import TransactionFailed
from tokens.chains.signing import SignerContext
from tokens.networks import Network


@dataclass(frozen=True)
class ChainJob:
    """One chain job (a deployment, or an `operation` on a deployed token): what to do, where, and
    with whose key. For an operation, `target` is the token on chain (contract address / asset id /
    app id, issuer) and `co_signers` the keys of platform users it must also sign for (opt-ins)."""

    id: str
    standard: str
    network: Network
    sender: str
    signer: SignerContext
    request: Mapping[str, Any]
    results: Mapping[str, Any] = field(default_factory=dict)
    # (standard, step) of the sender's other signed, not yet confirmed transactions on this network,
    # given to `prepare`: what they will still spend, so funding covers them too.
    in_flight: tuple[tuple[str, str, int | None], ...] = ()
    """(standard, step, microAlgos it spends or None: the step's own cost) of unconfirmed transactions."""
    operation: str = ""
    target: Mapping[str, Any] = field(default_factory=dict)
    co_signers: Mapping[str, SignerContext] = field(default_factory=dict)


@dataclass
class SignedTx:
    """A signed transaction (or Algorand group) ready to be stored, then broadcast."""

    step: str
    tx_id: str
    signed_bytes: bytes
    sender: str
    group_tx_ids: list[str] = field(default_factory=list)
    part: int = 0
    nonce: int | None = None
    first_valid: int | None = None
    last_valid: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredTx:
    """A stored transaction as adapters see it."""

    step: str
    tx_id: str
    sender: str
    signed_bytes: bytes
    nonce: int | None = None
    last_valid: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None  # when it was signed and stored
    part: int = 0


@dataclass(frozen=True)
class ClaimedIds:
    """Asset and app ids that other jobs on the same network already recorded as theirs."""

    asset_ids: frozenset[int] = frozenset()
    app_ids: frozenset[int] = frozenset()


TxStateName = Literal["unknown", "pending", "confirmed", "failed", "expired", "dead"]


@dataclass
class TxState:
    """`unknown`: the node has not seen it (re-broadcast); `dead`: proven unable to land; `expired`:
    past its validity window, dead unless `created_anyway` finds what it created."""

    state: TxStateName
    confirmed_in: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    message: str = ""


class ChainAdapter(Protocol):
    def steps(self, job: ChainJob) -> list[str]:
        """Ordered steps, e.g. ["create"] or ["app_create", "bootstrap"]."""

    def part_count(self, job: ChainJob, step: str) -> int:
        """How many independent parts `step` has (1, or a batch's transactions / groups)."""

    def prepare(self, job: ChainJob, step: str, *, skip_parts: frozenset[int] = frozenset()) -> list[SignedTx]:
        """Fund (local networks), reserve the nonce or lease, build and sign the transactions of
        `step`, one per part not in `skip_parts` (those are stored already, or landed)."""

    def broadcast(self, job: ChainJob, tx: StoredTx) -> None:
        """Send the stored signed bytes; sending the same bytes again must be harmless."""

    def check(self, job: ChainJob, tx: StoredTx) -> TxState:
        """Where the transaction is now."""

    def created_anyway(self, job: ChainJob, tx: StoredTx, *, claimed: ClaimedIds) -> dict[str, Any] | None:
        """For an `expired` transaction: what it created after all (step results), or None."""

    def step_results(self, job: ChainJob, tx: StoredTx, state: TxState) -> dict[str, Any]:
        """Results learnt from a confirmed step (contract address, asset id, app id ...)."""

    def is_final(self, job: ChainJob, tx: StoredTx) -> bool:
        """Enough confirmations for the network."""

    def read_back(self, job: ChainJob) -> dict[str, Any]:
        """Read the token from the chain; raise TransactionFailed when it does not match the request."""


@runtime_checkable
class BatchPolling(Protocol):
    """Optional capability: one node query tells which of many broadcast transactions were mined
    (docs/decisions/0013-batched-receipt-polling.md). Families without it poll per deployment."""

    def poll_batch(self, *, network: Network, tx_ids: list[str]) -> set[str]:
        """The ids among `tx_ids` that now have a receipt; raises ChainUnavailable."""


@runtime_checkable
class FeeReporting(Protocol):
    """Optional capability (metering, docs/plans-and-usage.md): the chain fee a settled transaction
    paid, as (amount in the network's base unit, unit), or None when it paid nothing."""

    def fee(self, job: ChainJob, tx: StoredTx, state: TxState) -> tuple[int, str] | None:
        """(amount, "wei" | "microalgo") or None."""


def read_back_compare(token: Mapping[str, Any], expected: Mapping[str, Any], **details: Any) -> dict[str, Any]:
    """The token as read from the chain (integers as strings), or TransactionFailed naming every field
    that differs from `expected`."""
    mismatched = {k: {"expected": str(v), "on_chain": str(token.get(k))}
                  for k, v in expected.items() if token.get(k) != v}
    if mismatched:
        raise TransactionFailed("The token on chain does not match the request.",
                                details={"mismatched": mismatched, **details})
    return {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in token.items()}
