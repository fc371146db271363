"""What the compliance writes that four-eyes approval may gate answer (docs/approvals.md): the
change as written, or, gated, 202 with the approval request (`status: pending_approval`, `Location`
/api/v1/approvals/{id}); and their `Idempotency-Key` handling, as the token operations' creates."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.response import Response

from accounts.permissions import AuthenticatedRequest
from deployments.apis import IDEMPOTENCY_HEADER
from deployments.approval_models import ApprovalRequest
from deployments.approval_presenters import approval_row
from deployments.idempotency import StoredResponse, idempotent_call


def idempotency_key_of(request: AuthenticatedRequest) -> str | None:
    return request.headers.get(IDEMPOTENCY_HEADER)


def written_or_waiting(request: AuthenticatedRequest, written: Any,
                       answer: Callable[[Any], Any]) -> StoredResponse:
    """200 with `answer(written)`, or 202 with the approval request it became."""
    if isinstance(written, ApprovalRequest):
        return StoredResponse(202, approval_row(written),
                              {"Location": request.build_absolute_uri(f"/api/v1/approvals/{written.pk}")})
    return StoredResponse(200, answer(written), {})


def idempotent_response(request: AuthenticatedRequest, *, endpoint: str, body: Any,
                        handler: Callable[[], StoredResponse]) -> Response:
    """Run `handler` (once per `Idempotency-Key` and endpoint, when the header is given: a replay
    answers the first answer again, `Idempotent-Replayed: true`)."""
    key = idempotency_key_of(request)
    result = handler() if key is None else idempotent_call(user=request.user, endpoint=endpoint, key=key, body=body,
                                                           handler=handler)
    response = Response(result.body, status=result.status, headers=result.headers)
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
