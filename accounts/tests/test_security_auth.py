"""Security regressions of authentication (issue 14): forged refresh tokens, the lockout per
(account, source), change-password sharing the login lockout, and enumeration at sign-up."""
from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import arc76
from accounts.models import LoginThrottle, SecurityEvent, User
from conftest import DEFAULT_PASSWORD, auth_client, register

pytestmark = pytest.mark.django_db

WRONG = "definitely not the password"
ATTACKER_IP = "203.0.113.7"
OWNER_IP = "198.51.100.20"


def _client(ip: str, **extra: str) -> APIClient:
    return APIClient(REMOTE_ADDR=ip, **extra)


def _login(email: str, password: str, ip: str, **extra: str):
    return _client(ip).post("/api/v1/auth/login", {"email": email, "password": password}, format="json", **extra)


def _refresh(raw: str):
    return APIClient().post("/api/v1/auth/refresh", {"refresh": raw}, format="json")


# --- defect 1: a forged refresh token revokes nobody ---------------------------------------------

def test_forged_refresh_token_does_not_revoke_another_users_tokens():
    alice = register(APIClient(), "forger.alice@example.com")
    bob = register(APIClient(), "victim.bob@example.com")
    # Alice rotates her token: the old one is now a blacklisted jti of hers.
    rotated_out = alice["tokens"]["refresh"]
    assert _refresh(rotated_out).status_code == 200
    claims = jwt.decode(rotated_out, options={"verify_signature": False})
    forged_claims = {**claims, "user_id": bob["id"], "tv": 0}
    for forged in (
        jwt.encode(forged_claims, "not-the-signing-key", algorithm="HS256"),  # wrong key
        jwt.encode(forged_claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")[:-4] + "AAAA",  # broken
    ):
        response = _refresh(forged)
        assert response.status_code == 401 and response.json()["code"] == "NOT_AUTHENTICATED"

    # Bob's tokens still work, nothing was revoked, no reuse was recorded against him.
    assert auth_client(bob["tokens"]).get("/api/v1/auth/profile").status_code == 200
    assert _refresh(bob["tokens"]["refresh"]).status_code == 200
    assert User.objects.get(pk=bob["id"]).token_version == 0
    assert not SecurityEvent.objects.filter(user_id=bob["id"], event_type="refresh_reuse").exists()


def test_genuine_reuse_still_revokes_only_its_own_user():
    alice = register(APIClient(), "reuse.alice@example.com")
    bob = register(APIClient(), "reuse.bob@example.com")
    rotated_out = alice["tokens"]["refresh"]
    new_pair = _refresh(rotated_out).json()
    assert _refresh(rotated_out).status_code == 401  # reuse
    assert _refresh(new_pair["refresh"]).status_code == 401  # Alice's tokens are revoked
    assert SecurityEvent.objects.filter(user_id=alice["id"], event_type="refresh_reuse").count() == 1
    assert auth_client(bob["tokens"]).get("/api/v1/auth/profile").status_code == 200


# --- defect 6: the lockout holds per (account, source) -------------------------------------------

def test_an_attacker_locks_only_their_own_source_not_the_owner():
    email = "lock.target@example.com"
    register(APIClient(), email)
    for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD):
        assert _login(email, WRONG, ATTACKER_IP).status_code == 401
    locked = _login(email, DEFAULT_PASSWORD, ATTACKER_IP)
    assert locked.status_code == 423 and locked.json()["code"] == "ACCOUNT_LOCKED"
    assert locked.json()["details"]["locked_until"]
    # Rewriting X-Forwarded-For does not make the attacker another source (no trusted proxy).
    spoofed = _login(email, DEFAULT_PASSWORD, ATTACKER_IP, HTTP_X_FORWARDED_FOR=OWNER_IP)
    assert spoofed.status_code == 423
    # The owner, elsewhere, logs in.
    assert _login(email, DEFAULT_PASSWORD, OWNER_IP).status_code == 200
    assert LoginThrottle.objects.get(email=email, source=ATTACKER_IP).locked_until is not None


def test_repeated_locks_of_one_source_double_and_success_clears_them():
    email = "lock.double@example.com"
    register(APIClient(), email)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD):
            _login(email, WRONG, ATTACKER_IP)
    first = LoginThrottle.objects.get(email=email, source=ATTACKER_IP)
    assert first.locked_until == start + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    later = start + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD):
            _login(email, WRONG, ATTACKER_IP)
    second = LoginThrottle.objects.get(email=email, source=ATTACKER_IP)
    assert second.lock_count == 2
    assert second.locked_until == later + timedelta(minutes=2 * settings.LOGIN_LOCKOUT_MINUTES)
    with time_machine.travel(second.locked_until + timedelta(seconds=1)):
        assert _login(email, DEFAULT_PASSWORD, ATTACKER_IP).status_code == 200
    cleared = LoginThrottle.objects.get(email=email, source=ATTACKER_IP)
    assert (cleared.failures, cleared.lock_count, cleared.locked_until) == (0, 0, None)


def test_ipv6_addresses_of_one_64_are_one_source():
    email = "lock.v6@example.com"
    register(APIClient(), email)
    for n in range(settings.LOGIN_LOCKOUT_THRESHOLD):
        _login(email, WRONG, f"2001:db8:1:2::{n + 1:x}")
    assert _login(email, DEFAULT_PASSWORD, "2001:db8:1:2:ffff::9").status_code == 423
    assert _login(email, DEFAULT_PASSWORD, "2001:db8:1:3::1").status_code == 200


# --- defect 3: change-password shares the login's counter and lockout ------------------------------

def test_change_password_with_wrong_current_password_locks_like_login():
    email = "stolen.token@example.com"
    body = register(APIClient(), email)
    thief = _client(ATTACKER_IP)
    thief.credentials(HTTP_AUTHORIZATION=f"Bearer {body['tokens']['access']}")
    attempt = {"current_password": WRONG, "new_password": "the thief's own new passphrase"}
    for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD):
        response = thief.post("/api/v1/auth/change-password", attempt, format="json")
        assert response.status_code == 401 and response.json()["code"] == "INVALID_CREDENTIALS"
    # Locked now, even with the right password, and for a login from the same source too.
    right = {"current_password": DEFAULT_PASSWORD, "new_password": "the thief's own new passphrase"}
    locked = thief.post("/api/v1/auth/change-password", right, format="json")
    assert locked.status_code == 423 and locked.json()["code"] == "ACCOUNT_LOCKED"
    assert locked.json()["details"]["locked_until"]
    assert _login(email, DEFAULT_PASSWORD, ATTACKER_IP).status_code == 423
    assert User.objects.get(email=email).check_password(DEFAULT_PASSWORD)
    # The owner elsewhere is not locked out.
    assert _login(email, DEFAULT_PASSWORD, OWNER_IP).status_code == 200
    failures = SecurityEvent.objects.filter(email=email, event_type="login_failure")
    assert failures.count() == settings.LOGIN_LOCKOUT_THRESHOLD
    assert {e.details["context"] for e in failures} == {"change_password"}


# --- defect 8: sign-up does not reveal which e-mails exist ---------------------------------------

def test_weak_password_with_an_existing_email_is_a_validation_error_not_409():
    register(APIClient(), "taken@example.com")
    response = APIClient().post("/api/v1/auth/register", {"email": "taken@example.com", "password": "short"},
                                format="json")
    assert response.status_code == 400 and response.json()["code"] == "WEAK_PASSWORD"


def test_refusing_an_existing_email_performs_the_derivation_of_a_sign_up(monkeypatch):
    register(APIClient(), "taken2@example.com")
    calls: list[str] = []
    original = arc76.arc76_seed

    def counting(email: str, password: str) -> bytes:
        calls.append(email)
        return original(email, password)

    monkeypatch.setattr(arc76, "arc76_seed", counting)
    response = APIClient().post("/api/v1/auth/register",
                                {"email": "TAKEN2@example.com", "password": "another long enough passphrase"},
                                format="json")
    assert response.status_code == 409 and response.json()["code"] == "USER_ALREADY_EXISTS"
    assert calls == ["taken2@example.com"]


def test_idle_counters_are_purged_but_live_locks_stay():
    from django.core.management import call_command

    register(APIClient(), "purge.target@example.com")
    start = timezone.now()
    with time_machine.travel(start - timedelta(hours=settings.LOGIN_THROTTLE_IDLE_HOURS + 1), tick=False):
        _login("purge.target@example.com", WRONG, "192.0.2.1")  # one old failure, long idle
    with time_machine.travel(start, tick=False):
        for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD):
            _login("purge.target@example.com", WRONG, "192.0.2.2")  # locked now
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        call_command("purge_login_throttles")  # the idle one goes
        call_command("purge_login_throttles", idle_hours=0)  # a locked one stays, idle or not
    assert list(LoginThrottle.objects.filter(email="purge.target@example.com")
                .values_list("source", flat=True)) == ["192.0.2.2"]
