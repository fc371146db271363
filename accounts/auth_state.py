"""What authenticating a JWT needs to know about its user (the token version and the active flag),
cached in Redis so that a request with a valid token costs no user SELECT.

The entry is dropped whenever the user row is saved or deleted: at once, and again when the
transaction commits (a request in between may have re-read the old row). Revocation (a token-version
bump, a deactivation) is therefore honoured by the next request, on every process. When Redis cannot
be reached the state is read from the database, as before the cache existed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, transaction
from redis.exceptions import RedisError

from .models import User

logger = logging.getLogger(__name__)
_FIELDS = ("id", "token_version", "is_active")


@dataclass(frozen=True)
class AuthState:
    token_version: int
    is_active: bool


def _key(user_id: Any) -> str:
    return f"user:{user_id}"


def _cache() -> Any:
    return caches[settings.AUTH_STATE_CACHE_ALIAS]


def auth_state(user_id: Any) -> AuthState | None:
    """The user's token version and active flag, or None for no such user."""
    try:
        cached = _cache().get(_key(user_id))
    except RedisError:
        logger.warning("auth-state cache unavailable; reading the user row")
        cached = None
    if cached is not None:
        return AuthState(token_version=int(cached[0]), is_active=bool(cached[1]))
    row = User.objects.filter(pk=user_id).values_list("token_version", "is_active").first()
    if row is None:
        return None
    try:
        _cache().set(_key(user_id), [row[0], row[1]], timeout=settings.AUTH_STATE_CACHE_SECONDS)
    except RedisError:
        pass
    return AuthState(token_version=row[0], is_active=row[1])


def auth_state_forget(user_id: Any) -> None:
    def drop() -> None:
        try:
            _cache().delete(_key(user_id))
        except RedisError:
            logger.warning("auth-state cache unavailable; entry not dropped", extra={"user_id": str(user_id)})

    drop()
    transaction.on_commit(drop)


def claims_user(user_id: Any, state: AuthState) -> User:
    """A User holding only what the token and the cache told (id, token version, active flag); any
    other field loads the whole row on first use (`User.refresh_from_db`), one query."""
    field = User._meta.pk
    assert field is not None
    user: User = User.from_db(DEFAULT_DB_ALIAS, list(_FIELDS),
                              [field.to_python(user_id), state.token_version, state.is_active])
    return user
