"""Writes of the deployment pipeline: create, the one transition service, cancel, retry.

Every state change goes through `deployment_transition`: row lock, allowed-transition check, save
with `update_fields`, history row and the `DeploymentTransitioned` event (docs/architecture.md,
"The event bus") in the same database transaction.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import EvmAccount, Membership, User
from accounts.selectors import membership_primary
from biatec.core import actors, events
from biatec.core.correlation import get_correlation_id
from biatec.core.errors import PermissionDenied
from biatec.core.faults import fault_point
from tokens.networks import EVM, get_available_network
from tokens.standards.validation import deployment_preflight, deployment_request_validate, standard_require

from .errors import NotRetryable
from .issuance_gates import issuance_gates_check
from .models import ACTIVE_STATUSES, Deployment, DeploymentEvent, DeploymentStatus
from .queueing import deployment_enqueue
from .state_machine import check_transition

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = actors.WORKER
ISSUING_ROLES = {Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.ISSUER}


def actor_of(user: User | None) -> str:
    """A user acting through the API, or the workers (retries the pipeline decides on)."""
    return actors.actor_of(user, otherwise=SYSTEM_ACTOR)


def _record_event(deployment: Deployment, *, from_status: str, reason: str, actor: str,
                  facts: dict[str, Any]) -> DeploymentEvent:
    """The history row and the `DeploymentTransitioned` event, in the caller's transaction (its
    subscribers, the audit log and the webhook outbox, write theirs in it too)."""
    event = DeploymentEvent.objects.create(
        deployment=deployment, from_status=from_status, to_status=deployment.status, actor=actor, reason=reason,
        correlation_id=get_correlation_id() or "", facts=facts,
    )
    events.publish(events.DeploymentTransitioned(
        correlation_id=event.correlation_id, deployment_id=str(deployment.pk),
        organization_id=str(deployment.organization_id), event_id=event.pk, from_status=from_status,
        to_status=event.to_status, actor=actor, reason=reason, standard=deployment.standard,
        network=deployment.network, facts=facts,
    ))
    return event


@transaction.atomic
def deployment_transition(
    *,
    deployment_id: Any,
    to: str,
    reason: str,
    actor: str,
    results: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    next_action_at: Any = None,
    **facts: Any,
) -> Deployment:
    """Move a deployment to `to`, or raise INVALID_STATE_TRANSITION. `results` are merged into the
    deployment's results; `error` (code, message, retryable, details) is set on `failed` and cleared
    when the deployment is re-queued. In an active state the deployment gets a deadline
    (`next_action_at`, default now + the sweep grace): if no worker moves it on by then, whatever
    happened to the worker, the sweep re-queues it."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
    previous = deployment.status
    check_transition(previous, to)
    now = timezone.now()
    deployment.status = to
    deployment.status_changed_at = now
    if next_action_at is None and to in ACTIVE_STATUSES:
        next_action_at = now + timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS)
    deployment.next_action_at = next_action_at
    deployment.attempts = 0  # progress: chain-unavailable attempts count from here
    fields = ["status", "status_changed_at", "next_action_at", "attempts", "updated_at"]
    if results:
        deployment.results = {**deployment.results, **results}
        fields.append("results")
    if to == DeploymentStatus.FAILED:
        error = error or {}
        deployment.error_code = error.get("code", "INTERNAL_ERROR")
        deployment.error_message = error.get("message", "")
        deployment.error_retryable = bool(error.get("retryable", False))
        deployment.error_details = error.get("details", {}) or {}
        fields += ["error_code", "error_message", "error_retryable", "error_details"]
        facts = {**facts, "error_code": deployment.error_code}
    elif to == DeploymentStatus.QUEUED:
        deployment.error_code, deployment.error_message = "", ""
        deployment.error_retryable, deployment.error_details = False, {}
        fields += ["error_code", "error_message", "error_retryable", "error_details"]
    if to == DeploymentStatus.COMPLETED:
        deployment.completed_at = now
        fields.append("completed_at")
    deployment.save_without_history(fields)  # the transition's record is its history row and audit entry
    _record_event(deployment, from_status=previous, reason=reason, actor=actor, facts=facts)
    fault_point(f"before_commit:{to}")  # the fault suite kills here: nothing of this transition may remain
    logger.info("deployment transition", extra={"deployment_id": str(deployment.pk), "from_status": previous,
                                                 "to_status": to, "reason": reason})
    return deployment


def _organization_for_issuing(user: User) -> Any:
    membership = membership_primary(user=user)
    if membership is None or membership.role not in ISSUING_ROLES:
        raise PermissionDenied("Your role does not allow issuing tokens.")
    return membership.organization


def _preflight(*, user: User, standard: str, network_slug: str) -> None:
    network = get_available_network(network_slug)
    if network.family == EVM:
        account = EvmAccount.objects.filter(user=user, chain_id=int(network.chain_id or 0)).first()
        address = account.address if account is not None else None
    else:
        address = user.algorand_address or None
    deployment_preflight(spec=standard_require(standard), network=network, address=address)


@transaction.atomic
def deployment_create(
    *,
    user: User,
    standard: str,
    payload: dict[str, Any],
    compliance_metadata: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Deployment:
    """Validate, persist as `queued` (with its first history row) and enqueue on commit.
    Everything knowable at POST is checked first (`tokens.standards.validation`): the request, the
    compliance gate, then one cheap short-timeout question to the node (does it answer, can the
    deployer pay). No key derivation and no signing on the request path."""
    organization = _organization_for_issuing(user)
    request = deployment_request_validate(standard=standard, payload=payload)
    compliance = issuance_gates_check(organization=organization, standard=standard, network=request["network"],
                                      request=request, compliance_metadata=compliance_metadata)
    _preflight(user=user, standard=standard, network_slug=request["network"])
    deployment = Deployment.objects.create(
        organization=organization, creator=user, standard=standard, network=request["network"], request=request,
        compliance_metadata=compliance_metadata, correlation_id=get_correlation_id() or "",
        idempotency_key=idempotency_key, status=DeploymentStatus.QUEUED, status_changed_at=timezone.now(),
        next_action_at=timezone.now() + timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS),
    )
    _record_event(deployment, from_status="", reason="requested", actor=actor_of(user),
                  facts={"standard": standard, "network": deployment.network, **compliance})
    _enqueue_submit_on_commit(deployment.pk)
    return deployment


def _enqueue_submit_on_commit(deployment_id: Any) -> None:
    transaction.on_commit(lambda: _enqueue_submit(deployment_id))


def _enqueue_submit(deployment_id: Any) -> None:
    """Queue the first task of a committed deployment. Never raises: the deployment exists, so the
    request that created it answers 202 whatever happens here (broker down, or the inline task
    failing in eager mode); its `next_action_at` deadline makes the sweep queue it again."""
    try:
        deployment_enqueue(deployment_id, status=DeploymentStatus.QUEUED)
    except Exception:
        logger.exception("could not queue the deployment; the sweep will", extra={"deployment_id": str(deployment_id)})


def deployment_cancel(*, deployment: Deployment, user: User, reason: str) -> Deployment:
    """Only from `queued`; anything later answers INVALID_STATE_TRANSITION."""
    return deployment_transition(deployment_id=deployment.pk, to=DeploymentStatus.CANCELLED,
                                 reason=reason, actor=actor_of(user))


@transaction.atomic
def deployment_retry(*, deployment: Deployment, user: User | None, reason: str = "retry requested") -> Deployment:
    """Only from `failed` with a retryable error: back to `queued`, then the worker takes it again."""
    locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if locked.status != DeploymentStatus.FAILED or not locked.error_retryable:
        raise NotRetryable(details={"status": locked.status, "retryable": locked.error_retryable})
    retried = deployment_transition(deployment_id=locked.pk, to=DeploymentStatus.QUEUED, reason=reason,
                                    actor=actor_of(user), previous_error=locked.error_code)
    _enqueue_submit_on_commit(locked.pk)
    return retried
