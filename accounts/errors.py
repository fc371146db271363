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


class MfaRequired(ApplicationError):
    """The password was right and the user has a confirmed TOTP device: no tokens yet, only a
    challenge (`details.challenge`) for POST /api/v1/auth/login/mfa (docs/mfa.md)."""

    code = "MFA_REQUIRED"
    http_status = 401
    default_message = "A second factor is required: send the challenge and a code to /api/v1/auth/login/mfa."


class MfaCodeInvalid(ApplicationError):
    code = "MFA_CODE_INVALID"
    http_status = 401
    default_message = "The code is wrong or expired, or too many codes were tried: wait and try again."


class MfaChallengeInvalid(ApplicationError):
    code = "MFA_CHALLENGE_INVALID"
    http_status = 401
    default_message = "The challenge is invalid, expired or already used: log in again."


class MfaAlreadyEnabled(ApplicationError):
    code = "MFA_ALREADY_ENABLED"
    http_status = 409
    default_message = "Two-factor authentication is already enabled: disable it first."


class MfaNotEnabled(ApplicationError):
    code = "MFA_NOT_ENABLED"
    http_status = 409
    default_message = "Two-factor authentication is not enabled (or no enrolment was started)."


class MfaRequiredForStaff(ApplicationError):
    code = "MFA_REQUIRED_FOR_STAFF"
    http_status = 409
    default_message = "Staff accounts keep their authenticator: the admin requires it."


class KeyRotationInProgress(ApplicationError):
    """The chain accounts of the previous password change are still being moved (GET
    /api/v1/account/key-rotation): a second change would retire keys that still hold something."""

    code = "KEY_ROTATION_IN_PROGRESS"
    http_status = 409
    default_message = "The previous password change is still moving your chain accounts; try again once it completed."


class AccountControlsTokens(ApplicationError):
    code = "ACCOUNT_CONTROLS_TOKENS"
    http_status = 409
    default_message = ("The account's addresses still control tokens: move their roles (the treasury move) to "
                       "another account first. `details.tokens` lists them.")


class AccountHoldsAssets(ApplicationError):
    code = "ACCOUNT_HOLDS_ASSETS"
    http_status = 409
    default_message = ("The account's addresses still hold platform tokens: transfer or burn them first. "
                       "`details.holdings` lists them.")


class ExportNotReady(ApplicationError):
    code = "EXPORT_NOT_READY"
    http_status = 409
    default_message = "The export is not built yet (or its build failed): see its status."


class ExportAlreadyDownloaded(ApplicationError):
    code = "EXPORT_ALREADY_DOWNLOADED"
    http_status = 410
    default_message = "This export was downloaded already; request a new one."


class ExportExpired(ApplicationError):
    code = "EXPORT_EXPIRED"
    http_status = 410
    default_message = "The download link has expired; request a new export."


class ExportInProgress(ApplicationError):
    code = "EXPORT_IN_PROGRESS"
    http_status = 409
    default_message = "An export of this account is being built already."
