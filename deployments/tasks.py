"""Celery tasks of the pipeline: they take IDs and call `pipeline.job_advance` (deployments and
token operations).

`submit` (queued → submitted → pending) and `confirm` (pending → ... → completed) run the same
idempotent step function; each re-schedules itself with the delay it returns. Late acks: a worker
killed mid-task gets the message redelivered; the beat sweep covers lost messages."""
from __future__ import annotations

import random
import time

from celery import shared_task
from django.conf import settings

from tokens.networks import get_network

from .approval_decisions import approvals_expire
from .idempotency import idempotency_records_purge
from .jobs import DEPLOYMENT, OPERATION, JobType
from .key_rotation import key_rotation_advance, key_rotation_advance_later, key_rotations_sweep
from .models import DeploymentStatus
from .pipeline import job_advance, jobs_sweep
from .polling import batch_polled, deployments_poll_pending, wake_taken
from .queueing import job_enqueue

# Inline (eager) mode has no broker to hold a countdown: wait in-process, bounded.
EAGER_MAX_WAIT_SECONDS = 120.0


def _run(job_id: str, job_type: JobType = DEPLOYMENT) -> None:
    deadline = time.monotonic() + EAGER_MAX_WAIT_SECONDS
    while True:
        delay = job_advance(job_type, job_id)
        if delay is None:
            return
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            jitter = random.uniform(0, min(1.0, delay * 0.2))  # noqa: S311 - scheduling jitter, not crypto
            row = job_type.model.objects.filter(pk=job_id).values_list("status", "network").first()
            status, network = row if row else (None, None)
            if (job_type is DEPLOYMENT and status == DeploymentStatus.PENDING and network
                    and batch_polled(get_network(network))):
                # The batched poller wakes it as soon as its receipt exists; this is the safety net.
                delay = max(delay, settings.DEPLOYMENT_PENDING_FALLBACK_SECONDS)
            job_enqueue(job_type, job_id, status=status, countdown=delay + jitter)
            return
        if time.monotonic() + delay > deadline:
            return  # the sweep (or the demo's polling) takes it from here
        time.sleep(delay)


@shared_task(acks_late=True, ignore_result=True)
def deployment_submit_task(deployment_id: str) -> None:
    _run(deployment_id)


@shared_task(acks_late=True, ignore_result=True)
def deployment_confirm_task(deployment_id: str) -> None:
    wake_taken(deployment_id)
    _run(deployment_id)


@shared_task(acks_late=True, ignore_result=True)
def operation_submit_task(operation_id: str) -> None:
    _run(operation_id, OPERATION)


@shared_task(acks_late=True, ignore_result=True)
def operation_confirm_task(operation_id: str) -> None:
    _run(operation_id, OPERATION)


@shared_task(ignore_result=True)
def deployments_sweep_task() -> int:
    """Deployments and token operations alike (`pipeline.jobs_sweep`)."""
    return len(jobs_sweep())


@shared_task(ignore_result=True)
def deployments_poll_pending_task() -> int:
    return len(deployments_poll_pending())


@shared_task(ignore_result=True)
def idempotency_purge_task() -> int:
    return idempotency_records_purge()


@shared_task(ignore_result=True)
def approvals_expire_task() -> int:
    """Pending approval requests past their expiry become `expired` (deployments/approval_decisions.py)."""
    return len(approvals_expire())
@shared_task(acks_late=True, ignore_result=True)
def key_rotation_advance_task(rotation_id: str) -> None:
    """Plan, queue the next move of, or complete a key rotation (deployments/key_rotation.py)."""
    delay = key_rotation_advance(rotation_id)
    if delay is not None and not settings.CELERY_TASK_ALWAYS_EAGER:  # eager: the sweep comes back
        key_rotation_advance_later(rotation_id, countdown=delay)


@shared_task(ignore_result=True)
def key_rotations_sweep_task() -> int:
    return len(key_rotations_sweep())
