"""Queueing the pipeline's Celery tasks (by their registered names).

Services, the pipeline and the poller queue work; `deployments.tasks` runs it by calling them. Naming
the task instead of importing it keeps that one-way: `tasks` imports the modules it drives, never
the reverse. `DeploymentsConfig.ready` imports `tasks`, so the names are registered in every
process (in eager mode `apply_async` still runs the task inline).
"""
from __future__ import annotations

from typing import Any

from celery import current_app

from .models import DeploymentStatus

SUBMIT_TASK = "deployments.tasks.deployment_submit_task"
CONFIRM_TASK = "deployments.tasks.deployment_confirm_task"


def task_name_for_status(status: str | None) -> str:
    """`submit` until the transaction is broadcast, `confirm` after (both run the same steps)."""
    return SUBMIT_TASK if status in (DeploymentStatus.QUEUED, DeploymentStatus.SUBMITTED) else CONFIRM_TASK


def deployment_enqueue(deployment_id: Any, *, status: str | None, countdown: float | None = None) -> None:
    """Queue the task that advances a deployment in `status`."""
    current_app.tasks[task_name_for_status(status)].apply_async(args=[str(deployment_id)], countdown=countdown)
