"""Webhook signing secrets: made, sealed with the key vault, and opened only inside `webhook_signer`.

A secret is `whsec_` + 32 random bytes in URL-safe base64 (no padding); receivers use the whole
string (UTF-8) as the HMAC-SHA256 key. It is shown once, at creation and at rotation, and never
logged. `Biatec-Signature: t=<unix>,v1=<hex HMAC(secret, "<t>.<raw body>")>`; during the grace
period after a rotation the header carries a second `v1=` made with the previous secret.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.utils import timezone

from accounts import keyvault
from accounts.models import EncryptedSecret

if TYPE_CHECKING:
    from .models import WebhookSubscription

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_SCHEME = "v1"


def secret_generate() -> str:
    return SECRET_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).rstrip(b"=").decode()


def secret_purpose(version: int) -> str:
    return f"webhook-secret:v{version}"


def secret_seal(secret: str, *, subscription_id: str, version: int) -> EncryptedSecret:
    """Seal and save a new signing secret of a subscription."""
    sealed = keyvault.seal(secret.encode(), owner_id=str(subscription_id), purpose=secret_purpose(version))
    sealed.save()
    return sealed


def compute_signature(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class WebhookSigner:
    """Signs bodies with the current (and, during a grace period, the previous) secret."""

    __slots__ = ("_keys",)

    def __init__(self, keys: list[bytes]) -> None:
        self._keys: list[bytes] | None = keys

    def __repr__(self) -> str:  # never print key material
        return f"WebhookSigner({len(self._keys or [])} key(s))"

    def signature_header(self, body: bytes, timestamp: int) -> str:
        if self._keys is None:
            raise RuntimeError("signer used outside its context")
        entries = [f"t={timestamp}"] + [f"{SIGNATURE_SCHEME}={compute_signature(k, timestamp, body)}"
                                        for k in self._keys]
        return ",".join(entries)

    def close(self) -> None:
        self._keys = None


@contextmanager
def webhook_signer(subscription: WebhookSubscription) -> Iterator[WebhookSigner]:
    """Opens the subscription's sealed secret(s) for the duration of the block only."""
    keys = [keyvault.open_sealed(subscription.secret)]
    previous = subscription.previous_secret
    expires = subscription.previous_secret_expires_at
    if previous is not None and expires is not None and expires > timezone.now():
        keys.append(keyvault.open_sealed(previous))
    signer = WebhookSigner(keys)
    try:
        yield signer
    finally:
        signer.close()
        keys.clear()
