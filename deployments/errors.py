"""Error codes of the deployment pipeline (docs/architecture.md, "Errors and API conventions")."""
from biatec.core.errors import ApplicationError
from tokens.standards.validation import UnsupportedStandard

__all__ = ["ApiKeyMayNotApprove", "ApprovalAlreadyDecided", "ApprovalNotPending", "ApproverIsRequester",
           "RequesterNoLongerPermitted",
           "CapExceeded", "DuplicateRecipient", "HolderFrozen", "IdempotencyKeyInProgress", "IdempotencyKeyMismatch",
           "InsufficientBalance", "NotRetryable", "OperationNotSupported", "RecipientNotFound", "RecipientNotOptedIn",
           "TokenPaused", "UnsupportedStandard"]




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


class OperationNotSupported(ApplicationError):
    code = "OPERATION_NOT_SUPPORTED"
    http_status = 409
    default_message = "This token does not support this operation."


class InsufficientBalance(ApplicationError):
    code = "INSUFFICIENT_BALANCE"
    http_status = 422
    default_message = "The sending account does not hold enough of the token."


class TokenPaused(ApplicationError):
    code = "TOKEN_PAUSED"
    http_status = 422
    default_message = "The token is paused: transfers, mints and burns are refused until it is unpaused."


class RecipientNotOptedIn(ApplicationError):
    code = "RECIPIENT_NOT_OPTED_IN"
    http_status = 422
    default_message = "The recipient has not opted in to this asset, so it cannot receive it."


class CapExceeded(ApplicationError):
    code = "CAP_EXCEEDED"
    http_status = 422
    default_message = "Minting this amount would take the total supply above the token's cap."


class FreezeExceedsBalance(ApplicationError):
    code = "FREEZE_EXCEEDS_BALANCE"
    http_status = 422
    default_message = "Freezing this amount would freeze more than the holder's balance."


class UnfreezeExceedsFrozen(ApplicationError):
    code = "UNFREEZE_EXCEEDS_FROZEN"
    http_status = 422
    default_message = "The holder has fewer frozen tokens than this amount."


class NothingToRecover(ApplicationError):
    code = "NOTHING_TO_RECOVER"
    http_status = 422
    default_message = "The lost wallet holds no tokens of this token."


class DuplicateRecipient(ApplicationError):
    code = "DUPLICATE_RECIPIENT"
    http_status = 422
    default_message = "A batch names the same recipient more than once."


class RecipientNotFound(ApplicationError):
    code = "RECIPIENT_NOT_FOUND"
    http_status = 422
    default_message = "No registered user has this e-mail address."


class HolderFrozen(ApplicationError):
    code = "HOLDER_FROZEN"
    http_status = 422
    default_message = "The holding of the sender or a recipient is frozen."


# Four-eyes approvals (deployments/approval_decisions.py, docs/approvals.md).
class ApproverIsRequester(ApplicationError):
    code = "APPROVER_IS_REQUESTER"
    http_status = 403
    default_message = "The member who requested an operation cannot approve or reject it."


class ApiKeyMayNotApprove(ApplicationError):
    code = "API_KEY_MAY_NOT_APPROVE"
    http_status = 403
    default_message = "The organization's approval policy does not let an API key approve or reject."


class ApprovalNotPending(ApplicationError):
    code = "APPROVAL_NOT_PENDING"
    http_status = 409
    default_message = "This approval request is no longer pending."


class ApprovalAlreadyDecided(ApplicationError):
    code = "APPROVAL_ALREADY_DECIDED"
    http_status = 409
    default_message = "You have already approved this request; another approver must approve it."


class RequesterNoLongerPermitted(ApplicationError):
    code = "REQUESTER_NOT_PERMITTED"
    http_status = 409
    default_message = "The member who requested this operation may no longer request it; reject the request."
