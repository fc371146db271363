"""EVM nonce sequences: one row per (chain id, address) in PostgreSQL, advanced under a row lock.

Why in the database and not from the node: `eth_getTransactionCount(pending)` lags behind a burst of
signatures (a transaction only counts once the node has it), so concurrent workers that ask the node
would sign the same nonce twice. The row lock serialises the workers of one account and only those.

Reservation belongs in the same database transaction that stores the signed transaction: if that
transaction rolls back, so does the reservation, and no gap is left behind.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from eth_utils import to_checksum_address

from biatec.core.faults import fault_point
from tokens.models import EvmNonceSequence
from tokens.networks import Network

from .evm_reads import pending_nonce


@dataclass(frozen=True)
class NonceReconciliation:
    address: str
    chain_id: int
    previous: int
    chain_pending: int
    next_nonce: int

    @property
    def changed(self) -> bool:
        return self.previous != self.next_nonce


def _locked_sequence(*, chain_id: int, address: str, initial: int = 0) -> EvmNonceSequence:
    """The sequence row, locked `FOR UPDATE`; created (at `initial`) if missing. Inside a transaction."""
    sequences = EvmNonceSequence.objects.select_for_update()
    sequence = sequences.filter(chain_id=chain_id, address=address).first()
    if sequence is None:
        # ON CONFLICT DO NOTHING: concurrent first reservations create one row; the losers wait for the
        # winner's commit and then lock the same row.
        EvmNonceSequence.objects.bulk_create(
            [EvmNonceSequence(chain_id=chain_id, address=address, next_nonce=initial)], ignore_conflicts=True
        )
        sequence = sequences.get(chain_id=chain_id, address=address)
    return sequence


@transaction.atomic
def nonce_reserve(*, chain_id: int, address: str, count: int = 1) -> int:
    """Take the next nonce of `address` on `chain_id` and advance the sequence by `count` (the
    caller owns nonces first .. first + count - 1, e.g. a batch distribution's transfers).

    A missing sequence starts at 0; call `nonce_sequence_ensure` first for an address that may have
    sent transactions already (it seeds the sequence from the chain).
    """
    sequence = _locked_sequence(chain_id=chain_id, address=to_checksum_address(address))
    nonce = sequence.next_nonce
    sequence.next_nonce = nonce + max(1, int(count))
    sequence.save(update_fields=["next_nonce", "updated_at"])
    fault_point("after_reserve")  # the fault suite kills here: the caller's rollback must leave no gap
    return nonce


def nonce_sequence_ensure(*, network: Network, address: str) -> None:
    """Create the sequence of `address` seeded with the chain's pending count, unless it exists."""
    address = to_checksum_address(address)
    chain_id = int(network.chain_id or 0)
    if EvmNonceSequence.objects.filter(chain_id=chain_id, address=address).exists():
        return
    pending = pending_nonce(network=network, address=address)
    EvmNonceSequence.objects.bulk_create(
        [EvmNonceSequence(chain_id=chain_id, address=address, next_nonce=pending, reconciled_at=timezone.now())],
        ignore_conflicts=True,
    )


@transaction.atomic
def nonce_reconcile(*, network: Network, address: str, allow_lower: bool = True) -> NonceReconciliation:
    """Repair the sequence of `address` against the node's `eth_getTransactionCount(address, "pending")`.

    Behind the chain (transactions sent by someone else, or a restored database): raised, always safe.
    Ahead of the chain (nonces reserved for transactions that never reached the node: a crash between
    reservation and broadcast, a node that dropped them): lowered to the pending count, because every
    later transaction would wait forever behind the gap. Lowering is only correct while no signed but
    unmined transaction of this address is stored: such bytes still hold their nonce and would be
    re-broadcast. The deployment pipeline therefore calls it with `allow_lower=True` only when it has
    no transaction of this address in `submitted`/`pending`, and with `allow_lower=False` otherwise.

    The node is asked while the row is locked, so no reservation of this address interleaves.
    """
    address = to_checksum_address(address)
    chain_id = int(network.chain_id or 0)
    sequence = _locked_sequence(chain_id=chain_id, address=address)
    previous = sequence.next_nonce
    chain_pending = pending_nonce(network=network, address=address)
    target = chain_pending if allow_lower else max(chain_pending, sequence.next_nonce)
    sequence.next_nonce = target
    sequence.reconciled_at = timezone.now()
    sequence.save(update_fields=["next_nonce", "reconciled_at", "updated_at"])
    return NonceReconciliation(address=address, chain_id=chain_id, previous=previous,
                               chain_pending=chain_pending, next_nonce=target)
