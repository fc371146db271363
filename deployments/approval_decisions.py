"""Deciding four-eyes approval requests: approve, reject, expire (docs/approvals.md).

Who may decide: a member whose role holds `approve` (owner, compliance, approver), never the member
who requested it (403 APPROVER_IS_REQUESTER), never through an API key unless the policy allowed it
when the request was made (403 API_KEY_MAY_NOT_APPROVE); each user decides a request once (409
APPROVAL_ALREADY_DECIDED). Only a pending request that has not expired can be decided (409
APPROVAL_NOT_PENDING, with `details.status`; a request found past its expiry is marked `expired`).
Approving also needs the requester to still hold `operate:<kind>` (a subject that is no operation:
its registered role action) (409 REQUESTER_NOT_PERMITTED: a member demoted or removed while the
request waited; reject it).

The approval that completes the count (1 or 2 distinct approvers) re-runs every check of the request
against the chain's state now (`operation_services.operation_check`) and queues the operation through
the one pipeline (`operation_queue`), its first history row naming the approval. A check refusing it
then answers the approver with the check's own error and code, and rolls the whole approval back:
the request stays `pending_approval` (the state may change again; else an approver rejects it or it
expires). A subject that is no operation (an issuance policy change, an allow-list bulk write:
deployments/approval_subjects.py) is applied instead by its registered executor, which re-validates
it against the state now and stores what it did as `result`; its refusal rolls back the same way.
Every transition happens under `select_for_update` of the request.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import User
from accounts.permissions import organization_role, role_require
from biatec.core import actors

from . import errors
from .approval_models import ApprovalDecision, ApprovalRequest, ApprovalStatus
from .approval_services import approval_changed
from .approval_subjects import approval_subject_of
from .metering import operation_quota_check
from .operation_services import operation_check, operation_queue
from .services import actor_of

EXPIRE_BATCH = 500


def request_is_api_key(request: Any) -> bool:
    """Whether the API request authenticated with an organization API key: its credential object
    (`request.auth`) says so with `is_api_key = True` (the API-key authentication's contract)."""
    return bool(getattr(getattr(request, "auth", None), "is_api_key", False))


def _locked(approval_id: Any) -> ApprovalRequest:
    return (ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("token", "token__organization", "requested_by").get(pk=approval_id))


def _expire(approval: ApprovalRequest, *, actor: str = actors.SYSTEM) -> None:
    approval.status = ApprovalStatus.EXPIRED
    approval.decided_at = timezone.now()
    approval.save(update_fields=["status", "decided_at", "updated_at"])
    approval_changed(approval, "expired", actor=actor)


def _expire_if_due(approval_id: Any) -> None:
    """Mark a pending request past its expiry `expired` (committed), before a decision is refused."""
    with transaction.atomic():
        approval = _locked(approval_id)
        if approval.pending and approval.expires_at <= timezone.now():
            _expire(approval)


def _decider_check(approval: ApprovalRequest, *, user: User, via_api_key: bool) -> None:
    role_require(user=user, organization_id=approval.organization_id, action=roles.APPROVE)
    if not approval.pending or approval.expires_at <= timezone.now():
        status = approval.status if not approval.pending else ApprovalStatus.EXPIRED
        raise errors.ApprovalNotPending(details={"id": str(approval.pk), "status": status})
    if approval.requested_by_id == user.pk:
        raise errors.ApproverIsRequester(details={"id": str(approval.pk)})
    if via_api_key and not approval.api_keys_may_approve:
        raise errors.ApiKeyMayNotApprove(details={"id": str(approval.pk)})
    if approval.decisions.filter(user=user).exists():
        raise errors.ApprovalAlreadyDecided(details={"id": str(approval.pk)})


def _requester_check(approval: ApprovalRequest) -> None:
    """The requester still holds `operate:<kind>` (a subject's own role action) in the organization
    (a member demoted or removed while the request waited does not get it run)."""
    role = organization_role(user=approval.requested_by, organization_id=approval.organization_id)
    subject = approval_subject_of(approval.kind)
    if not roles.role_allows(role, subject.action if subject is not None else roles.operate(approval.kind)):
        raise errors.RequesterNoLongerPermitted(details={"id": str(approval.pk), "requester_role": role})


def approval_approve(*, approval_id: Any, user: User, comment: str = "", via_api_key: bool = False,
                     actor: str | None = None) -> ApprovalRequest:
    """Record `user`'s approval; the last one required queues the operation (see the module docstring).
    `actor`: who the records name (default `user:<id>`; the admin passes `staff:<id>`)."""
    _expire_if_due(approval_id)
    with transaction.atomic():
        approval = _locked(approval_id)
        _decider_check(approval, user=user, via_api_key=via_api_key)
        _requester_check(approval)
        ApprovalDecision.objects.create(approval_request=approval, user=user,
                                        decision=ApprovalDecision.Decision.APPROVE, comment=comment,
                                        via_api_key=via_api_key)
        approvers = [str(a) for a in approval.approver_ids()]
        actor = actor or actor_of(user)
        if len(approvers) < approval.approvals_required:
            approval_changed(approval, "approval_recorded", actor=actor, comment=comment)  # audit only
            return approval
        subject = approval_subject_of(approval.kind)
        if subject is not None:  # not an operation: the owning app re-validates and applies it now
            approval.result = subject.execute(approval=approval, actor=actor)
            approval.status, approval.decided_at = ApprovalStatus.APPROVED, timezone.now()
            approval.save(update_fields=["status", "result", "decided_at", "updated_at"])
            approval_changed(approval, "approved", actor=actor, comment=comment)
            return approval
        token = approval.token
        assert token is not None  # an operation always names its token
        checked = operation_check(token=token, kind=approval.kind, payload=approval.payload,
                                  from_csv=approval.from_csv)
        operation_quota_check(organization=token.organization)  # the operation is accepted now
        operation = operation_queue(
            token=token, kind=approval.kind, request=checked.request, creator_id=approval.requested_by_id, actor=actor,
            reason=checked.request.get("reason") or "approved", idempotency_key=approval.idempotency_key,
            facts={**checked.facts, "approval_id": str(approval.pk), "approved_by": approvers,
                   "requested_by": str(approval.requested_by_id), "approval_correlation_id": approval.correlation_id})
        approval.status, approval.operation, approval.decided_at = ApprovalStatus.APPROVED, operation, timezone.now()
        approval.save(update_fields=["status", "operation", "decided_at", "updated_at"])
        approval_changed(approval, "approved", actor=actor, comment=comment)
        return approval


def approval_reject(*, approval_id: Any, user: User, comment: str, via_api_key: bool = False,
                    actor: str | None = None) -> ApprovalRequest:
    """Reject with a comment: nothing is queued; the request is final."""
    _expire_if_due(approval_id)
    with transaction.atomic():
        approval = _locked(approval_id)
        _decider_check(approval, user=user, via_api_key=via_api_key)
        ApprovalDecision.objects.create(approval_request=approval, user=user,
                                        decision=ApprovalDecision.Decision.REJECT, comment=comment,
                                        via_api_key=via_api_key)
        approval.status, approval.decided_at = ApprovalStatus.REJECTED, timezone.now()
        approval.save(update_fields=["status", "decided_at", "updated_at"])
        approval_changed(approval, "rejected", actor=actor or actor_of(user), comment=comment)
        return approval


def approvals_expire(*, now: Any = None) -> list[str]:
    """The beat sweep: every pending request past its expiry becomes `expired` (one transaction each,
    under `select_for_update`; a request being decided right now is skipped and seen next time)."""
    now = now or timezone.now()
    due = list(ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING, expires_at__lte=now)
               .order_by("expires_at").values_list("pk", flat=True)[:EXPIRE_BATCH])
    expired: list[str] = []
    for approval_id in due:
        with transaction.atomic():
            approval = (ApprovalRequest.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("token")
                        .filter(pk=approval_id, status=ApprovalStatus.PENDING, expires_at__lte=now).first())
            if approval is None:
                continue
            _expire(approval)
            expired.append(str(approval_id))
    return expired
