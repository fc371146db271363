"""Error codes of the deployment pipeline (docs/architecture.md, "Errors and API conventions")."""
from biatec.core.errors import ApplicationError
from tokens.standards.validation import UnsupportedStandard

__all__ = ["IdempotencyKeyInProgress", "IdempotencyKeyMismatch", "NotRetryable", "UnsupportedStandard"]




class IdempotencyKeyMismatch(ApplicationError):
    code = "IDEMPOTENCY_KEY_MISMATCH"
    http_status = 409
    default_message = "This Idempotency-Key was already used with a different request."


class IdempotencyKeyInProgress(ApplicationError):
    code = "IDEMPOTENCY_KEY_IN_PROGRESS"
    http_status = 409
    default_message = "A request with this Idempotency-Key is still being processed."


class NotRetryable(ApplicationError):
    code = "INVALID_STATE_TRANSITION"
    http_status = 409
    default_message = "Only failed deployments whose error is retryable can be retried."
