"""Background work of the accounts app."""
from __future__ import annotations

from celery import shared_task

from tokens.networks import EVM, all_networks

from .models import User
from .signing import evm_account_ensure


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=5)
def derive_evm_accounts(user_id: str) -> None:
    """Derive (once) the user's EVM accounts for every EVM network of the registry, configured here or
    not: the profile lists each address (a pure function of the key and the chain id). Idempotent."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.arc76_secret_id is None:
        return
    for network in (n for n in all_networks() if n.family == EVM):
        evm_account_ensure(user=user, chain_id=int(network.chain_id or 0))
