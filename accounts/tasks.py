"""Background work of the accounts app."""
from __future__ import annotations

from celery import shared_task

from tokens.networks import available_evm_networks

from .models import User
from .signing import evm_account_ensure


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=5)
def derive_evm_accounts(user_id: str) -> None:
    """Derive (once) the user's EVM accounts for every configured EVM network. Idempotent."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.arc76_secret_id is None:
        return
    for network in available_evm_networks():
        evm_account_ensure(user=user, chain_id=int(network.chain_id or 0))
