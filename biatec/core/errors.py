"""The one error hierarchy. Every error the API returns is an `ApplicationError` or is mapped to
one by `biatec.core.exception_handler`; codes are stable UPPER_SNAKE strings
(docs/architecture.md, "Errors and API conventions")."""
from __future__ import annotations

from typing import Any

from .correlation import get_correlation_id


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The error envelope of every `/api/` answer."""
    return {"code": code, "message": message, "details": details or {}, "correlation_id": get_correlation_id()}


class ApplicationError(Exception):
    """A failure a client can act on: stable `code`, human `message`, structured `details`."""

    code = "INTERNAL_ERROR"
    http_status = 500
    default_message = "An internal error occurred."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        http_status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(ApplicationError):
    code = "VALIDATION_ERROR"
    http_status = 400
    default_message = "The request is not valid."


class NotFound(ApplicationError):
    code = "NOT_FOUND"
    http_status = 404
    default_message = "Not found."


class Conflict(ApplicationError):
    code = "CONFLICT"
    http_status = 409
    default_message = "The request conflicts with the current state."


class PermissionDenied(ApplicationError):
    code = "PERMISSION_DENIED"
    http_status = 403
    default_message = "You do not have permission to perform this action."


class ChainError(ApplicationError):
    """A chain-level failure. `retryable` tells the worker whether trying again can help."""

    code = "CHAIN_UNAVAILABLE"
    http_status = 503
    default_message = "The chain node is unavailable."
    retryable = True

    def __init__(self, message: str | None = None, *, retryable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if retryable is not None:
            self.retryable = retryable


class ChainUnavailable(ChainError):
    code = "CHAIN_UNAVAILABLE"
    retryable = True


class InsufficientFunds(ChainError):
    code = "INSUFFICIENT_FUNDS"
    http_status = 402
    default_message = "The account does not hold enough funds for this transaction."
    retryable = True


class TransactionFailed(ChainError):
    code = "TRANSACTION_FAILED"
    http_status = 422
    default_message = "The transaction was rejected by the chain."
    retryable = False


class TransactionExpired(ChainError):
    code = "TRANSACTION_EXPIRED"
    http_status = 422
    default_message = "The transaction can no longer be included: its validity window has passed."
    retryable = True


class TransactionVanished(ChainError):
    """A transaction whose receipt was seen is no longer in the chain (a reorg, a node reset): the
    pipeline sends its stored bytes again and waits for them to be included anew."""

    code = "TRANSACTION_VANISHED"
    http_status = 503
    default_message = "The confirmed transaction is no longer in the chain; it is being sent again."
    retryable = True


class FeeBelowBaseFee(ChainError):
    """The node refuses an EVM transaction whose maxFeePerGas is under the current base fee: it cannot
    be included now. The pipeline replaces it (same nonce, higher fees) instead of failing."""

    code = "FEE_BELOW_BASE_FEE"
    http_status = 503
    default_message = "The transaction's fee is below the network's current base fee."
    retryable = True


class FeeCapExceeded(ChainError):
    """Replacing a stuck EVM transaction would allow more than `EVM_MAX_TOTAL_FEE_WEI`. Retryable: the
    stored transactions stay valid and may still be mined; a retry resumes them, never a second nonce."""

    code = "FEE_CAP_EXCEEDED"
    http_status = 422
    default_message = "Replacing the stuck transaction would cost more than the platform's fee cap."
    retryable = True


class RequestTooLarge(ApplicationError):
    """The request body is larger than the server accepts (`DATA_UPLOAD_MAX_MEMORY_SIZE`)."""

    code = "REQUEST_TOO_LARGE"
    http_status = 413
    default_message = "The request body is too large."
