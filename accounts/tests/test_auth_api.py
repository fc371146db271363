"""Sign-up, login, profile, token rotation with reuse detection, logout, password change, lockout."""
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import arc76
from accounts.models import EncryptedSecret, EvmAccount, Membership, RetiredKey, SecurityEvent, User
from conftest import DEFAULT_PASSWORD, auth_client, register

pytestmark = pytest.mark.django_db


def _login(email, password=DEFAULT_PASSWORD):
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def test_register_login_profile_refresh_reuse_logout(settings):
    body = register(APIClient(), "Flow.User@Example.com")
    assert body["email"] == "flow.user@example.com"
    seed = arc76.arc76_seed("flow.user@example.com", DEFAULT_PASSWORD)
    assert body["algorand_address"] == arc76.algorand_address(seed)
    user = User.objects.get(pk=body["id"])
    assert user.password.startswith("argon2$argon2id$v=19$m=65536,t=2,p=2$")
    sealed = EncryptedSecret.objects.get(pk=user.arc76_secret_id)
    assert seed not in bytes(sealed.ciphertext)
    assert Membership.objects.get(user=user).role == "owner"

    login = _login(" FLOW.user@example.com ")
    assert login.status_code == 200, login.content
    tokens = login.json()

    profile = auth_client(tokens).get("/api/v1/auth/profile")
    assert profile.status_code == 200
    data = profile.json()
    assert data["email"] == "flow.user@example.com" and data["role"] == "owner"
    assert data["algorand_address"] == body["algorand_address"]
    assert data["organization"]["id"]

    refreshed = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    new_tokens = refreshed.json()
    assert new_tokens["refresh"] != tokens["refresh"]

    # reuse of the rotated-out refresh token: 401, and every other token of the user is revoked
    reuse = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "NOT_AUTHENTICATED"
    again = APIClient().post("/api/v1/auth/refresh", {"refresh": new_tokens["refresh"]}, format="json")
    assert again.status_code == 401
    assert auth_client(new_tokens).get("/api/v1/auth/profile").status_code == 401
    assert SecurityEvent.objects.filter(user=user, event_type="refresh_reuse").exists()

    # fresh login, then logout blacklists that refresh token
    tokens = _login("flow.user@example.com").json()
    client = auth_client(tokens)
    assert client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    after = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert after.status_code == 401
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("event_type", flat=True))
    assert {"signup", "login_success", "token_refresh", "refresh_reuse", "logout"} <= kinds


def test_duplicate_email_in_other_case_is_409():
    register(APIClient(), "dup@example.com")
    response = APIClient().post("/api/v1/auth/register",
                                {"email": "  DUP@Example.com ", "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "USER_ALREADY_EXISTS"


@pytest.mark.parametrize("password", ["a" * 15, "yfdbufnjh10305070", "weak.user@example.com1"])
def test_weak_passwords_are_refused_with_reasons(password):
    response = APIClient().post("/api/v1/auth/register", {"email": "weak.user@example.com", "password": password},
                                format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "WEAK_PASSWORD"
    assert body["details"]["reasons"]
    assert not User.objects.filter(email="weak.user@example.com").exists()


def test_lockout_after_five_failures_then_expiry():
    register(APIClient(), "locked@example.com")
    for _ in range(4):
        response = _login("locked@example.com", "wrong password that is long")
        assert response.status_code == 401 and response.json()["code"] == "INVALID_CREDENTIALS"
    fifth = _login("locked@example.com", "wrong password that is long")
    assert fifth.status_code == 401
    right = _login("locked@example.com")
    assert right.status_code == 423
    assert right.json()["code"] == "ACCOUNT_LOCKED"
    assert "locked_until" in right.json()["details"]
    assert SecurityEvent.objects.filter(email="locked@example.com", event_type="lockout").count() == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert _login("locked@example.com").status_code == 200


def test_success_resets_failure_count():
    register(APIClient(), "reset@example.com")
    for _ in range(4):
        _login("reset@example.com", "wrong password that is long")
    assert _login("reset@example.com").status_code == 200
    for _ in range(4):
        _login("reset@example.com", "wrong password that is long")
    assert _login("reset@example.com").status_code == 200


def test_unknown_email_answers_like_a_wrong_password():
    unknown = _login("nobody@example.com", "whatever password here")
    register(APIClient(), "known@example.com")
    wrong = _login("known@example.com", "whatever password here")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["code"] == wrong.json()["code"] == "INVALID_CREDENTIALS"
    assert unknown.json()["message"] == wrong.json()["message"]


def test_change_password_rotates_accounts_and_revokes_tokens():
    body = register(APIClient(), "changer@example.com")
    old_tokens = body["tokens"]
    client = auth_client(old_tokens)
    new_password = "a brand new passphrase 2026"
    response = client.post("/api/v1/auth/change-password",
                           {"current_password": DEFAULT_PASSWORD, "new_password": new_password}, format="json")
    assert response.status_code == 200
    assert auth_client(old_tokens).get("/api/v1/auth/profile").status_code == 401
    assert APIClient().post("/api/v1/auth/refresh", {"refresh": old_tokens["refresh"]},
                            format="json").status_code == 401
    assert auth_client(response.json()).get("/api/v1/auth/profile").status_code == 200
    assert _login("changer@example.com").status_code == 401
    new_login = _login("changer@example.com", new_password)
    assert new_login.status_code == 200
    profile = auth_client(new_login.json()).get("/api/v1/auth/profile").json()
    # The new password's ARC-76 account (docs/decisions/0107-key-rotation-on-password-change.md); the old key
    # is retired, server use only, until the moves are done (deployments/tests/test_key_rotation.py).
    assert profile["algorand_address"] == arc76.algorand_address(arc76.arc76_seed("changer@example.com", new_password))
    assert profile["algorand_address"] != body["algorand_address"]
    retired = RetiredKey.objects.get(rotation__user_id=body["id"], family="algorand")
    assert retired.address == body["algorand_address"] and retired.secret.purpose.startswith("retired:")


def test_change_password_requires_current():
    body = register(APIClient(), "changer2@example.com")
    response = auth_client(body["tokens"]).post(
        "/api/v1/auth/change-password",
        {"current_password": "not the current one!!", "new_password": "another fine passphrase"}, format="json")
    assert response.status_code == 401 and response.json()["code"] == "INVALID_CREDENTIALS"


def test_evm_account_derived_for_configured_chains(settings, django_capture_on_commit_callbacks):
    settings.CHAIN_NODES = {"evm-local": {"url": "http://127.0.0.1:1"}}
    with django_capture_on_commit_callbacks(execute=True):
        body = register(APIClient(), "evm.user@example.com")
    account = EvmAccount.objects.get(user_id=body["id"], chain_id=31337)
    seed = arc76.arc76_seed("evm.user@example.com", DEFAULT_PASSWORD)
    from eth_account import Account

    assert account.address == Account.from_key(arc76.evm_private_key(seed, 31337)).address
    profile = auth_client(body["tokens"]).get("/api/v1/auth/profile").json()
    assert profile["evm_addresses"]["31337"] == account.address
    # every EVM network of the registry is listed, a configured node or not (issue 17, item 7)
    listed = {n["network"]: n for n in profile["evm_networks"]}
    assert set(listed) == {"ethereum-mainnet", "ethereum-sepolia", "base-mainnet", "base-sepolia", "arbitrum-one",
                           "arbitrum-sepolia", "evm-local"}
    assert listed["evm-local"] == {"network": "evm-local", "chain_id": 31337, "address": account.address,
                                   "available": True}
    assert listed["base-mainnet"]["available"] is False and listed["base-mainnet"]["address"].startswith("0x")
    addresses = auth_client(body["tokens"]).get("/api/v1/account/addresses").json()["results"]
    local = next(r for r in addresses if r["network"] == "evm-local")
    assert local["address"] == account.address
    assert local["balance"] is None and local["balance_error"].startswith("node unreachable")
    mainnet = next(r for r in addresses if r["network"] == "algorand-mainnet")
    assert mainnet["address"] == body["algorand_address"] and mainnet["balance_error"] == "network unavailable"
    base = next(r for r in addresses if r["network"] == "base-mainnet")
    assert base["address"] == listed["base-mainnet"]["address"] and base["available"] is False


def test_other_organization_is_404():
    alice = register(APIClient(), "org.alice@example.com")
    bob = register(APIClient(), "org.bob@example.com")
    alice_org = auth_client(alice["tokens"]).get("/api/v1/auth/profile").json()["organization"]["id"]
    bob_org = auth_client(bob["tokens"]).get("/api/v1/auth/profile").json()["organization"]["id"]
    assert auth_client(alice["tokens"]).get(f"/api/v1/account/organizations/{alice_org}").status_code == 200
    response = auth_client(alice["tokens"]).get(f"/api/v1/account/organizations/{bob_org}")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
