"""Writes of the deployment pipeline: create, the one transition service, cancel, retry.

Every state change goes through `job_transition` (`deployment_transition` for deployments, the
same for token operations): row lock, allowed-transition check, save with `update_fields`, history
row and the `DeploymentTransitioned` / `OperationTransitioned` event (docs/architecture.md,
"The event bus") in the same database transaction.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import roles, treasury
from accounts.models import EvmAccount, Membership, User
from accounts.selectors import membership_primary
from biatec.core import actors, events
from biatec.core.correlation import get_correlation_id
from biatec.core.errors import PermissionDenied
from biatec.core.faults import fault_point
from tokens.networks import EVM, get_available_network
from tokens.standards.validation import (
    deployment_preflight,
    deployment_request_validate,
    regulated_issuer_check,
    standard_require,
)

from .errors import NotRetryable
from .issuance_gates import issuance_gates_check
from .jobs import DEPLOYMENT, JobType, job_type_of
from .metering import deployment_quota_check, job_metered, job_transition_metered
from .models import (
    ACTIVE_STATUSES,
    ChainJobEventRow,
    ChainJobRow,
    Deployment,
    DeploymentStatus,
    TransactionStatus,
)
from .queueing import job_enqueue
from .state_machine import check_transition

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = actors.WORKER


def actor_of(user: User | None) -> str:
    """A user acting through the API, or the workers (retries the pipeline decides on)."""
    return actors.actor_of(user, otherwise=SYSTEM_ACTOR)


def _record_event(job: ChainJobRow, *, from_status: str, reason: str, actor: str,
                  facts: dict[str, Any]) -> ChainJobEventRow:
    """The history row and the job's domain event (`DeploymentTransitioned` / `OperationTransitioned`),
    in the caller's transaction (its subscribers, the audit log and the webhook outbox, write theirs
    in it too)."""
    job_type = job_type_of(job)
    event: ChainJobEventRow = job.events.create(  # type: ignore[attr-defined]
        from_status=from_status, to_status=job.status, actor=actor, reason=reason,
        correlation_id=get_correlation_id() or "", facts=facts,
    )
    events.publish(job_type.event(job, event, from_status))
    return event


@transaction.atomic
def job_transition(
    *,
    job_type: JobType,
    job_id: Any,
    to: str,
    reason: str,
    actor: str,
    results: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    next_action_at: Any = None,
    **facts: Any,
) -> Any:
    """Move a chain job (deployment or operation) to `to`, or raise INVALID_STATE_TRANSITION.
    `results` are merged into the job's results; `error` (code, message, retryable, details) is set
    on `failed` and cleared when the job is re-queued. In an active state the job gets a deadline
    (`next_action_at`, default now + the sweep grace): if no worker moves it on by then, whatever
    happened to the worker, the sweep re-queues it."""
    job = job_type.model.objects.select_for_update().get(pk=job_id)
    previous = job.status
    check_transition(previous, to)
    now = timezone.now()
    job.status = to
    job.status_changed_at = now
    if next_action_at is None and to in ACTIVE_STATUSES:
        next_action_at = now + timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS)
    job.next_action_at = next_action_at
    job.attempts = 0  # progress: chain-unavailable attempts count from here
    fields = ["status", "status_changed_at", "next_action_at", "attempts", "updated_at"]
    if results:
        job.results = {**job.results, **results}
        fields.append("results")
    if to == DeploymentStatus.FAILED:
        error = error or {}
        job.error_code = error.get("code", "INTERNAL_ERROR")
        job.error_message = error.get("message", "")
        job.error_retryable = bool(error.get("retryable", False))
        job.error_details = error.get("details", {}) or {}
        fields += ["error_code", "error_message", "error_retryable", "error_details"]
        facts = {**facts, "error_code": job.error_code}
    elif to == DeploymentStatus.QUEUED:
        job.error_code, job.error_message = "", ""
        job.error_retryable, job.error_details = False, {}
        fields += ["error_code", "error_message", "error_retryable", "error_details"]
    if to == DeploymentStatus.COMPLETED:
        job.completed_at = now
        fields.append("completed_at")
    job.save_without_history(fields)  # the transition's record is its history row and audit entry
    job_transition_metered(job, previous=previous, to=to, reason=reason)
    _record_event(job, from_status=previous, reason=reason, actor=actor, facts=facts)
    fault_point(f"before_commit:{to}")  # the fault suite kills here: nothing of this transition may remain
    logger.info(f"{job_type.name} transition", extra={f"{job_type.name}_id": str(job.pk), "from_status": previous,
                                                      "to_status": to, "reason": reason})
    return job


def deployment_transition(*, deployment_id: Any, to: str, reason: str, actor: str, **kwargs: Any) -> Deployment:
    """`job_transition` of a deployment."""
    moved: Deployment = job_transition(job_type=DEPLOYMENT, job_id=deployment_id, to=to, reason=reason, actor=actor,
                                       **kwargs)
    return moved


def _organization_for_issuing(user: User, membership: Membership | None) -> Any:
    """The organization of the active membership (default: the primary one) if its role may deploy."""
    membership = membership if membership is not None else membership_primary(user=user)
    if membership is None or not roles.role_allows(membership.role, roles.DEPLOY):
        raise PermissionDenied("Your role does not allow issuing tokens.")
    return membership.organization


def _issuer_address(*, user: User, organization: Any, issuer_account: str, network_slug: str) -> str | None:
    """The address that will deploy: the organization treasury's (created now on first use: a random
    key, no derivation) or the member's (None: an EVM key not derived yet)."""
    network = get_available_network(network_slug)
    if issuer_account == treasury.ORGANIZATION:
        return treasury.treasury_address(organization_id=organization.pk, network=network)
    if network.family == EVM:
        account = EvmAccount.objects.filter(user=user, chain_id=int(network.chain_id or 0)).first()
        return account.address if account is not None else None
    return user.algorand_address or None


@transaction.atomic
def deployment_create(
    *,
    user: User,
    standard: str,
    payload: dict[str, Any],
    compliance_metadata: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    membership: Membership | None = None,
) -> Deployment:
    """Validate, persist as `queued` (with its first history row) and enqueue on commit, in the
    organization of `membership` (the request's active one; default the user's primary one).
    Everything knowable at POST is checked first (`tokens.standards.validation`): the request, the
    compliance gate, then one cheap short-timeout question to the node (does it answer, can the
    deployer pay). No key derivation and no signing on the request path."""
    organization = _organization_for_issuing(user, membership)
    request = deployment_request_validate(standard=standard, payload=payload)
    request["issuer_account"] = request.get("issuer_account") or treasury.default_issuer_account(organization.pk)
    issuer = _issuer_address(user=user, organization=organization, issuer_account=request["issuer_account"],
                             network_slug=request["network"])
    regulated_issuer_check(spec=standard_require(standard), request=request, issuer=issuer)
    compliance = issuance_gates_check(organization=organization, standard=standard, network=request["network"],
                                      request=request, compliance_metadata=compliance_metadata)
    deployment_preflight(spec=standard_require(standard), network=get_available_network(request["network"]),
                         address=issuer)
    # Last, under the organization's row lock until commit: 402 before anything is queued or signed.
    deployment_quota_check(organization=organization, network_slug=request["network"])
    deployment = Deployment.objects.create(
        organization=organization, creator=user, standard=standard, network=request["network"], request=request,
        compliance_metadata=compliance_metadata, correlation_id=get_correlation_id() or "",
        idempotency_key=idempotency_key, status=DeploymentStatus.QUEUED, status_changed_at=timezone.now(),
        next_action_at=timezone.now() + timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS),
    )
    job_metered(deployment)
    _record_event(deployment, from_status="", reason="requested", actor=actor_of(user),
                  facts={"standard": standard, "network": deployment.network, **compliance})
    _enqueue_submit_on_commit(deployment.pk)
    return deployment


def _enqueue_submit_on_commit(deployment_id: Any) -> None:
    job_enqueue_on_commit(DEPLOYMENT, deployment_id)


def job_enqueue_on_commit(job_type: JobType, job_id: Any) -> None:
    transaction.on_commit(lambda: _enqueue_submit(job_type, job_id))


def _enqueue_submit(job_type: JobType, job_id: Any) -> None:
    """Queue the first task of a committed job. Never raises: the job exists, so the request that
    created it answers 202 whatever happens here (broker down, or the inline task failing in eager
    mode); its `next_action_at` deadline makes the sweep queue it again."""
    try:
        job_enqueue(job_type, job_id, status=DeploymentStatus.QUEUED)
    except Exception:
        logger.exception(f"could not queue the {job_type.name}; the sweep will",
                         extra={f"{job_type.name}_id": str(job_id)})


def deployment_cancel(*, deployment: Deployment, user: User, reason: str) -> Deployment:
    """Only from `queued`; anything later answers INVALID_STATE_TRANSITION."""
    return deployment_transition(deployment_id=deployment.pk, to=DeploymentStatus.CANCELLED,
                                 reason=reason, actor=actor_of(user))


@transaction.atomic
def job_retry(*, job_type: JobType, job: ChainJobRow, user: User | None, reason: str = "retry requested") -> Any:
    """Only from `failed` with a retryable error: back to `queued`, then the worker takes it again."""
    locked = job_type.model.objects.select_for_update().get(pk=job.pk)
    if locked.status != DeploymentStatus.FAILED or not locked.error_retryable:
        raise NotRetryable(details={"status": locked.status, "retryable": locked.error_retryable})
    if job_type.retry_after_landed:
        # What failed for good is replaced: its parts count as missing and are signed anew, in
        # whichever step they are; what landed stays and is never sent again.
        failed = locked.transactions.filter(status=TransactionStatus.FAILED)
        failed.update(status=TransactionStatus.SUPERSEDED, updated_at=timezone.now())
    retried = job_transition(job_type=job_type, job_id=locked.pk, to=DeploymentStatus.QUEUED, reason=reason,
                             actor=actor_of(user), previous_error=locked.error_code)
    job_enqueue_on_commit(job_type, locked.pk)
    return retried


def deployment_retry(*, deployment: Deployment, user: User | None, reason: str = "retry requested") -> Deployment:
    retried: Deployment = job_retry(job_type=DEPLOYMENT, job=deployment, user=user, reason=reason)
    return retried
