"""Optional TOTP of the API login (docs/mfa.md): enrol, confirm, MFA_REQUIRED with a challenge, the
second step, challenge reuse and expiry, wrong codes on the lockout, disabling with password + code.
Codes are real: computed from the enrolment's secret with django-otp's TOTP, as an app would."""
from __future__ import annotations

import time
from base64 import b32decode

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import LoginThrottle, SecurityEvent, User
from conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def _login(email: str, password: str = DEFAULT_PASSWORD):
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def _second_step(challenge: str, code: str):
    return APIClient().post("/api/v1/auth/login/mfa", {"challenge": challenge, "code": code}, format="json")


def _code(key: bytes) -> str:
    return str(totp(key)).zfill(6)


def _fresh(user: User) -> None:
    """The last code was used in this 30 s step (django-otp refuses a step twice): the next code of the
    app comes in the next step, which the tests do not wait for."""
    TOTPDevice.objects.filter(user=user).update(last_t=-1)


def _enrolled(user_factory, name: str) -> tuple[User, APIClient, bytes, list[str]]:
    body, client = user_factory(name)
    status = client.get("/api/v1/account/mfa")
    assert status.status_code == 200 and status.json() == {"enabled": False, "recovery_codes_left": 0}
    started = client.post("/api/v1/account/mfa/totp")
    assert started.status_code == 201, started.content
    secret = started.json()["secret"]
    assert started.json()["provisioning_uri"].startswith("otpauth://totp/")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    assert client.post("/api/v1/account/mfa/totp/confirm", {"code": "000000" if _code(key) != "000000" else "111111"},
                       format="json").json()["code"] == "MFA_CODE_INVALID"
    TOTPDevice.objects.filter(user_id=body["id"]).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    confirmed = client.post("/api/v1/account/mfa/totp/confirm", {"code": _code(key)}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    codes = confirmed.json()["recovery_codes"]
    assert confirmed.json()["enabled"] is True and len(codes) == 10
    user = User.objects.get(pk=body["id"])
    _fresh(user)
    return user, client, key, codes


def test_login_of_an_mfa_user_needs_a_code_then_gets_tokens(user_factory):
    user, client, key, _ = _enrolled(user_factory, "mfa.login")
    assert client.get("/api/v1/account/mfa").json() == {"enabled": True, "recovery_codes_left": 10}
    first = _login(user.email)
    assert first.status_code == 401
    body = first.json()
    assert body["code"] == "MFA_REQUIRED" and "access" not in body and "refresh" not in body
    assert set(body["details"]) == {"challenge", "expires_in"} and body["details"]["expires_in"] == 300
    done = _second_step(body["details"]["challenge"], _code(key))
    assert done.status_code == 200, done.content
    tokens = done.json()
    profile = APIClient()
    profile.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert profile.get("/api/v1/auth/profile").json()["email"] == user.email
    kinds = list(SecurityEvent.objects.filter(user=user).values_list("event_type", flat=True))
    assert {"mfa_enabled", "mfa_failure", "mfa_challenge", "login_success"} <= set(kinds)
    assert SecurityEvent.objects.filter(user=user, event_type="login_success", details__mfa="totp").exists()


def test_a_challenge_works_once_and_expires(user_factory):
    user, _, key, codes = _enrolled(user_factory, "mfa.challenge")
    challenge = _login(user.email).json()["details"]["challenge"]
    assert _second_step(challenge, codes[0]).status_code == 200  # a recovery code logs in too
    reused = _second_step(challenge, codes[1])
    assert reused.status_code == 401 and reused.json()["code"] == "MFA_CHALLENGE_INVALID"
    assert _second_step(challenge[:-2] + "xx", codes[1]).json()["code"] == "MFA_CHALLENGE_INVALID"
    old = _login(user.email).json()["details"]["challenge"]
    with time_machine.travel(time.time() + 301, tick=False):
        expired = _second_step(old, _code(key))
    assert expired.status_code == 401 and expired.json()["code"] == "MFA_CHALLENGE_INVALID"
    # The recovery code used above is gone; the unused challenge was not consumed by the refusal.
    assert _second_step(_login(user.email).json()["details"]["challenge"], codes[0]).status_code == 401
    StaticDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert _second_step(old, codes[1]).status_code == 200


def test_wrong_codes_count_like_failed_logins_and_lock(user_factory, settings):
    settings.LOGIN_LOCKOUT_THRESHOLD = 3
    user, _, key, codes = _enrolled(user_factory, "mfa.wrong")
    challenge = _login(user.email).json()["details"]["challenge"]
    wrong = _second_step(challenge, "12345x")
    assert wrong.status_code == 401 and wrong.json()["code"] == "MFA_CODE_INVALID"
    assert "access" not in wrong.json()
    assert LoginThrottle.objects.get(email=user.email).failures == 1
    # The right password again does not clear the count of wrong codes.
    challenge = _login(user.email).json()["details"]["challenge"]
    assert LoginThrottle.objects.get(email=user.email).failures == 1
    assert _second_step(challenge, "99999999zz").status_code == 401
    assert _second_step(challenge, codes[0] + "q").status_code == 401  # the third: locked
    locked = _second_step(challenge, codes[0])
    assert locked.status_code == 423 and locked.json()["code"] == "ACCOUNT_LOCKED"
    failures = SecurityEvent.objects.filter(user=user, event_type="login_failure", details__context="mfa")
    assert failures.count() == 3
    assert SecurityEvent.objects.filter(user=user, event_type="lockout").exists()


def test_disabling_needs_the_password_and_a_code(user_factory):
    user, client, key, _ = _enrolled(user_factory, "mfa.disable")
    disable = "/api/v1/account/mfa/disable"
    assert client.post(disable, {"password": "not the password", "code": _code(key)},
                       format="json").json()["code"] == "INVALID_CREDENTIALS"
    assert client.post(disable, {"password": DEFAULT_PASSWORD, "code": "000000x"},
                       format="json").json()["code"] == "MFA_CODE_INVALID"
    assert client.post(disable, {"password": DEFAULT_PASSWORD}, format="json").status_code == 400
    assert _login(user.email).status_code == 401  # still on
    TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert client.post(disable, {"password": DEFAULT_PASSWORD, "code": _code(key)}, format="json").status_code == 204
    assert SecurityEvent.objects.filter(user=user, event_type="mfa_disabled").exists()
    assert _login(user.email).status_code == 200
    again = client.post(disable, {"password": DEFAULT_PASSWORD, "code": _code(key)}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "MFA_NOT_ENABLED"


def test_enrolment_conflicts_and_staff_keep_their_device(user_factory):
    user, client, key, _ = _enrolled(user_factory, "mfa.staff")
    assert client.post("/api/v1/account/mfa/totp").json()["code"] == "MFA_ALREADY_ENABLED"
    _, fresh = user_factory("mfa.none")
    nothing = fresh.post("/api/v1/account/mfa/totp/confirm", {"code": "123456"}, format="json")
    assert nothing.status_code == 409 and nothing.json()["code"] == "MFA_NOT_ENABLED"
    User.objects.filter(pk=user.pk).update(is_staff=True)
    staff = client.post("/api/v1/account/mfa/disable", {"password": DEFAULT_PASSWORD, "code": _code(key)},
                        format="json")
    assert staff.status_code == 409 and staff.json()["code"] == "MFA_REQUIRED_FOR_STAFF"


def test_no_secret_or_code_in_security_events_or_logs(user_factory, json_logs):
    user, _, key, codes = _enrolled(user_factory, "mfa.secrets")
    _second_step(_login(user.email).json()["details"]["challenge"], codes[0])
    text = json_logs.text + repr(list(SecurityEvent.objects.filter(user=user).values_list("details", flat=True)))
    device = TOTPDevice.objects.get(user=user)
    for secret in (device.key, *codes):
        assert secret not in text
