"""Error codes of the accounts app (docs/architecture.md, "Errors and API conventions")."""
from biatec.core.errors import ApplicationError


class WeakPassword(ApplicationError):
    code = "WEAK_PASSWORD"
    http_status = 400
    default_message = "The password is too weak."


class UserAlreadyExists(ApplicationError):
    code = "USER_ALREADY_EXISTS"
    http_status = 409
    default_message = "An account with this e-mail already exists."


class InvalidCredentials(ApplicationError):
    code = "INVALID_CREDENTIALS"
    http_status = 401
    default_message = "The e-mail or password is wrong."


class AccountLocked(ApplicationError):
    code = "ACCOUNT_LOCKED"
    http_status = 423
    default_message = "Too many failed logins: this account is locked for a while."


class InvalidToken(ApplicationError):
    code = "NOT_AUTHENTICATED"
    http_status = 401
    default_message = "The token is invalid or expired."


class RateLimiterUnavailable(ApplicationError):
    """The throttle counters (Redis) cannot be reached: refuse rather than let requests through
    uncounted."""

    code = "RATE_LIMITER_UNAVAILABLE"
    http_status = 503
    default_message = "The service is temporarily unavailable; try again shortly."
