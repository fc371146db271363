"""No response body, log line or admin page contains a password, seed, mnemonic or private key."""
import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import arc76
from accounts.models import SecurityEvent, User
from conftest import DEFAULT_PASSWORD, auth_client
from tests.otp import otp_force_login

pytestmark = pytest.mark.django_db
EMAIL = "leak.check@example.com"


def _secrets() -> list[str]:
    seed = arc76.arc76_seed(EMAIL, DEFAULT_PASSWORD)
    evm_key = arc76.evm_private_key(seed, 31337)
    words = arc76.algorand_mnemonic(seed)
    return [
        DEFAULT_PASSWORD, seed.hex(), base64.b64encode(seed).decode(), arc76.algorand_private_key(seed),
        words, " ".join(words.split()[:6]), evm_key.hex(), base64.b64encode(evm_key).decode(),
    ]


def test_nothing_secret_in_responses_logs_or_admin(settings, json_logs, django_capture_on_commit_callbacks):
    settings.CHAIN_NODES = {"evm-local": {"url": "http://127.0.0.1:1"}}
    bodies: list[str] = []
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post("/api/v1/auth/register", {"email": EMAIL, "password": DEFAULT_PASSWORD},
                                    format="json")
    bodies.append(response.content.decode())
    tokens = response.json()["tokens"]
    client = auth_client(tokens)
    for path in ["/api/v1/auth/profile", "/api/v1/account/addresses"]:
        bodies.append(client.get(path).content.decode())
    bodies.append(APIClient().post("/api/v1/auth/login", {"email": EMAIL, "password": "wrong password x" * 2},
                                   format="json").content.decode())
    bodies.append(APIClient().post("/api/v1/auth/login", {"email": EMAIL, "password": DEFAULT_PASSWORD},
                                   format="json").content.decode())

    # use the keys, so that key-use events exist and their admin pages render
    from accounts.signing import algorand_signer, evm_signer

    user = User.objects.get(email=EMAIL)
    with algorand_signer(user=user, reason="leak test") as signer:
        assert repr(signer) == f"AlgorandSigner({user.algorand_address})"
    with evm_signer(user=user, chain_id=31337, reason="leak test") as signer:
        assert "0x" in repr(signer)

    staff = User.objects.create_superuser("staff@example.com", "staff password for admin 1")
    admin = Client()
    otp_force_login(admin, staff)
    event = SecurityEvent.objects.filter(user=user).first()
    for path in [
        "/admin/accounts/user/", f"/admin/accounts/user/{user.pk}/change/", f"/admin/accounts/user/{user.pk}/history/",
        "/admin/accounts/securityevent/", f"/admin/accounts/securityevent/{event.pk}/change/",
        "/admin/accounts/loginthrottle/", "/admin/accounts/membership/", "/admin/accounts/organization/",
        f"/admin/accounts/user/?q={user.algorand_address}",
    ]:
        page = admin.get(path)
        assert page.status_code == 200, path
        bodies.append(page.content.decode())
    assert user.algorand_address in bodies[-1]  # search by address finds the user

    haystack = "\n".join(bodies) + json_logs.text
    for secret in _secrets():
        assert secret not in haystack
    assert "argon2$" not in haystack  # the password hash is not shown either
    key_uses = SecurityEvent.objects.filter(user=user, event_type="key_use")
    assert {e.details["key"] for e in key_uses} == {"arc76-seed", "evm-key:31337"}


def test_signer_is_unusable_after_its_context():
    from algosdk import transaction

    from accounts.signing import AlgorandSigner

    signer = AlgorandSigner(b"\x01" * 32)
    txn = transaction.PaymentTxn(signer.address, transaction.SuggestedParams(1000, 1, 100, "x" * 44, "t"),
                                 signer.address, 0)
    signer.sign(txn)
    signer.close()
    with pytest.raises(RuntimeError):
        signer.sign(txn)
