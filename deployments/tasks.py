"""Celery tasks of the pipeline: they take IDs and call `pipeline.deployment_advance`.

`submit` (queued → submitted → pending) and `confirm` (pending → ... → completed) run the same
idempotent step function; each re-schedules itself with the delay it returns. Late acks: a worker
killed mid-task gets the message redelivered; the beat sweep covers lost messages."""
from __future__ import annotations

import random
import time

from celery import shared_task
from django.conf import settings

from tokens.networks import get_network

from .idempotency import idempotency_records_purge
from .models import Deployment, DeploymentStatus
from .pipeline import deployment_advance, deployments_sweep
from .polling import batch_polled, deployments_poll_pending
from .queueing import deployment_enqueue

# Inline (eager) mode has no broker to hold a countdown: wait in-process, bounded.
EAGER_MAX_WAIT_SECONDS = 120.0


def _run(deployment_id: str) -> None:
    deadline = time.monotonic() + EAGER_MAX_WAIT_SECONDS
    while True:
        delay = deployment_advance(deployment_id=deployment_id)
        if delay is None:
            return
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            jitter = random.uniform(0, min(1.0, delay * 0.2))  # noqa: S311 - scheduling jitter, not crypto
            row = Deployment.objects.filter(pk=deployment_id).values_list("status", "network").first()
            status, network = row if row else (None, None)
            if status == DeploymentStatus.PENDING and network and batch_polled(get_network(network)):
                # The batched poller wakes it as soon as its receipt exists; this is the safety net.
                delay = max(delay, settings.DEPLOYMENT_PENDING_FALLBACK_SECONDS)
            deployment_enqueue(deployment_id, status=status, countdown=delay + jitter)
            return
        if time.monotonic() + delay > deadline:
            return  # the sweep (or the demo's polling) takes it from here
        time.sleep(delay)


@shared_task(acks_late=True, ignore_result=True)
def deployment_submit_task(deployment_id: str) -> None:
    _run(deployment_id)


@shared_task(acks_late=True, ignore_result=True)
def deployment_confirm_task(deployment_id: str) -> None:
    _run(deployment_id)


@shared_task(ignore_result=True)
def deployments_sweep_task() -> int:
    return len(deployments_sweep())


@shared_task(ignore_result=True)
def deployments_poll_pending_task() -> int:
    return len(deployments_poll_pending())


@shared_task(ignore_result=True)
def idempotency_purge_task() -> int:
    return idempotency_records_purge()
