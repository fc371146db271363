"""Writes of the accounts app: sign-up, login with lockout, token rotation, logout, passwords."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from biatec.core.errors import ValidationFailed

from . import arc76, keyvault
from .errors import AccountLocked, InvalidCredentials, InvalidToken, UserAlreadyExists, WeakPassword
from .models import LoginThrottle, Membership, Organization, SecurityEvent, User, normalize_email
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


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _password_problems(password: str, email: str) -> list[str]:
    try:
        validate_password(password, user=User(email=email))
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def user_register(*, email: str, password: str, client: ClientInfo | None = None) -> tuple[User, TokenPair]:
    """Create the user, their ARC-76 account (sealed seed), a personal organization they own."""
    client = client or ClientInfo()
    email = normalize_email(email)
    if not email or "@" not in email:
        raise ValidationFailed(details={"fields": {"email": ["Enter a valid e-mail address."]}})
    if User.objects.filter(email__iexact=email).exists():
        raise UserAlreadyExists()
    problems = _password_problems(password, email)
    if problems:
        raise WeakPassword(details={"reasons": problems})
    # ~1 s of PBKDF2, deliberately outside the transaction (no locks held while deriving).
    seed = arc76.arc76_seed(email, password)
    try:
        with transaction.atomic():
            user = User(email=email, algorand_address=arc76.algorand_address(seed))
            user.set_password(password)
            user.save()
            secret = keyvault.seal(seed, owner_id=str(user.pk), purpose=PURPOSE_ARC76)
            secret.save()
            user.arc76_secret = secret
            user.save(update_fields=["arc76_secret"])
            organization = Organization.objects.create(name=f"{email}'s organization")
            Membership.objects.create(user=user, organization=organization, role=Membership.Role.OWNER)
            security_event_record(
                event_type=SecurityEvent.Type.SIGNUP, user=user,
                ip_address=client.ip_address, user_agent=client.user_agent,
            )
            from .tasks import derive_evm_accounts

            transaction.on_commit(lambda: derive_evm_accounts.delay(str(user.pk)))
    except IntegrityError:
        raise UserAlreadyExists() from None
    return user, token_pair_issue(user=user)


def _lock_state(email: str) -> LoginThrottle:
    throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(email=email)
    return throttle


def user_login(*, email: str, password: str, client: ClientInfo | None = None) -> tuple[User, TokenPair]:
    """Check credentials with per-e-mail lockout. Unknown e-mails behave like wrong passwords."""
    client = client or ClientInfo()
    email = normalize_email(email)
    now = timezone.now()
    failure: Exception | None = None
    with transaction.atomic():
        throttle = _lock_state(email)
        user = User.objects.filter(email=email, is_active=True).first()
        if throttle.locked_until and throttle.locked_until > now:
            security_event_record(event_type=SecurityEvent.Type.LOGIN_LOCKED, user=user, email=email,
                                  ip_address=client.ip_address, user_agent=client.user_agent)
            failure = AccountLocked(details={"locked_until": throttle.locked_until.isoformat()})
        else:
            if user is not None:
                ok = user.check_password(password)
            else:
                check_password(password, _dummy_hash())
                ok = False
            if ok:
                throttle.failures = 0
                throttle.locked_until = None
                throttle.save(update_fields=["failures", "locked_until", "updated_at"])
                security_event_record(event_type=SecurityEvent.Type.LOGIN_SUCCESS, user=user,
                                      ip_address=client.ip_address, user_agent=client.user_agent)
            else:
                throttle.failures += 1
                details: dict = {"failures": throttle.failures}
                security_event_record(event_type=SecurityEvent.Type.LOGIN_FAILURE, user=user, email=email,
                                      ip_address=client.ip_address, user_agent=client.user_agent,
                                      details=details)
                if throttle.failures >= settings.LOGIN_LOCKOUT_THRESHOLD:
                    throttle.locked_until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
                    throttle.failures = 0
                    security_event_record(event_type=SecurityEvent.Type.LOCKOUT, user=user, email=email,
                                          ip_address=client.ip_address,
                                          details={"locked_until": throttle.locked_until.isoformat()})
                throttle.save(update_fields=["failures", "locked_until", "updated_at"])
                failure = InvalidCredentials()
    if failure is not None:
        raise failure
    assert user is not None
    return user, token_pair_issue(user=user)


def login_unlock(*, email: str, actor: User | None = None) -> None:
    """Staff action: clear a lockout."""
    email = normalize_email(email)
    with transaction.atomic():
        LoginThrottle.objects.filter(email=email).delete()
        security_event_record(event_type=SecurityEvent.Type.UNLOCK, email=email,
                              details={"by": str(actor.pk) if actor else None})


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


def _user_of_token(raw: str) -> User | None:
    try:
        token = RefreshToken(raw, verify=False)  # the signature is checked when decoding
        token.check_exp()  # expired tokens prove nothing; the blacklist is what we look at next
    except TokenError:
        return None
    return User.objects.filter(pk=token.get("user_id")).first()


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate: the used refresh token is blacklisted. Reusing a blacklisted one revokes them all."""
    with transaction.atomic():
        try:
            token = RefreshToken(refresh)  # checks signature, expiry and blacklist
        except TokenError:
            user = _user_of_token(refresh)
            if user is not None:
                stale = RefreshToken(refresh, verify=False)
                # A rotated-out token of the current token version presented again means it leaked.
                # Tokens voided by an earlier revocation (older version) only get a 401.
                if (stale.get(TOKEN_VERSION_CLAIM) == user.token_version
                        and BlacklistedToken.objects.filter(token__jti=stale.get("jti")).exists()):
                    refresh_tokens_revoke_all(user=user)
                    security_event_record(event_type=SecurityEvent.Type.REFRESH_REUSE, user=user)
            failure = InvalidToken("The refresh token is invalid, expired or already used.")
        else:
            user = User.objects.filter(pk=token.get("user_id"), is_active=True).first()
            if user is None:
                raise InvalidToken()
            if token.get(TOKEN_VERSION_CLAIM) != user.token_version:
                raise InvalidToken("The refresh token was revoked.")
            token.blacklist()
            security_event_record(event_type=SecurityEvent.Type.TOKEN_REFRESH, user=user)
            return token_pair_issue(user=user)
    raise failure


def user_logout(*, user: User, refresh: str) -> None:
    try:
        token = RefreshToken(refresh)
    except TokenError:
        raise InvalidToken("The refresh token is invalid, expired or already used.") from None
    if str(token.get("user_id")) != str(user.pk):
        raise InvalidToken()
    with transaction.atomic():
        token.blacklist()
        security_event_record(event_type=SecurityEvent.Type.LOGOUT, user=user)


def user_change_password(*, user: User, current_password: str, new_password: str) -> TokenPair:
    """New password hash; the chain accounts stay (keys are sealed by KEKs, not by the password)."""
    if not user.check_password(current_password):
        raise InvalidCredentials("The current password is wrong.")
    problems = _password_problems(new_password, user.email)
    if problems:
        raise WeakPassword(details={"reasons": problems})
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        refresh_tokens_revoke_all(user=user)
        security_event_record(event_type=SecurityEvent.Type.PASSWORD_CHANGE, user=user)
    # A fresh pair issued after the revocation instant, so the caller stays signed in.
    return token_pair_issue(user=user)


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

