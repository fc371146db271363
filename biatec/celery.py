"""Celery app: JSON only, time limits, late acks, correlation IDs carried as message headers."""
from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biatec.settings.local")

app = Celery("biatec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # tasks are idempotent; a worker death re-delivers rather than loses
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,  # keep Django's LOGGING: JSON lines with correlation IDs
    # An unacknowledged message (its worker died) is redelivered after this many seconds.
    # Redis checks for such messages every interval x throttle seconds (kombu's defaults: 10 x 10).
    broker_transport_options={
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
        "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
        "unacked_restore_throttle": int(os.environ.get("CELERY_UNACKED_RESTORE_THROTTLE", "10")),
    },
    beat_schedule={
        "deployments-sweep": {
            "task": "deployments.tasks.deployments_sweep_task",
            "schedule": float(os.environ.get("DEPLOYMENT_SWEEP_INTERVAL_SECONDS", "5")),
        },
        "deployments-poll-pending": {
            "task": "deployments.tasks.deployments_poll_pending_task",
            "schedule": float(os.environ.get("DEPLOYMENT_POLL_SECONDS", "1")),
        },
        "key-rotations-sweep": {  # password changes whose moves lost a message (deployments/key_rotation.py)
            "task": "deployments.tasks.key_rotations_sweep_task",
            "schedule": float(os.environ.get("KEY_ROTATION_SWEEP_INTERVAL_SECONDS", "60")),
        },
        "idempotency-purge": {"task": "deployments.tasks.idempotency_purge_task", "schedule": 3600.0},
        "approvals-expire": {  # four-eyes approval requests past their expiry (deployments/approval_decisions.py)
            "task": "deployments.tasks.approvals_expire_task",
            "schedule": float(os.environ.get("APPROVALS_EXPIRE_INTERVAL_SECONDS", "60")),
        },
        "gdpr-exports-purge": {"task": "accounts.tasks.account_exports_purge_task", "schedule": 3600.0},
        "evm-accounts-sweep": {  # sign-ups whose derivation could not be queued (accounts/tasks.py)
            "task": "accounts.tasks.evm_accounts_sweep_task",
            "schedule": float(os.environ.get("EVM_ACCOUNTS_SWEEP_INTERVAL_SECONDS", "300")),
        },
        "allowlist-drift": {  # the holder registry against the chain, one report per token (compliance)
            "task": "compliance.tasks.allowlist_drift_sweep_task",
            "schedule": float(os.environ.get("ALLOWLIST_DRIFT_INTERVAL_SECONDS", "3600")),
        },
        "webhooks-sweep": {
            "task": "webhooks.tasks.webhooks_sweep_task",
            "schedule": float(os.environ.get("WEBHOOKS_SWEEP_INTERVAL_SECONDS", "30")),
        },
        "dashboard-refresh": {  # the staff dashboard of the admin index (backoffice/dashboard_cache.py)
            "task": "backoffice.tasks.dashboard_refresh_task",
            "schedule": float(os.environ.get("BACKOFFICE_DASHBOARD_REFRESH_SECONDS", "60")),
        },
        "email-notifications-sweep": {  # e-mails whose dispatch was lost, retries due (accounts/tasks.py)
            "task": "accounts.tasks.email_notifications_sweep_task",
            "schedule": float(os.environ.get("EMAIL_NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", "30")),
        },
    },
)
app.autodiscover_tasks()
app.autodiscover_tasks(["backoffice"])  # installed as the admin's app config, not by its own name

# Not "correlation_id": Celery already uses that message property for the task id.
CORRELATION_HEADER = "biatec_correlation_id"


@signals.before_task_publish.connect
def _attach_correlation_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    from biatec.core.correlation import get_correlation_id

    if headers is not None and not headers.get(CORRELATION_HEADER):
        headers[CORRELATION_HEADER] = get_correlation_id()


_TOKENS: dict[str, Any] = {}


@signals.task_prerun.connect
def _restore_correlation_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from biatec.core.correlation import get_correlation_id, set_correlation_id

    incoming = getattr(task.request, CORRELATION_HEADER, None) if task else None
    if incoming is None and task is not None:
        incoming = (task.request.headers or {}).get(CORRELATION_HEADER) if task.request.headers else None
    if task_id:
        _TOKENS[task_id] = set_correlation_id(incoming or get_correlation_id())


@signals.task_postrun.connect
def _clear_correlation_id(task_id: str | None = None, **_: Any) -> None:
    from biatec.core.correlation import reset_correlation_id

    token = _TOKENS.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            reset_correlation_id(token)
        except ValueError:  # token made in another context (eager tasks nest); nothing to undo
            pass
