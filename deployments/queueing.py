"""Queueing the pipeline's Celery tasks (by their registered names).

Services, the pipeline and the poller queue work; `deployments.tasks` runs it by calling them. Naming
the task instead of importing it keeps that one-way: `tasks` imports the modules it drives, never
the reverse. `DeploymentsConfig.ready` imports `tasks`, so the names are registered in every
process (in eager mode `apply_async` still runs the task inline).
"""
from __future__ import annotations

from typing import Any

from celery import current_app

from .jobs import DEPLOYMENT, JobType
from .models import DeploymentStatus

SUBMIT_TASK = DEPLOYMENT.submit_task
CONFIRM_TASK = DEPLOYMENT.confirm_task


def task_name_for_status(status: str | None, job_type: JobType = DEPLOYMENT) -> str:
    """`submit` until the transaction is broadcast, `confirm` after (both run the same steps)."""
    if status in (DeploymentStatus.QUEUED, DeploymentStatus.SUBMITTED):
        return job_type.submit_task
    return job_type.confirm_task


def job_enqueue(job_type: JobType, job_id: Any, *, status: str | None, countdown: float | None = None) -> None:
    """Queue the task that advances a chain job in `status`."""
    current_app.tasks[task_name_for_status(status, job_type)].apply_async(args=[str(job_id)], countdown=countdown)


def deployment_enqueue(deployment_id: Any, *, status: str | None, countdown: float | None = None) -> None:
    job_enqueue(DEPLOYMENT, deployment_id, status=status, countdown=countdown)
