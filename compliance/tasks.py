"""Beat: the holder registry's drift against the chain, recorded per token (compliance/holder_sync.py)."""
from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from biatec.core.errors import ApplicationError

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def allowlist_drift_sweep_task() -> int:
    """Queue one drift check per token that enforces its allow list on chain and has entries."""
    from .holder_sync import tokens_to_check

    ids = tokens_to_check()
    for token_id in ids:
        allowlist_drift_check_task.delay(str(token_id))
    return len(ids)


@shared_task(ignore_result=True)
def allowlist_drift_check_task(token_id: Any) -> None:
    from .holder_sync import allowlist_drift_check

    try:
        allowlist_drift_check(token_id=token_id)
    except ApplicationError as exc:  # recorded on the report; nothing to retry until the next sweep
        logger.warning("allow-list drift not checked", extra={"token_id": str(token_id), "code": exc.code})
