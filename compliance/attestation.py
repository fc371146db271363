"""The platform's Ed25519 attestation key.

Generated once and held sealed in the key vault (owner "platform", purpose "attestation-ed25519");
the public half is stored in clear on `AttestationKey`. The seed is opened only inside
`attestation_signer()`, and the signer forgets it when the block ends.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from nacl.signing import SigningKey

from accounts import keyvault
from accounts.models import EncryptedSecret, SecurityEvent
from accounts.security_events import security_event_record

from .models import AttestationKey

KEY_OWNER = "platform"
KEY_PURPOSE = "attestation-ed25519"
ALGORITHM = "Ed25519"


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def attestation_key_ensure() -> AttestationKey:
    """The active attestation key, generated and sealed on first use (concurrent first uses agree)."""
    existing = AttestationKey.objects.filter(active=True).order_by("created_at").first()
    if existing is not None:
        return existing
    signing_key = SigningKey.generate()
    public_key = bytes(signing_key.verify_key)
    try:
        with transaction.atomic():
            secret = keyvault.seal(bytes(signing_key), owner_id=KEY_OWNER, purpose=KEY_PURPOSE)
            secret.save()
            return AttestationKey.objects.create(key_id=key_id_of(public_key), public_key=public_key.hex(),
                                                 secret=secret)
    except IntegrityError:  # another process sealed the platform key first: use theirs
        return AttestationKey.objects.get(secret__owner_id=KEY_OWNER, secret__purpose=KEY_PURPOSE)
    finally:
        del signing_key


def attestation_key_public(key: AttestationKey) -> dict[str, Any]:
    raw = bytes.fromhex(key.public_key)
    return {"algorithm": ALGORITHM, "key_id": key.key_id, "public_key": base64.b64encode(raw).decode(),
            "public_key_hex": key.public_key, "created_at": key.created_at.isoformat()}


class AttestationSigner:
    __slots__ = ("key_id", "public_key", "_signing_key")

    def __init__(self, key: AttestationKey, seed: bytes) -> None:
        self._signing_key: SigningKey | None = SigningKey(seed)
        if bytes(self._signing_key.verify_key).hex() != key.public_key:
            raise keyvault.KeyVaultError("The sealed attestation key does not match its public key.")
        self.key_id = key.key_id
        self.public_key = key.public_key

    def __repr__(self) -> str:
        return f"AttestationSigner({self.key_id})"

    def sign(self, message: bytes) -> bytes:
        if self._signing_key is None:
            raise RuntimeError("signer used outside its context")
        return self._signing_key.sign(message).signature

    def close(self) -> None:
        self._signing_key = None


@contextmanager
def attestation_signer(*, reason: str) -> Iterator[AttestationSigner]:
    key = attestation_key_ensure()
    secret = EncryptedSecret.objects.get(pk=key.secret_id)
    signer = AttestationSigner(key, keyvault.open_sealed(secret))
    security_event_record(event_type=SecurityEvent.Type.KEY_USE,
                          details={"key": f"{KEY_OWNER}:{KEY_PURPOSE}", "key_id": key.key_id, "reason": reason})
    try:
        yield signer
    finally:
        signer.close()
