"""The product's Celery app with the run's Redis key prefix (kombu `global_keyprefix`), for the
benchmark's workers and beat (`celery -A bench.celery_app worker`) and its server (bench/wsgi.py).
Remote control is off: its pidbox fan-out would be the only traffic outside the prefix."""
from __future__ import annotations

import os

from biatec.celery import app


def apply_key_prefix() -> None:
    app.conf.broker_transport_options = {**app.conf.broker_transport_options,
                                         "global_keyprefix": os.environ["BENCH_REDIS_PREFIX"]}
    app.conf.worker_enable_remote_control = False
    app.conf.worker_send_task_events = False


apply_key_prefix()

__all__ = ["app"]
