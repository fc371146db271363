"""Nonce sequences in PostgreSQL: concurrent reservations, rollback without gaps, reconciliation."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from accounts.models import User
from accounts.services import user_register
from accounts.signing import chain_key
from conftest import DEFAULT_PASSWORD
from tokens.chains import evm
from tokens.chains.evm_nonces import nonce_reconcile, nonce_reserve, nonce_sequence_ensure
from tokens.models import EvmNonceSequence
from tokens.networks import Network
from tokens.selectors import nonce_sequence_get

ADDRESS = "0x1111111111111111111111111111111111111111"
PREMINTED = {"name": "Nonce Test", "symbol": "NT", "decimals": 0, "total_supply": 100}


def _key(user: User, network: Network) -> dict:
    """Sender and signer of the user's account on `network`, as chain code takes them."""
    key = chain_key(user=user, network=network)
    return {"sender": key.address, "signer": key.open}


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_reservations_are_consecutive() -> None:
    barrier = threading.Barrier(50)

    def reserve(_: int) -> int:
        try:
            barrier.wait(timeout=30)
            return nonce_reserve(chain_id=31337, address=ADDRESS)
        finally:
            connection.close()  # each thread had its own connection

    with ThreadPoolExecutor(max_workers=50) as pool:
        nonces = list(pool.map(reserve, range(50)))

    assert sorted(nonces) == list(range(50))  # no duplicate, no gap; the row was created once
    assert EvmNonceSequence.objects.get(chain_id=31337, address=ADDRESS).next_nonce == 50
    assert EvmNonceSequence.objects.count() == 1


@pytest.mark.django_db
def test_sequences_are_per_chain_and_address_and_addresses_are_checksummed() -> None:
    assert nonce_reserve(chain_id=1, address=ADDRESS.lower()) == 0
    assert nonce_reserve(chain_id=1, address=ADDRESS) == 1
    assert nonce_reserve(chain_id=8453, address=ADDRESS) == 0
    assert nonce_reserve(chain_id=1, address="0x" + "22" * 20) == 0
    assert nonce_sequence_get(chain_id=1, address=ADDRESS).next_nonce == 2


@pytest.mark.django_db
def test_a_rolled_back_reservation_leaves_no_gap() -> None:
    assert nonce_reserve(chain_id=31337, address=ADDRESS) == 0
    with pytest.raises(RuntimeError), transaction.atomic():
        assert nonce_reserve(chain_id=31337, address=ADDRESS) == 1
        raise RuntimeError("signing or storing failed")
    assert nonce_reserve(chain_id=31337, address=ADDRESS) == 1


def _deploy_two(network: Network) -> tuple[User, str]:
    """Two deployments from a registered user's derived key; answers the user and the sender address."""
    user, _ = user_register(email="evm-nonces@example.com", password=DEFAULT_PASSWORD)
    for _ in range(2):
        signed = evm.deploy_transaction_prepare(**_key(user, network), network=network, standard="erc20-preminted",
                                                params=PREMINTED, reason="test")
        evm.broadcast(network=network, raw=signed.raw)
        evm.wait_for_receipt(network=network, tx_hash=signed.tx_hash)
    return user, signed.sender


@pytest.mark.chain
@pytest.mark.django_db
def test_sequence_is_seeded_from_the_chain(evm_local: Network) -> None:
    _, sender = _deploy_two(evm_local)
    EvmNonceSequence.objects.filter(address=sender).delete()
    nonce_sequence_ensure(network=evm_local, address=sender)
    pending = evm.pending_nonce(network=evm_local, address=sender)
    assert pending >= 2
    assert nonce_sequence_get(chain_id=31337, address=sender).next_nonce == pending
    nonce_sequence_ensure(network=evm_local, address=sender)  # existing: untouched
    assert nonce_sequence_get(chain_id=31337, address=sender).next_nonce == pending


@pytest.mark.chain
@pytest.mark.django_db
def test_reconcile_lowers_a_counter_ahead_of_the_chain(evm_local: Network) -> None:
    _, sender = _deploy_two(evm_local)
    pending = evm.pending_nonce(network=evm_local, address=sender)
    EvmNonceSequence.objects.filter(chain_id=31337, address=sender).update(next_nonce=pending + 5)

    kept = nonce_reconcile(network=evm_local, address=sender, allow_lower=False)  # stored txs may hold them
    assert kept.next_nonce == pending + 5 and not kept.changed

    result = nonce_reconcile(network=evm_local, address=sender)
    assert (result.previous, result.chain_pending, result.next_nonce) == (pending + 5, pending, pending)
    assert result.changed
    assert nonce_reserve(chain_id=31337, address=sender) == pending  # the gap is gone


@pytest.mark.chain
@pytest.mark.django_db
def test_reconcile_raises_a_counter_behind_the_chain(evm_local: Network) -> None:
    user, sender = _deploy_two(evm_local)
    pending = evm.pending_nonce(network=evm_local, address=sender)
    EvmNonceSequence.objects.filter(chain_id=31337, address=sender).update(next_nonce=0)

    result = nonce_reconcile(network=evm_local, address=sender, allow_lower=False)
    assert (result.previous, result.next_nonce) == (0, pending)
    row = nonce_sequence_get(chain_id=31337, address=sender)
    assert row.next_nonce == pending and row.reconciled_at is not None

    # and a deployment after the repair lands instead of failing with "nonce too low"
    signed = evm.deploy_transaction_prepare(**_key(user, evm_local), network=evm_local, standard="erc20-preminted",
                                            params=PREMINTED, reason="test")
    assert signed.nonce == pending
    evm.broadcast(network=evm_local, raw=signed.raw)
    assert evm.wait_for_receipt(network=evm_local, tx_hash=signed.tx_hash)["status"] == 1

