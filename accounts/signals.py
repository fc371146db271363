"""Receivers of model signals in accounts: a saved or deleted user drops its auth-state cache entry."""
from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from .auth_state import auth_state_forget
from .models import User


def _forget(sender: Any, instance: User, **kwargs: Any) -> None:
    auth_state_forget(instance.pk)


def connect() -> None:
    post_save.connect(_forget, sender=User, dispatch_uid="accounts.auth_state.save")
    post_delete.connect(_forget, sender=User, dispatch_uid="accounts.auth_state.delete")
