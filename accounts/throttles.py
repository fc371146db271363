"""Abuse limits: DRF throttles whose counters live in Redis (the `throttle` cache), so every worker
process and every server counts together.

Each limit is a fixed window counted with one atomic INCR per request: `rate` "N/period" lets N
requests per source (or account) through per window; the next ones answer 429 `RATE_LIMITED` with
`Retry-After` (seconds until the window ends). Rates are DRF scopes in
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, set from the environment (see `.env.example`).

An endpoint's limits are checked in order and the first refusal stops the chain: a request already
refused per source does not count against the account, so one source alone cannot use up an
account's budget (the per-account rates are set above the per-source ones for that reason).
"""
from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .client import client_ip, client_source
from .errors import RateLimiterUnavailable
from .models import normalize_email
from .services import refresh_claims_verified

THROTTLE_CACHE_ALIAS = "throttle"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Ident = Callable[[Request], "str | None"]


def parse_rate(rate: str) -> tuple[int, int]:
    """ "20/minute" → (20, 60); DRF's format (the period's first letter counts)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0].lower()]


def throttle_cache() -> Any:
    return caches[getattr(settings, "THROTTLE_CACHE_ALIAS", THROTTLE_CACHE_ALIAS)]


def _digest(value: str) -> str:
    # Keys carry no e-mail or address in clear, nor a plain hash of one (an IPv4 address or a known
    # e-mail would be found again by hashing candidates): a keyed hash.
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def window_consume(key: str, *, limit: int, period: int, now: float | None = None) -> float | None:
    """Count one hit in the current window of `key`. None if within `limit`, else the seconds
    until the window ends. One round trip: the window's counter is created (with its expiry) and
    incremented in one MULTI, so it can neither expire between the two nor be left without an expiry."""
    now = time.time() if now is None else now
    window = int(now // period)
    cache = throttle_cache()
    cache_key = cache.make_and_validate_key(f"{key}:{window}")
    pipeline = cache._cache.get_client(cache_key, write=True).pipeline(transaction=True)
    pipeline.set(cache_key, 0, ex=period + 1, nx=True)  # Django's Redis backend stores an int as itself
    pipeline.incr(cache_key)
    count = int(pipeline.execute()[1])
    if count > limit:
        return max(1.0, (window + 1) * period - now)
    return None


def rate_limit_consume(scope: str, ident: str) -> float | None:
    """One hit of `ident` under the DRF scope `scope`; None when allowed (or no rate configured)."""
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
    if not rate:
        return None
    limit, period = parse_rate(str(rate))
    return window_consume(f"{scope}:{_digest(ident)}", limit=limit, period=period)


# --- what a request is counted under ----------------------------------------------------------

def by_source(request: Request) -> str | None:
    return client_source(client_ip(request))


def by_user(request: Request) -> str | None:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and getattr(user, "is_authenticated", False) else None


def _body_field(request: Request, name: str) -> str | None:
    data = request.data
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def by_email(request: Request) -> str | None:
    return normalize_email(_body_field(request, "email") or "") or None


def by_refresh_owner(request: Request) -> str | None:
    """The user of a refresh token whose signature verifies; forged tokens count only per source
    (a forged claim must not spend another user's budget)."""
    raw = _body_field(request, "refresh")
    if raw is None:
        return None
    claims = refresh_claims_verified(raw)
    return str(claims["user_id"]) if claims else None


class ChainedRateThrottle(BaseThrottle):
    """Limits checked in order; the first one exceeded refuses the request."""

    limits: ClassVar[tuple[tuple[str, Ident], ...]] = ()

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self._wait = None
        for scope, ident_of in self.limits:
            ident = ident_of(request)
            if ident is None:
                continue
            try:
                wait = rate_limit_consume(scope, ident)
            except RedisError:  # fail closed: an uncounted request could be the millionth guess
                raise RateLimiterUnavailable() from None
            if wait is not None:
                self._wait = wait
                return False
        return True

    def wait(self) -> float | None:
        return self._wait


class RegisterRateThrottle(ChainedRateThrottle):
    limits = (("auth_register", by_source), ("auth_register_account", by_email))


class LoginRateThrottle(ChainedRateThrottle):
    limits = (("auth_login", by_source), ("auth_login_account", by_email))


class RefreshRateThrottle(ChainedRateThrottle):
    limits = (("auth_refresh", by_source), ("auth_refresh_account", by_refresh_owner))


class PasswordChangeRateThrottle(ChainedRateThrottle):
    limits = (("auth_password", by_source), ("auth_password_account", by_user))


def by_challenge_owner(request: Request) -> str | None:
    """The user of an MFA login challenge that verifies (forged ones count only per source)."""
    from .mfa import challenge_owner

    raw = _body_field(request, "challenge")
    return challenge_owner(raw) if raw else None


class MfaLoginRateThrottle(ChainedRateThrottle):
    """The second login step: the login's per-source budget, and code attempts per account."""

    limits = (("auth_login", by_source), ("auth_mfa_account", by_challenge_owner))


class MfaManageRateThrottle(ChainedRateThrottle):
    """Enrolment, confirmation and disabling of the API login's TOTP: code attempts per account."""

    limits = (("auth_mfa_account", by_user),)


class WebhookManualSendRateThrottle(ChainedRateThrottle):
    """Webhook `test` and `redeliver`: each one makes the server send an HTTP request."""

    limits = (("webhooks_manual", by_user),)


class ComplianceEvaluateRateThrottle(ChainedRateThrottle):
    """`compliance/evaluate` writes a decision row per call."""

    limits = (("compliance_evaluate", by_user),)


# --- the plan's request rate (docs/plans-and-usage.md) -----------------------------------------

def _plan_rate_of(request: Request, user: Any) -> tuple[str, int] | None:
    """(organization id, requests per minute) of the request's active organization, or None when
    unlimited or there is none. The organization is the one the header or the token's claim names
    (only if the caller belongs to it: else nobody's budget is spent; the view answers 404 or lists nothing),
    else the user's primary one; an API key's is the key's. Both lookups are cached with
    invalidation (accounts/plan_rate.py), so a warm request costs no SQL."""
    from .organization_context import organization_chosen
    from .plan_rate import organization_rate
    from .principals import key_grant_of

    chosen_text = organization_chosen(request)
    try:
        chosen = uuid.UUID(chosen_text) if chosen_text is not None else None
    except ValueError:
        return None  # the view answers 404
    grant = key_grant_of(user)
    if grant is not None:
        if chosen is not None and chosen != grant.organization_id:
            return None  # another organization than the key's: 404
        return organization_rate(user_id=user.pk, chosen=None, organization_id=grant.organization_id)
    return organization_rate(user_id=user.pk, chosen=chosen)


class PlanRateThrottle(BaseThrottle):
    """The organization's plan (or override) `requests_per_minute`, counted per organization across
    its members and keys on every authenticated request, reads included. A default throttle class of
    the API; views with their own throttles keep those. 429 RATE_LIMITED with Retry-After, as every
    throttle. When the throttle Redis cannot be reached, writes answer 503 RATE_LIMITER_UNAVAILABLE
    (fail closed, as before) and reads pass uncounted (fail open: they create no work)."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self._wait = None
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return True
        try:
            rate = _plan_rate_of(request, user)
            if rate is None:
                return True
            organization_id, limit = rate
            self._wait = window_consume(f"plan_rate:{organization_id}", limit=limit, period=60)
        except RedisError:
            if request.method in SAFE_METHODS:
                return True
            raise RateLimiterUnavailable() from None
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
