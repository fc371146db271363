"""`Idempotency-Key` handling, stored in PostgreSQL per user and endpoint
(docs/architecture.md, "Errors and API conventions").

The record is inserted in the same transaction as the work it guards. A concurrent request with
the same key blocks on the unique index until the first commits, then replays its answer; if the
first failed (rolled back), the second simply runs.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User

from .errors import IdempotencyKeyInProgress, IdempotencyKeyMismatch
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    headers: dict[str, str]
    replayed: bool = False


def request_fingerprint(endpoint: str, body: Any) -> str:
    canonical = json.dumps({"endpoint": endpoint, "body": body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> StoredResponse:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyMismatch()
    if record.state != IdempotencyRecord.State.COMPLETED:
        raise IdempotencyKeyInProgress()
    return StoredResponse(record.response_status or 200, record.response_body, record.response_headers, True)


def idempotent_call(
    *, user: User, endpoint: str, key: str, body: Any, handler: Callable[[], StoredResponse]
) -> StoredResponse:
    """Run `handler` once per (user, endpoint, key); later calls with the same body replay its answer."""
    from biatec.core.errors import ValidationFailed

    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters.",
                               details={"fields": {"Idempotency-Key": ["1 to 255 characters."]}})
    fingerprint = request_fingerprint(endpoint, body)
    now = timezone.now()
    existing = IdempotencyRecord.objects.filter(user=user, endpoint=endpoint, key=key).first()
    if existing is not None:
        if existing.expires_at > now:
            return _replay(existing, fingerprint)
        existing.delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, endpoint=endpoint, key=key, request_hash=fingerprint,
                expires_at=now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
            )
            response = handler()
            record.state = IdempotencyRecord.State.COMPLETED
            record.response_status = response.status
            record.response_body = response.body
            record.response_headers = response.headers
            record.save(update_fields=["state", "response_status", "response_body", "response_headers"])
            return response
    except IntegrityError:
        # Another request with this key committed first while we waited on the unique index.
        winner = IdempotencyRecord.objects.filter(user=user, endpoint=endpoint, key=key).first()
        if winner is None:
            raise IdempotencyKeyInProgress() from None
        return _replay(winner, fingerprint)


def idempotency_records_purge() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
