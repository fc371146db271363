"""Envelope encryption: round trip, tamper detection, KEK rotation."""
import base64
import os

import pytest
from django.core.management import call_command

from accounts import keyvault
from accounts.models import EncryptedSecret

pytestmark = pytest.mark.django_db

KEK_A = "kek-a:" + base64.b64encode(b"A" * 32).decode()
KEK_B = "kek-b:" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def kek_a(settings):
    settings.KEY_ENCRYPTION_KEYS = [KEK_A]
    return settings


def test_round_trip(kek_a):
    secret = keyvault.seal(b"top secret seed", owner_id="user-1", purpose="arc76-seed")
    secret.save()
    stored = EncryptedSecret.objects.get(pk=secret.pk)
    assert b"top secret seed" not in bytes(stored.ciphertext)
    assert keyvault.open_sealed(stored) == b"top secret seed"
    assert stored.kek_id == "kek-a"


@pytest.mark.parametrize("tamper", ["owner", "purpose", "ciphertext", "wrapped_key", "nonce"])
def test_tampering_fails_loudly(kek_a, tamper):
    secret = keyvault.seal(b"top secret seed", owner_id="user-1", purpose="arc76-seed")
    if tamper == "owner":
        secret.owner_id = "user-2"
    elif tamper == "purpose":
        secret.purpose = "evm-key:1"
    elif tamper == "ciphertext":
        flipped = bytearray(secret.ciphertext)
        flipped[3] ^= 0x01
        secret.ciphertext = bytes(flipped)
    elif tamper == "wrapped_key":
        flipped = bytearray(secret.wrapped_key)
        flipped[0] ^= 0x80
        secret.wrapped_key = bytes(flipped)
    else:
        secret.nonce = os.urandom(12)
    with pytest.raises(keyvault.KeyVaultError):
        keyvault.open_sealed(secret)


def test_wrong_kek_fails(settings):
    settings.KEY_ENCRYPTION_KEYS = [KEK_A]
    secret = keyvault.seal(b"x" * 32, owner_id="u", purpose="p")
    settings.KEY_ENCRYPTION_KEYS = ["kek-a:" + base64.b64encode(b"B" * 32).decode()]
    with pytest.raises(keyvault.KeyVaultError):
        keyvault.open_sealed(secret)
    settings.KEY_ENCRYPTION_KEYS = [KEK_B]
    with pytest.raises(keyvault.KeyVaultError, match="not configured"):
        keyvault.open_sealed(secret)


def test_rotate_kek_rewraps_without_touching_secrets_and_is_idempotent(settings, capsys):
    settings.KEY_ENCRYPTION_KEYS = [KEK_A]
    secrets = [keyvault.seal(f"secret {i}".encode(), owner_id=f"u{i}", purpose="p") for i in range(3)]
    for s in secrets:
        s.save()
    ciphertexts = {s.pk: bytes(s.ciphertext) for s in secrets}
    settings.KEY_ENCRYPTION_KEYS = [KEK_A, KEK_B]
    call_command("rotate_kek")
    assert "rewrapped=3" in capsys.readouterr().out
    call_command("rotate_kek")
    assert "rewrapped=0 already_current=3" in capsys.readouterr().out
    settings.KEY_ENCRYPTION_KEYS = [KEK_B]  # the old KEK can now be removed
    for s in EncryptedSecret.objects.filter(pk__in=ciphertexts):
        assert s.kek_id == "kek-b"
        assert bytes(s.ciphertext) == ciphertexts[s.pk]
        assert keyvault.open_sealed(s).startswith(b"secret ")


def test_kek_repr_hides_key():
    kek = keyvault.Kek("k1", b"K" * 32)
    assert "KKKK" not in repr(kek)
