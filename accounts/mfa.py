"""Two-factor authentication: one TOTP device per user and its recovery codes (django-otp's own
models, `otp_totp.TOTPDevice` and `otp_static.StaticDevice`), and the short-lived challenge of the
API login. Used by the staff admin login (accounts/admin_site.py, always required there) and by the
optional MFA of the API login (accounts/services.py, accounts/apis_mfa.py). docs/mfa.md.

The TOTP secret and the recovery codes are shown exactly once (at enrolment and at confirmation) and
never logged, put in an error, or shown by an admin page. Wrong codes are throttled by django-otp
(each device's exponential back-off, never switched off here)."""
from __future__ import annotations

import secrets
from base64 import b32encode
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from redis.exceptions import RedisError

from .errors import MfaAlreadyEnabled, MfaChallengeInvalid, MfaCodeInvalid, MfaNotEnabled, RateLimiterUnavailable
from .models import User
from .security_events import security_event_record

# Security event types of this module (accounts.SecurityEvent.event_type).
EVENT_MFA_ENABLED = "mfa_enabled"
EVENT_MFA_DISABLED = "mfa_disabled"
EVENT_MFA_CHALLENGE = "mfa_challenge"  # the password was right, a code is asked for
EVENT_MFA_FAILURE = "mfa_failure"  # a wrong code at enrolment (login codes count as login_failure)

TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
_CHALLENGE_SALT = "accounts.mfa.login-challenge"


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs, shown once: the otpauth:// URI (QR code content) and the
    same secret in base32 for manual entry."""

    provisioning_uri: str
    secret: str


def mfa_enabled(user: User) -> bool:
    """Whether the user has a confirmed TOTP device (their login then needs a code)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_enrol_start(*, user: User) -> Enrolment:
    """A new unconfirmed TOTP device (any earlier unconfirmed one is dropped, so its secret dies with
    the page that showed it). Refused while a confirmed device exists."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if mfa_enabled(user):
            raise MfaAlreadyEnabled()
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return Enrolment(provisioning_uri=device.config_url,
                     secret=b32encode(device.bin_key).decode("ascii").rstrip("="))


def totp_enrol_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with its first valid code; issue fresh recovery codes (returned
    once, never readable again). A wrong code counts on the pending device's throttle."""
    code = code_normalise(code)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if mfa_enabled(user):
            raise MfaAlreadyEnabled()
        device = (TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False)
                  .order_by("-pk").first())
        if device is None:
            raise MfaNotEnabled("No enrolment was started: start one first.")
        ok = device.verify_token(code)  # a failure is saved (throttle) before the refusal below
        if ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _recovery_codes_issue(user)
            security_event_record(event_type=EVENT_MFA_ENABLED, user=user,
                                  details={"recovery_codes": len(codes)})
        else:
            security_event_record(event_type=EVENT_MFA_FAILURE, user=user, details={"context": "enrol_confirm"})
    if not ok:
        raise MfaCodeInvalid()
    return device, codes


def _recovery_codes_issue(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes: set[str] = set()
    while len(codes) < settings.MFA_RECOVERY_CODES:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return sorted(codes)


def code_normalise(code: str) -> str:
    """What users type: spaces and dashes dropped, recovery codes case-insensitive."""
    return "".join(code.split()).replace("-", "").lower()[:32]


def mfa_verify(*, user: User, code: str) -> Device | None:
    """The confirmed device that accepts `code` (a TOTP code, or a recovery code, which is used up),
    else None. Six digits go to the TOTP device, anything else to the recovery codes, so a recovery
    code never costs the TOTP device a throttle step. Each device checks its own throttle."""
    code = code_normalise(code)
    if not code:
        return None
    totp = code.isdigit() and len(code) <= 8
    model: type[Device] = TOTPDevice if totp else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def device_kind(device: Device) -> str:
    return "recovery_code" if isinstance(device, StaticDevice) else "totp"


def mfa_disable(*, user: User) -> None:
    """Delete the user's TOTP device and recovery codes (the caller has checked password and code)."""
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        security_event_record(event_type=EVENT_MFA_DISABLED, user=user, details={"devices": removed})


# ----------------------------------------------------------------------- the API login challenge
def challenge_issue(*, user: User, organization_id: Any = None) -> str:
    """A signed, timestamped challenge naming the user (and their token version, so a password
    change voids it; and the organization the login asked for, if any); valid MFA_CHALLENGE_SECONDS,
    used once (challenge_consume)."""
    payload = {"u": str(user.pk), "j": secrets.token_urlsafe(16), "tv": user.token_version}
    if organization_id is not None:
        payload["o"] = str(organization_id)
    return signing.dumps(payload, salt=_CHALLENGE_SALT, compress=True)


def challenge_open(challenge: str) -> dict[str, Any]:
    """The payload of a challenge whose signature and age verify, else MFA_CHALLENGE_INVALID."""
    try:
        payload = signing.loads(challenge, salt=_CHALLENGE_SALT, max_age=settings.MFA_CHALLENGE_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one
        raise MfaChallengeInvalid() from None
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in ("u", "j")):
        raise MfaChallengeInvalid()
    return payload


def _used_key(payload: dict[str, Any]) -> str:
    return f"mfa-challenge-used:{payload['j']}"


def challenge_used(payload: dict[str, Any]) -> bool:
    from .throttles import throttle_cache

    try:
        return bool(throttle_cache().get(_used_key(payload)))
    except RedisError as exc:  # unreachable: refuse rather than allow a replay
        raise RateLimiterUnavailable() from exc


def challenge_consume(payload: dict[str, Any]) -> None:
    """Mark the challenge used (the throttle Redis, atomically): a second use is refused."""
    from .throttles import throttle_cache

    try:
        fresh = throttle_cache().add(_used_key(payload), 1, timeout=settings.MFA_CHALLENGE_SECONDS + 60)
    except RedisError as exc:
        raise RateLimiterUnavailable() from exc
    if not fresh:
        raise MfaChallengeInvalid()


def challenge_owner(challenge: str) -> str | None:
    """The user id of a challenge that verifies (for the throttle), else None."""
    try:
        return str(challenge_open(challenge)["u"])
    except MfaChallengeInvalid:
        return None
