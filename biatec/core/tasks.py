"""Diagnostic task: proves a worker is alive and that correlation IDs reach task log lines."""
import logging

from celery import shared_task

from .correlation import get_correlation_id

logger = logging.getLogger("biatec.tasks")


@shared_task(acks_late=True)
def ping(message: str = "ping") -> str | None:
    logger.info("ping task ran", extra={"task_message": message})
    return get_correlation_id()
