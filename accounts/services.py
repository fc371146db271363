"""Writes of the accounts app: sign-up, login with lockout, token rotation, logout, passwords."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from biatec.core.errors import NotFound, ValidationFailed

from . import arc76, keyvault, mfa
from .client import client_source
from .errors import (
    AccountLocked,
    InvalidCredentials,
    InvalidToken,
    KeyRotationInProgress,
    MfaChallengeInvalid,
    MfaCodeInvalid,
    MfaNotEnabled,
    MfaRequired,
    MfaRequiredForStaff,
    UserAlreadyExists,
    WeakPassword,
)
from .key_rotation import key_rotation_active, key_rotation_begin
from .models import LoginThrottle, Membership, Organization, SecurityEvent, User, normalize_email
from .organization_context import ORGANIZATION_CLAIM
from .plans import plan_default
from .security_events import security_event_record
from .signing import PURPOSE_ARC76

# A real Argon2id hash of a random string: unknown e-mails are checked against it so they take as
# long as a wrong password for a known one.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = make_password("dummy-password-for-timing-equalisation")
    return _DUMMY_HASH


TOKEN_VERSION_CLAIM = "tv"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str

    def as_dict(self) -> dict[str, str]:
        return {"access": self.access, "refresh": self.refresh}


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None = None
    user_agent: str = ""

    @property
    def source(self) -> str:
        """What the lockout counts failures under (accounts.client.client_source)."""
        return client_source(self.ip_address)


def token_pair_issue(*, user: User, organization_id: str | None = None) -> TokenPair:
    """A new pair; with `organization_id`, both carry the claim `org` naming the organization the
    requests act in (accounts/organization_context.py; checked by the caller, and again on every
    request). The plan rate's cache entries of the user are warmed (a request then costs no SQL)."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    if organization_id is not None:
        refresh[ORGANIZATION_CLAIM] = str(organization_id)  # copied into the access token
    _plan_rate_warm(user=user, organization_id=organization_id)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _plan_rate_warm(*, user: User, organization_id: str | None) -> None:
    from redis.exceptions import RedisError

    from .plan_rate import organization_rate

    try:
        organization_rate(user_id=user.pk, chosen=uuid.UUID(str(organization_id)) if organization_id else None)
    except (RedisError, ValueError):  # the first request computes it then
        pass


def organization_claim_checked(*, user: User, organization_id: uuid.UUID | str | None) -> str | None:
    """The organization a new token pair should name, as text: None when not asked for; one the user
    does not belong to answers 404 NOT_FOUND, as the header `X-Organization-Id` does."""
    if organization_id is None:
        return None
    if not Membership.objects.filter(user_id=user.pk, organization_id=organization_id).exists():
        raise NotFound("No such organization.")
    return str(organization_id)


def _password_problems(password: str, email: str) -> list[str]:
    try:
        validate_password(password, user=User(email=email))
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


_HASHER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="password-hash")


def _derive_and_hash(email: str, password: str) -> tuple[bytes, str]:
    """(ARC-76 seed, password hash for the user row), computed concurrently."""
    hashed = _HASHER.submit(make_password, password)
    seed = arc76.arc76_seed(email, password)
    return seed, hashed.result()


def user_register(*, email: str, password: str, client: ClientInfo | None = None) -> tuple[User, TokenPair]:
    """Create the user, their ARC-76 account (sealed seed), a personal organization they own."""
    client = client or ClientInfo()
    email = normalize_email(email)
    if not email or "@" not in email:
        raise ValidationFailed(details={"fields": {"email": ["Enter a valid e-mail address."]}})
    # The password is judged first, and a taken e-mail is refused only after the same work as a
    # sign-up (derivation and hash): neither the answer nor its delay tells which e-mails exist
    # before the password is acceptable, nor how far the request got.
    problems = _password_problems(password, email)
    if problems:
        raise WeakPassword(details={"reasons": problems})
    # The ARC-76 PBKDF2 (fixed by the spec) and the Argon2id hash both run outside the transaction
    # (no locks held), side by side: both release the GIL, so a sign-up costs about one derivation.
    seed, password_hash = _derive_and_hash(email, password)
    if User.objects.filter(email__iexact=email).exists():
        raise UserAlreadyExists()  # after the same work as a sign-up
    try:
        with transaction.atomic():
            user = User(email=email, algorand_address=arc76.algorand_address(seed), password=password_hash)
            user.save()
            secret = keyvault.seal(seed, owner_id=str(user.pk), purpose=PURPOSE_ARC76)
            secret.save()
            user.arc76_secret = secret
            user.save(update_fields=["arc76_secret"])
            organization = Organization.objects.create(name=f"{email}'s organization", plan=plan_default())
            Membership.objects.create(user=user, organization=organization, role=Membership.Role.OWNER)
            security_event_record(
                event_type=SecurityEvent.Type.SIGNUP, user=user,
                ip_address=client.ip_address, user_agent=client.user_agent,
            )
            from .tasks import evm_accounts_derive_later

            # Never raises: with the broker down the sign-up still answers 201 and the beat sweep derives.
            transaction.on_commit(lambda: evm_accounts_derive_later(str(user.pk)))
    except IntegrityError:
        raise UserAlreadyExists() from None
    return user, token_pair_issue(user=user)


def _lock_state(email: str, source: str) -> LoginThrottle:
    throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(email=email, source=source)
    return throttle


def _lock_minutes(lock_count: int) -> int:
    """The n-th consecutive lock of one (e-mail, source) lasts LOGIN_LOCKOUT_MINUTES * 2^(n-1),
    at most LOGIN_LOCKOUT_MAX_MINUTES."""
    base = settings.LOGIN_LOCKOUT_MINUTES
    return min(base * 2 ** max(0, lock_count - 1), max(base, settings.LOGIN_LOCKOUT_MAX_MINUTES))


def _password_check_locked(*, throttle: LoginThrottle, user: User | None, email: str, client: ClientInfo,
                           now: datetime) -> AccountLocked | None:
    if throttle.locked_until and throttle.locked_until > now:
        security_event_record(event_type=SecurityEvent.Type.LOGIN_LOCKED, user=user, email=email,
                              ip_address=client.ip_address, user_agent=client.user_agent,
                              details={"source": throttle.source})
        return AccountLocked(details={"locked_until": throttle.locked_until.isoformat()})
    return None


def _password_check_record(*, throttle: LoginThrottle, ok: bool, user: User | None, email: str,
                           client: ClientInfo, now: datetime, context: str) -> None:
    """Count one password check of (e-mail, source): success clears the pair, the threshold-th
    consecutive failure locks it (login and change-password share this counter)."""
    if ok:
        throttle.failures = 0
        throttle.lock_count = 0
        throttle.locked_until = None
        throttle.save(update_fields=["failures", "lock_count", "locked_until", "updated_at"])
        return
    throttle.failures += 1
    security_event_record(event_type=SecurityEvent.Type.LOGIN_FAILURE, user=user, email=email,
                          ip_address=client.ip_address, user_agent=client.user_agent,
                          details={"failures": throttle.failures, "source": throttle.source, "context": context})
    if throttle.failures >= settings.LOGIN_LOCKOUT_THRESHOLD:
        throttle.lock_count += 1
        throttle.locked_until = now + timedelta(minutes=_lock_minutes(throttle.lock_count))
        throttle.failures = 0
        security_event_record(event_type=SecurityEvent.Type.LOCKOUT, user=user, email=email,
                              ip_address=client.ip_address,
                              details={"locked_until": throttle.locked_until.isoformat(),
                                       "source": throttle.source, "lock_count": throttle.lock_count})
    throttle.save(update_fields=["failures", "lock_count", "locked_until", "updated_at"])


def _counted_check(*, user: User, client: ClientInfo, context: str, check: Callable[[], Exception | None],
                   on_success: Callable[[], object] | None = None) -> None:
    """One credential check of the user's (e-mail, source) pair under its row lock: 423 while it is
    locked; `check` answers the failure or None; a failure counts towards the lockout (and is raised
    after the commit, so the count stays), a success clears the pair and runs `on_success` in the
    same transaction."""
    now = timezone.now()
    with transaction.atomic():
        throttle = _lock_state(user.email, client.source)
        failure: Exception | None = _password_check_locked(throttle=throttle, user=user, email=user.email,
                                                           client=client, now=now)
        if failure is None:
            failure = check()
            _password_check_record(throttle=throttle, ok=failure is None, user=user, email=user.email,
                                   client=client, now=now, context=context)
            if failure is None and on_success is not None:
                on_success()
    if failure is not None:
        raise failure


def user_login(*, email: str, password: str, client: ClientInfo | None = None,
               organization_id: uuid.UUID | None = None) -> tuple[User, TokenPair]:
    """Check credentials with per-(e-mail, source) lockout. Unknown e-mails behave like wrong passwords.
    With `organization_id`, the tokens name that organization (claim `org`); right credentials with
    an organization the user does not belong to answer 404 NOT_FOUND, record neither success nor
    failure and issue nothing.

    A user with a confirmed TOTP device gets no tokens for the password alone: MFA_REQUIRED (401)
    with a challenge for `user_login_mfa`. The right password then does not clear the failure
    counter (wrong codes count on it, and a re-login must not reset them); the code does."""
    client = client or ClientInfo()
    email = normalize_email(email)
    now = timezone.now()
    failure: Exception | None = None
    with transaction.atomic():
        throttle = _lock_state(email, client.source)
        user = User.objects.filter(email=email, is_active=True).first()
        failure = _password_check_locked(throttle=throttle, user=user, email=email, client=client, now=now)
        if failure is None:
            if user is not None:
                ok = user.check_password(password)
            else:
                check_password(password, _dummy_hash())
                ok = False
            if ok and user is not None and organization_id is not None and not Membership.objects.filter(
                    user_id=user.pk, organization_id=organization_id).exists():
                failure = NotFound("No such organization.")
            elif ok and user is not None and mfa.mfa_enabled(user):
                security_event_record(event_type=mfa.EVENT_MFA_CHALLENGE, user=user,
                                      ip_address=client.ip_address, user_agent=client.user_agent)
                failure = MfaRequired(details={"challenge": mfa.challenge_issue(user=user,
                                                                                organization_id=organization_id),
                                               "expires_in": settings.MFA_CHALLENGE_SECONDS})
            else:
                _password_check_record(throttle=throttle, ok=ok, user=user, email=email, client=client, now=now,
                                       context="login")
                if ok:
                    security_event_record(event_type=SecurityEvent.Type.LOGIN_SUCCESS, user=user,
                                          ip_address=client.ip_address, user_agent=client.user_agent)
                else:
                    failure = InvalidCredentials()
    if failure is not None:
        raise failure
    assert user is not None
    return user, token_pair_issue(user=user, organization_id=str(organization_id) if organization_id else None)


def user_login_mfa(*, challenge: str, code: str, client: ClientInfo | None = None,
                   organization_id: uuid.UUID | None = None) -> tuple[User, TokenPair]:
    """The second step of a login that answered MFA_REQUIRED: the challenge (signed, at most
    MFA_CHALLENGE_SECONDS old, used once) and a TOTP or recovery code. A wrong code counts as a failed
    login of the (e-mail, source) and leaves the challenge usable; the lockout then refuses (423).
    The tokens name `organization_id`, else the organization the login's first step named (404
    NOT_FOUND, before the code is checked, for one the user does not belong to)."""
    client = client or ClientInfo()
    payload = mfa.challenge_open(challenge)
    user = User.objects.filter(pk=payload["u"], is_active=True).first()
    if user is None or payload.get("tv") != user.token_version or mfa.challenge_used(payload):
        raise MfaChallengeInvalid()
    chosen = organization_claim_checked(user=user, organization_id=organization_id or payload.get("o"))
    verified: list[str] = []

    def check() -> Exception | None:
        device = mfa.mfa_verify(user=user, code=code)
        if device is None:
            return MfaCodeInvalid()
        mfa.challenge_consume(payload)  # a concurrent second use raises: all of this rolls back
        verified.append(mfa.device_kind(device))
        return None

    _counted_check(user=user, client=client, context="mfa", check=check, on_success=lambda: security_event_record(
        event_type=SecurityEvent.Type.LOGIN_SUCCESS, user=user, ip_address=client.ip_address,
        user_agent=client.user_agent, details={"mfa": verified[0]}))
    return user, token_pair_issue(user=user, organization_id=chosen)


def mfa_disable(*, user: User, password: str, code: str, client: ClientInfo | None = None) -> None:
    """Turn the API login's second factor off: needs the password and a current code (or a recovery
    code), both counted on the login lockout. Staff keep theirs (the admin requires it)."""
    client = client or ClientInfo()
    if user.is_staff:
        raise MfaRequiredForStaff()
    if not mfa.mfa_enabled(user):
        raise MfaNotEnabled()

    def check() -> Exception | None:
        if not user.check_password(password):
            return InvalidCredentials("The password is wrong.")
        return MfaCodeInvalid() if mfa.mfa_verify(user=user, code=code) is None else None

    _counted_check(user=user, client=client, context="mfa_disable", check=check,
                   on_success=lambda: mfa.mfa_disable(user=user))


def password_reentry_check(*, user: User, password: str, client: ClientInfo | None = None, context: str) -> None:
    """A sensitive action's password re-entry (the GDPR erasure): 401 INVALID_CREDENTIALS when wrong,
    counted on the same (e-mail, source) lockout as a failed login (423 ACCOUNT_LOCKED while locked)."""
    _counted_check(user=user, client=client or ClientInfo(), context=context, check=lambda: (
        None if user.check_password(password) else InvalidCredentials("The password is wrong.")))


def login_unlock(*, email: str, actor: User | None = None) -> None:
    """Staff action: clear every lockout of an e-mail (all sources)."""
    email = normalize_email(email)
    with transaction.atomic():
        LoginThrottle.objects.filter(email=email).delete()
        security_event_record(event_type=SecurityEvent.Type.UNLOCK, email=email,
                              details={"by": str(actor.pk) if actor else None})


def login_throttles_purge(*, idle_hours: int | None = None, now: datetime | None = None) -> int:
    """Delete the (e-mail, source) counters idle for `idle_hours` (default
    LOGIN_THROTTLE_IDLE_HOURS) and not locked now: the table stays small whatever an attacker
    sends, and old failures stop counting. Returns how many rows went."""
    now = now or timezone.now()
    idle_hours = settings.LOGIN_THROTTLE_IDLE_HOURS if idle_hours is None else idle_hours
    idle = LoginThrottle.objects.filter(updated_at__lt=now - timedelta(hours=idle_hours))
    deleted, _ = idle.exclude(locked_until__gt=now).delete()
    return deleted


@transaction.atomic
def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token and void issued access tokens."""
    count = 0
    for outstanding in OutstandingToken.objects.filter(user=user):
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        count += int(created)
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.token_version += 1
    locked.save(update_fields=["token_version"])  # save(), not update(): history records it
    user.token_version = locked.token_version
    return count


def refresh_claims_verified(raw: str) -> dict | None:
    """The claims of a refresh token whose signature and expiry verify (blacklist not consulted),
    else None. Nothing is ever read from a token that fails this."""
    try:
        claims = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]  # the stubs want a Token
    except TokenBackendError:
        return None
    if (claims.get(jwt_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type or not claims.get("exp")
            or not claims.get(jwt_settings.JTI_CLAIM) or not claims.get(jwt_settings.USER_ID_CLAIM)):
        return None
    return claims


def token_refresh(*, refresh: str, organization_id: uuid.UUID | None = None) -> TokenPair:
    """Rotate: the used refresh token is blacklisted. Presenting a rotated-out one again (reuse:
    it leaked) revokes every token of its user.

    The new pair keeps the old one's `org` claim (unchecked: it grants nothing, requests check it),
    or names `organization_id` (a switch; 404 NOT_FOUND for one the user does not belong to, and
    the refresh token stays usable).

    Only a token whose signature verifies is looked at, and reuse is its own user's blacklisted
    jti. The token's OutstandingToken row is locked and the blacklist row inserted unconditionally,
    so of two concurrent refreshes with one token exactly one succeeds; the other sees the
    conflict as reuse."""
    invalid = InvalidToken("The refresh token is invalid, expired or already used.")
    claims = refresh_claims_verified(refresh)
    if claims is None:
        raise invalid
    with transaction.atomic():
        outstanding = (OutstandingToken.objects.select_for_update()
                       .filter(jti=claims[jwt_settings.JTI_CLAIM]).first())
        user = User.objects.filter(pk=claims[jwt_settings.USER_ID_CLAIM], is_active=True).first()
        if outstanding is None or user is None or outstanding.user_id != user.pk:
            raise invalid
        if claims.get(TOKEN_VERSION_CLAIM) != user.token_version:
            # Voided by an earlier revocation (password change, reuse): only a 401.
            raise InvalidToken("The refresh token was revoked.")
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError:
            reused = True
        else:
            reused = False
        if not reused:
            # Checked after the reuse check (a reused token with any organization still revokes);
            # a refusal rolls the blacklisting back, so the refresh token stays usable.
            kept = claims.get(ORGANIZATION_CLAIM)
            chosen = (organization_claim_checked(user=user, organization_id=organization_id) if organization_id
                      else kept if isinstance(kept, str) else None)
            security_event_record(event_type=SecurityEvent.Type.TOKEN_REFRESH, user=user)
            return token_pair_issue(user=user, organization_id=chosen)
        refresh_tokens_revoke_all(user=user)
        security_event_record(event_type=SecurityEvent.Type.REFRESH_REUSE, user=user,
                              details={"jti": claims[jwt_settings.JTI_CLAIM]})
    raise invalid


def user_logout(*, user: User, refresh: str) -> None:
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # it takes the encoded string
    except TokenError:
        raise InvalidToken("The refresh token is invalid, expired or already used.") from None
    if str(token.get("user_id")) != str(user.pk):
        raise InvalidToken()
    with transaction.atomic():
        token.blacklist()
        security_event_record(event_type=SecurityEvent.Type.LOGOUT, user=user)


def user_change_password(*, user: User, current_password: str, new_password: str,
                         client: ClientInfo | None = None, organization_claim: str | None = None) -> TokenPair:
    """New password hash and the new password's ARC-76 account (accounts/key_rotation.py): the old
    keys are retired, what they hold and control is moved by the pipeline, then they are destroyed.
    A wrong `current_password` counts against the same (e-mail, source) lockout as a failed login,
    so a stolen access token cannot guess the password without limit. While the previous change's
    move is running, 409 KEY_ROTATION_IN_PROGRESS (before any derivation)."""
    client = client or ClientInfo()
    _counted_check(user=user, client=client, context="change_password", check=lambda: (
        None if user.check_password(current_password) else InvalidCredentials("The current password is wrong.")))
    problems = _password_problems(new_password, user.email)
    if problems:
        raise WeakPassword(details={"reasons": problems})
    if key_rotation_active(user=user) is not None:
        raise KeyRotationInProgress()
    # The new ARC-76 seed (PBKDF2, ~1 s) and the hash, side by side and outside the transaction.
    seed, password_hash = _derive_and_hash(user.email, new_password) if user.arc76_secret_id is not None \
        else (b"", make_password(new_password))
    with transaction.atomic():
        # NO KEY UPDATE: an EVM derivation inserting its account (a key-share lock on this row) while
        # holding the seed's lock must not deadlock with the rotation waiting for that seed.
        user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        if key_rotation_active(user=user) is not None:  # a concurrent change got there first
            raise KeyRotationInProgress()
        user.password = password_hash  # hashed above with the derivation (set_password would hash again)
        user.save(update_fields=["password"])
        rotation = key_rotation_begin(user=user, seed=seed) if seed else None
        refresh_tokens_revoke_all(user=user)
        security_event_record(event_type=SecurityEvent.Type.PASSWORD_CHANGE, user=user,
                              details={"key_rotation": str(rotation.pk)} if rotation else None)
    # A fresh pair issued after the revocation instant, so the caller stays signed in (naming the
    # organization the caller's token named, unchecked as at refresh).
    return token_pair_issue(user=user, organization_id=organization_claim)


def kek_rotate() -> tuple[int, int]:
    """Re-wrap every data key under the newest KEK. Returns (rewrapped, already current)."""
    from .models import EncryptedSecret

    rewrapped = current = 0
    for pk in EncryptedSecret.objects.values_list("pk", flat=True):
        with transaction.atomic():
            secret = EncryptedSecret.objects.select_for_update().get(pk=pk)
            if keyvault.rewrap(secret):
                secret.save(update_fields=["wrapped_key", "wrap_nonce", "kek_id", "updated_at"])
                rewrapped += 1
            else:
                current += 1
    return rewrapped, current

