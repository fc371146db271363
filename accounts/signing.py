"""Signer contexts: the only place where sealed keys are opened.

The chain layer asks for a signer (`algorand_signer`, `evm_signer`), signs inside the `with`
block and gets signed bytes back; the decrypted key never leaves the signer and is dropped when
the block ends. Every use is recorded as a `key_use` security event (never the key itself).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from algosdk import transaction as algo_txn
from algosdk.atomic_transaction_composer import AccountTransactionSigner
from django.db import IntegrityError, transaction
from eth_account import Account
from eth_account.datastructures import SignedTransaction as EvmSignedTransaction

from tokens.networks import EVM, Network

from . import arc76, keyvault
from .models import EncryptedSecret, EvmAccount, SecurityEvent, User
from .security_events import security_event_record
from .treasury import treasury_account_ensure

logger = logging.getLogger(__name__)

PURPOSE_ARC76 = "arc76-seed"


def evm_purpose(chain_id: int) -> str:
    return f"evm-key:{chain_id}"


class AlgorandSigner:
    """Signs Algorand transactions with a user's ARC-76 key."""

    __slots__ = ("address", "_private_key")

    def __init__(self, seed: bytes) -> None:
        self.address = arc76.algorand_address(seed)
        self._private_key: str | None = arc76.algorand_private_key(seed)

    def __repr__(self) -> str:
        return f"AlgorandSigner({self.address})"

    def _key(self) -> str:
        if self._private_key is None:
            raise RuntimeError("signer used outside its context")
        return self._private_key

    def sign(self, txn: algo_txn.Transaction) -> algo_txn.SignedTransaction:
        return self.sign_group([txn])[0]

    def sign_group(self, txns: list[algo_txn.Transaction]) -> list[algo_txn.SignedTransaction]:
        signed = AccountTransactionSigner(self._key()).sign_transactions(list(txns), list(range(len(txns))))
        return list(signed)  # type: ignore[arg-type]

    def close(self) -> None:
        self._private_key = None


class EvmSigner:
    """Signs EVM transactions with a user's per-chain key."""

    __slots__ = ("address", "chain_id", "_account")

    def __init__(self, private_key: bytes, chain_id: int) -> None:
        self._account: Any = Account.from_key(private_key)
        self.address: str = self._account.address
        self.chain_id = chain_id

    def __repr__(self) -> str:
        return f"EvmSigner({self.address}, chain {self.chain_id})"

    def sign_transaction(self, tx: dict[str, Any]) -> EvmSignedTransaction:
        if self._account is None:
            raise RuntimeError("signer used outside its context")
        if int(tx.get("chainId", -1)) != self.chain_id:
            raise ValueError("transaction chainId does not match the signer's chain")
        return self._account.sign_transaction(tx)

    def close(self) -> None:
        self._account = None


def _record_key_use(user: User, purpose: str, reason: str, organization_id: Any = None) -> None:
    security_event_record(
        event_type=SecurityEvent.Type.KEY_USE, user=user, details={"key": purpose, "reason": reason},
        organization_id=organization_id,
    )


@contextmanager
def algorand_signer(*, user: User, reason: str, organization_id: Any = None) -> Iterator[AlgorandSigner]:
    """The signer of the user's ARC-76 key; the key use is recorded for `organization_id` (the job's
    organization; default the user's primary one)."""
    if user.arc76_secret_id is None:
        raise keyvault.KeyVaultError("This user has no chain account.")
    secret = EncryptedSecret.objects.get(pk=user.arc76_secret_id)
    signer = AlgorandSigner(keyvault.open_sealed(secret))
    _record_key_use(user, PURPOSE_ARC76, reason, organization_id)
    try:
        yield signer
    finally:
        signer.close()


def evm_account_ensure(*, user: User, chain_id: int) -> EvmAccount:
    """The user's EVM account for `chain_id`, deriving and sealing it on first use (~1 s)."""
    existing = EvmAccount.objects.filter(user=user, chain_id=chain_id).first()
    if existing:
        return existing
    if user.arc76_secret_id is None:
        raise keyvault.KeyVaultError("This user has no chain account.")
    seed_secret_id = user.arc76_secret_id
    seed_secret = EncryptedSecret.objects.filter(pk=seed_secret_id, purpose=PURPOSE_ARC76).first()
    if seed_secret is None:  # retired (or destroyed) by a password change since `user` was read
        user.refresh_from_db(fields=["arc76_secret", "algorand_address"])
        if user.arc76_secret_id == seed_secret_id:
            raise keyvault.KeyVaultError("The user's chain account key is missing.")
        return evm_account_ensure(user=user, chain_id=chain_id)
    seed = keyvault.open_sealed(seed_secret)
    private_key = arc76.evm_private_key(seed, chain_id)
    address = Account.from_key(private_key).address
    try:
        with transaction.atomic():
            # Still the user's seed? A password change may have retired it during the derivation
            # (accounts/key_rotation.py locks it too): then derive from the new one.
            current = EncryptedSecret.objects.select_for_update().filter(pk=seed_secret_id, purpose=PURPOSE_ARC76)
            if not current.exists():
                user.refresh_from_db(fields=["arc76_secret", "algorand_address"])
                raise _SeedRetired()
            secret = keyvault.seal(private_key, owner_id=str(user.pk), purpose=evm_purpose(chain_id))
            secret.save()
            account = EvmAccount.objects.create(user=user, chain_id=chain_id, address=address, secret=secret)
            security_event_record(
                event_type=SecurityEvent.Type.KEY_DERIVED, user=user,
                details={"key": evm_purpose(chain_id), "address": address},
            )
    except IntegrityError:  # derived concurrently by another worker: same key, keep theirs
        return EvmAccount.objects.get(user=user, chain_id=chain_id)
    except _SeedRetired:
        return evm_account_ensure(user=user, chain_id=chain_id)
    return account


class _SeedRetired(Exception):
    """The seed an EVM key was being derived from was retired meanwhile (`evm_account_ensure`)."""


@contextmanager
def evm_signer(*, user: User, chain_id: int, reason: str, account: EvmAccount | None = None,
               organization_id: Any = None) -> Iterator[EvmSigner]:
    """The signer of the user's key on `chain_id` (`account`: that key's row when the caller has it); the
    key use is recorded for `organization_id` (the job's organization; default the user's primary one)."""
    if account is None or account.user_id != user.pk or account.chain_id != chain_id:
        account = evm_account_ensure(user=user, chain_id=chain_id)
    secret = EncryptedSecret.objects.get(pk=account.secret_id)
    signer = EvmSigner(keyvault.open_sealed(secret), chain_id)
    _record_key_use(user, evm_purpose(chain_id), reason, organization_id)
    try:
        yield signer
    finally:
        signer.close()


@dataclass(frozen=True)
class ChainKey:
    """A user's account on one network, as chain code takes it (`tokens.chains.signing`): the
    sender address, and `open(reason)`, the signer context of that account's key."""

    address: str
    open: Callable[[str], AbstractContextManager[Any]]


def chain_key(*, user: User, network: Network, organization_id: Any = None) -> ChainKey:
    """The user's key on `network` (an EVM key is derived and sealed on first use, ~1 s); each use of it
    is recorded for `organization_id`, the organization whose job signs (default the user's primary)."""
    if network.family == EVM:
        chain_id = int(network.chain_id or 0)
        account = evm_account_ensure(user=user, chain_id=chain_id)
        return ChainKey(address=account.address, open=lambda reason: evm_signer(
            user=user, chain_id=chain_id, reason=reason, account=account, organization_id=organization_id))
    return ChainKey(address=user.algorand_address, open=lambda reason: algorand_signer(
        user=user, reason=reason, organization_id=organization_id))


# ---- organization treasury (accounts/treasury.py, docs/treasury.md) -------------------------------
@contextmanager
def treasury_signer(*, account: Any, reason: str) -> Iterator[AlgorandSigner | EvmSigner]:
    """The signer of an organization's treasury key (`account`: its `OrganizationAccount`); the key
    use is recorded in that organization, with no user."""
    secret = EncryptedSecret.objects.get(pk=account.secret_id)
    material = keyvault.open_sealed(secret)
    signer: AlgorandSigner | EvmSigner = (EvmSigner(material, int(account.chain_id)) if account.family == EVM
                                          else AlgorandSigner(material))
    security_event_record(event_type=SecurityEvent.Type.KEY_USE, organization_id=account.organization_id,
                          details={"key": secret.purpose, "reason": reason, "account": "organization"})
    try:
        yield signer
    finally:
        signer.close()


def treasury_chain_key(*, organization_id: Any, network: Network) -> ChainKey:
    """The organization's treasury key on `network` (created on first use: a random key, sealed)."""
    account = treasury_account_ensure(organization_id=organization_id, network=network)
    return ChainKey(address=account.address, open=lambda reason: treasury_signer(account=account, reason=reason))


# ---------------------------------------------------------------------------------- key rotation
# A password change's new ARC-76 account (accounts/key_rotation.py): the old keys are re-sealed under a
# retired purpose and stay usable by the server only, through `retired_chain_key`, until destroyed.

def retired_purpose(rotation_id: Any, purpose: str) -> str:
    return f"retired:{rotation_id}:{purpose}"


def secret_reseal(secret: EncryptedSecret, *, purpose: str) -> None:
    """Seal the secret's plaintext again under `purpose` (the purpose is bound into the ciphertext),
    in place: the row keeps its id, so whatever points at it still does."""
    fresh = keyvault.seal(keyvault.open_sealed(secret), owner_id=secret.owner_id, purpose=purpose)
    for name in ("purpose", "kek_id", "wrapped_key", "wrap_nonce", "ciphertext", "nonce"):
        setattr(secret, name, getattr(fresh, name))
    secret.save(update_fields=["purpose", "kek_id", "wrapped_key", "wrap_nonce", "ciphertext", "nonce", "updated_at"])


@contextmanager
def _retired_signer(*, user: User, secret_id: Any, chain_id: int | None, reason: str,
                    organization_id: Any) -> Iterator[AlgorandSigner | EvmSigner]:
    secret = EncryptedSecret.objects.get(pk=secret_id)
    signer: AlgorandSigner | EvmSigner = (AlgorandSigner(keyvault.open_sealed(secret)) if chain_id is None
                                          else EvmSigner(keyvault.open_sealed(secret), chain_id))
    _record_key_use(user, secret.purpose, reason, organization_id)
    try:
        yield signer
    finally:
        signer.close()


def retired_chain_key(*, user: User, network: Network, address: str, organization_id: Any = None) -> ChainKey | None:
    """The user's retired (not yet destroyed) key of `address` on `network`, for the server's own
    moves out of it (and jobs signed before the rotation); None when there is none."""
    from .models import RetiredKey

    chain_id = int(network.chain_id or 0) if network.family == EVM else None
    retired = (RetiredKey.objects.filter(rotation__user=user, address__iexact=address, chain_id=chain_id,
                                         secret__isnull=False).order_by("-created_at").first())
    if retired is None:
        return None
    secret_id = retired.secret_id
    return ChainKey(address=retired.address, open=lambda reason: _retired_signer(
        user=user, secret_id=secret_id, chain_id=chain_id, reason=reason, organization_id=organization_id))
