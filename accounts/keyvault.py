"""Envelope encryption of secrets at rest (docs/architecture.md, "Keys").

Each secret gets a fresh 256-bit data key; the secret is sealed with AES-256-GCM (12-byte nonce,
associated data binding owner and purpose); the data key is sealed by a key-encryption key (KEK)
named by a key id. KEKs come from `settings.KEY_ENCRYPTION_KEYS` ("kid:base64key", newest last),
so a new KEK can be added and every data key re-wrapped (`rotate_kek`) without touching secrets.

Only `accounts.signing` opens secrets; callers get signers, never keys.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from biatec.core.errors import ApplicationError

from .models import EncryptedSecret


class KeyVaultError(ApplicationError):
    code = "INTERNAL_ERROR"
    http_status = 500
    default_message = "A sealed secret could not be opened."


@dataclass(frozen=True)
class Kek:
    kid: str
    key: bytes

    def __repr__(self) -> str:  # never print key material
        return f"Kek({self.kid!r})"


def load_keks() -> list[Kek]:
    keks = []
    for entry in settings.KEY_ENCRYPTION_KEYS:
        kid, _, encoded = str(entry).partition(":")
        key = base64.b64decode(encoded)
        if not kid or len(key) != 32:
            raise KeyVaultError("Each KEY_ENCRYPTION_KEYS entry must be 'kid:base64(32 bytes)'.")
        keks.append(Kek(kid, key))
    if not keks:
        raise KeyVaultError("No key-encryption key is configured.")
    return keks


def current_kek() -> Kek:
    return load_keks()[-1]


def _kek(kid: str) -> Kek:
    for kek in load_keks():
        if kek.kid == kid:
            return kek
    raise KeyVaultError(f"Key-encryption key '{kid}' is not configured.")


def _secret_aad(owner_id: str, purpose: str) -> bytes:
    return f"biatec-secret|{owner_id}|{purpose}".encode()


def _wrap_aad(kid: str, owner_id: str, purpose: str) -> bytes:
    return f"biatec-data-key|{kid}|{owner_id}|{purpose}".encode()


def seal(plaintext: bytes, *, owner_id: str, purpose: str) -> EncryptedSecret:
    """An unsaved `EncryptedSecret` holding `plaintext` sealed for (owner, purpose)."""
    kek = current_kek()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce, wrap_nonce = os.urandom(12), os.urandom(12)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _secret_aad(owner_id, purpose))
    wrapped = AESGCM(kek.key).encrypt(wrap_nonce, data_key, _wrap_aad(kek.kid, owner_id, purpose))
    return EncryptedSecret(
        owner_id=owner_id, purpose=purpose, kek_id=kek.kid, wrapped_key=wrapped, wrap_nonce=wrap_nonce,
        ciphertext=ciphertext, nonce=nonce,
    )


def _unwrap_data_key(secret: EncryptedSecret) -> bytes:
    kek = _kek(secret.kek_id)
    try:
        return AESGCM(kek.key).decrypt(
            bytes(secret.wrap_nonce), bytes(secret.wrapped_key), _wrap_aad(kek.kid, secret.owner_id, secret.purpose)
        )
    except InvalidTag:
        raise KeyVaultError("A sealed data key failed authentication (tampered or wrong KEK).") from None


def open_sealed(secret: EncryptedSecret) -> bytes:
    """Decrypt a sealed secret. Fails loudly on any tampering. Internal to `accounts.signing`."""
    data_key = _unwrap_data_key(secret)
    try:
        return AESGCM(data_key).decrypt(
            bytes(secret.nonce), bytes(secret.ciphertext), _secret_aad(secret.owner_id, secret.purpose)
        )
    except InvalidTag:
        raise KeyVaultError("A sealed secret failed authentication (tampered or wrong binding).") from None


def rewrap(secret: EncryptedSecret) -> bool:
    """Re-wrap the data key under the newest KEK (the secret's ciphertext is untouched).
    Returns False when it already is under the newest KEK (so rotation is idempotent)."""
    newest = current_kek()
    if secret.kek_id == newest.kid:
        return False
    data_key = _unwrap_data_key(secret)
    wrap_nonce = os.urandom(12)
    secret.wrapped_key = AESGCM(newest.key).encrypt(
        wrap_nonce, data_key, _wrap_aad(newest.kid, secret.owner_id, secret.purpose)
    )
    secret.wrap_nonce = wrap_nonce
    secret.kek_id = newest.kid
    return True
