"""Abuse limits of issue 14 (defects 4 and 13): per-source and per-account throttles on register,
login, refresh and change-password, counted in Redis, 429 RATE_LIMITED with Retry-After, and
X-Forwarded-For believed only to the trusted proxy depth."""
from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.throttling import throttle_keys, throttle_sandbox  # noqa: F401 - fixture
from conftest import DEFAULT_PASSWORD, register

pytestmark = pytest.mark.django_db

BAD_SIGNUP = {"email": "x", "password": "y"}  # refused by validation: cheap, and counts all the same


def _post(path: str, body: dict, ip: str = "192.0.2.10", **extra: str):
    return APIClient(REMOTE_ADDR=ip).post(path, body, format="json", **extra)


def _assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "RATE_LIMITED"
    assert set(body) == {"code", "message", "details", "correlation_id"}
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600 and body["details"]["retry_after_seconds"] == retry_after


def test_a_changing_x_forwarded_for_does_not_escape_the_register_throttle(throttle_sandbox):  # noqa: F811
    throttle_sandbox(auth_register="3/hour")
    codes = [_post("/api/v1/auth/register", BAD_SIGNUP, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
             for n in range(3)]
    assert codes == [400, 400, 400]
    _assert_throttled(_post("/api/v1/auth/register", BAD_SIGNUP, HTTP_X_FORWARDED_FOR="10.9.9.9"))
    assert _post("/api/v1/auth/register", BAD_SIGNUP, ip="192.0.2.11").status_code == 400  # another source


def test_behind_one_trusted_proxy_the_rightmost_forwarded_address_is_the_source(throttle_sandbox,  # noqa: F811
                                                                                  settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    throttle_sandbox(auth_register="2/hour")
    proxy = "10.1.1.1"
    # The client writes whatever it likes on the left; the proxy appends what it saw on the right.
    for forged in ("1.1.1.1", "2.2.2.2"):
        assert _post("/api/v1/auth/register", BAD_SIGNUP, ip=proxy,
                     HTTP_X_FORWARDED_FOR=f"{forged}, 198.51.100.7").status_code == 400
    _assert_throttled(_post("/api/v1/auth/register", BAD_SIGNUP, ip=proxy,
                            HTTP_X_FORWARDED_FOR="3.3.3.3, 198.51.100.7"))
    assert _post("/api/v1/auth/register", BAD_SIGNUP, ip=proxy,
                 HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 400


def test_throttle_counters_live_in_redis_under_their_own_prefix(throttle_sandbox):  # noqa: F811
    prefix = throttle_sandbox(auth_register="5/hour")
    assert isinstance(caches["throttle"], RedisCache)
    _post("/api/v1/auth/register", BAD_SIGNUP)
    keys = throttle_keys(prefix)
    assert any(":auth_register:" in key for key in keys), keys
    assert all("192.0.2.10" not in key for key in keys)  # sources are hashed, not stored in clear


def test_register_is_limited_per_email_across_sources(throttle_sandbox):  # noqa: F811
    throttle_sandbox(auth_register_account="2/hour")
    body = {"email": "enumerated@example.com", "password": "short"}
    assert [_post("/api/v1/auth/register", body, ip=f"192.0.2.{n}").status_code for n in (1, 2)] == [400, 400]
    _assert_throttled(_post("/api/v1/auth/register", body, ip="192.0.2.3"))


def test_login_per_account_limit_and_a_single_source_cannot_use_it_up(throttle_sandbox):  # noqa: F811
    register(APIClient(), "throttled.login@example.com")
    throttle_sandbox(auth_login="2/minute", auth_login_account="4/minute")
    login = {"email": "throttled.login@example.com", "password": "wrong but long enough"}
    # One source: 2 pass, the rest are refused per source and do not count against the account.
    codes = [_post("/api/v1/auth/login", login, ip="203.0.113.1").status_code for _ in range(5)]
    assert codes == [401, 401, 429, 429, 429]
    # So the owner, elsewhere, still gets in; a second attacker source uses up the account's budget.
    owner = {"email": "throttled.login@example.com", "password": DEFAULT_PASSWORD}
    assert _post("/api/v1/auth/login", owner, ip="198.51.100.1").status_code == 200
    assert _post("/api/v1/auth/login", login, ip="203.0.113.2").status_code == 401
    _assert_throttled(_post("/api/v1/auth/login", login, ip="203.0.113.3"))


def test_refresh_is_limited_per_source_and_per_account(throttle_sandbox):  # noqa: F811
    body = register(APIClient(), "throttled.refresh@example.com")
    throttle_sandbox(auth_refresh="2/minute", auth_refresh_account="3/minute")
    garbage = {"refresh": "not.a.token"}
    assert [_post("/api/v1/auth/refresh", garbage).status_code for _ in range(2)] == [401, 401]
    _assert_throttled(_post("/api/v1/auth/refresh", garbage))
    # Per account: the user's own (validly signed) tokens, from any source.
    token = body["tokens"]["refresh"]
    for n in range(3):
        response = _post("/api/v1/auth/refresh", {"refresh": token}, ip=f"198.51.100.{n + 1}")
        assert response.status_code == 200
        token = response.json()["refresh"]
    _assert_throttled(_post("/api/v1/auth/refresh", {"refresh": token}, ip="198.51.100.9"))


def test_change_password_is_limited(throttle_sandbox):  # noqa: F811
    body = register(APIClient(), "throttled.password@example.com")
    throttle_sandbox(auth_password="2/hour")
    client = APIClient(REMOTE_ADDR="192.0.2.50")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['tokens']['access']}")
    attempt = {"current_password": "wrong but long enough", "new_password": "whatever new passphrase"}
    codes = [client.post("/api/v1/auth/change-password", attempt, format="json").status_code for _ in range(2)]
    assert codes == [401, 401]
    _assert_throttled(client.post("/api/v1/auth/change-password", attempt, format="json"))


def test_without_the_throttle_store_requests_are_refused_not_let_through(settings):
    settings.CACHES = {**settings.CACHES, "throttle": {**settings.CACHES["throttle"],
                                                       "LOCATION": "redis://127.0.0.1:1/0"}}
    body = {"email": "no.limiter@example.com", "password": DEFAULT_PASSWORD}
    response = _post("/api/v1/auth/register", body)
    assert response.status_code == 503 and response.json()["code"] == "RATE_LIMITER_UNAVAILABLE"
    assert not User.objects.filter(email="no.limiter@example.com").exists()
