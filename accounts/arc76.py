"""ARC-76 e-mail/password accounts and the derived per-chain EVM keys (docs/architecture.md, "Keys").

Each derivation is PBKDF2-HMAC-SHA256 with 999,999 iterations (~1 s of CPU): callers derive once
and store the result sealed; nothing derives per request.
"""
from __future__ import annotations

import base64
import hashlib

from algosdk import encoding, mnemonic
from nacl.signing import SigningKey

ITERATIONS = 999_999


def arc76_seed(email: str, password: str, slot: int = 0) -> bytes:
    """The 32-byte ed25519 seed of the ARC-76 account for (e-mail, password, slot)."""
    email = email.strip().lower()
    password_material = f"ARC-0076-{email}-{password}-{slot}-PBKDF2-999999".encode()
    salt = f"ARC-0076-{email}-{slot}-PBKDF2-999999".encode()
    return hashlib.pbkdf2_hmac("sha256", password_material, salt, ITERATIONS, dklen=32)


def algorand_public_key(seed: bytes) -> bytes:
    return bytes(SigningKey(seed).verify_key)


def algorand_address(seed: bytes) -> str:
    return encoding.encode_address(algorand_public_key(seed))


def algorand_private_key(seed: bytes) -> str:
    """py-algorand-sdk's private key form: base64(seed || public key)."""
    return base64.b64encode(seed + algorand_public_key(seed)).decode()


def algorand_mnemonic(seed: bytes) -> str:
    return mnemonic.from_private_key(algorand_private_key(seed))


def evm_private_key(seed: bytes, chain_id: int) -> bytes:
    """secp256k1 key for `chain_id`, as the reference .NET library's `GetEVMAccount(mnemonic, chainId)`."""
    words = algorand_mnemonic(seed)
    password_material = f"ARC-0076-{words}-{chain_id}-PBKDF2-999999".encode()
    salt = f"ARC-0076-{chain_id}-PBKDF2-999999".encode()
    return hashlib.pbkdf2_hmac("sha256", password_material, salt, ITERATIONS, dklen=32)
