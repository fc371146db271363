"""Receivers of model signals in accounts: a saved or deleted user drops its auth-state cache entry;
a history row written by a request made with an API key names the key (`history_change_reason`
`api_key:<id>`; `history_user` is the key's creator, the user the request acts as)."""
from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from biatec.core.actors import api_key_actor

from .auth_state import auth_state_forget
from .models import User
from .principals import key_grant_of


def _forget(sender: Any, instance: User, **kwargs: Any) -> None:
    auth_state_forget(instance.pk)


def _history_names_key(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    request = getattr(HistoricalRecords.context, "request", None)
    grant = key_grant_of(getattr(request, "user", None)) if request is not None else None
    if grant is not None and not getattr(history_instance, "history_change_reason", None):
        history_instance.history_change_reason = api_key_actor(grant.key_id)


def connect() -> None:
    from . import plan_rate

    plan_rate.connect()  # the plan rate's cached entries (accounts/plan_rate.py)
    post_save.connect(_forget, sender=User, dispatch_uid="accounts.auth_state.save")
    post_delete.connect(_forget, sender=User, dispatch_uid="accounts.auth_state.delete")
    pre_create_historical_record.connect(_history_names_key, dispatch_uid="accounts.history.api_key")
