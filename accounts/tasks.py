"""Background work of the accounts app.

A sign-up queues `derive_evm_accounts` once it commits. The queueing never fails the sign-up: with
the broker down the user already exists (201), the failure is logged (the error's type, never the
broker URL, which may hold a password), and `evm_accounts_sweep_task` (on the beat schedule,
biatec/celery.py) derives the accounts of every user still missing some. Signing derives a missing
account on first use anyway (`evm_account_ensure`); the sweep is what makes the profile list them."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db.models import Count, Q

from tokens.networks import EVM, all_networks

from .models import User
from .notifications_services import email_notification_send, email_notifications_sweep
from .signing import evm_account_ensure

logger = logging.getLogger(__name__)

SWEEP_BATCH = 50  # users per sweep run: ~1 s of derivation per missing account


def _evm_chain_ids() -> list[int]:
    return sorted({int(n.chain_id or 0) for n in all_networks() if n.family == EVM})


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=5)
def derive_evm_accounts(user_id: str) -> None:
    """Derive (once) the user's EVM accounts for every EVM network of the registry, configured here or
    not: the profile lists each address (a pure function of the key and the chain id). Idempotent."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.arc76_secret_id is None:
        return
    for chain_id in _evm_chain_ids():
        evm_account_ensure(user=user, chain_id=chain_id)


def evm_accounts_derive_later(user_id: str) -> None:
    """Queue `derive_evm_accounts`. Never raises (an on-commit callback of the sign-up: raising here
    would answer 500 for a user who exists): a failure is left to `evm_accounts_sweep_task`."""
    try:
        derive_evm_accounts.delay(user_id)
    except Exception as exc:  # broker unreachable (kombu OperationalError...), or an eager run failing
        logger.warning("EVM account derivation not queued; the sweep will derive them",
                       extra={"user_id": user_id, "error": type(exc).__name__})


def users_missing_evm_accounts(limit: int = SWEEP_BATCH) -> list[str]:
    """Ids of users with a chain account but fewer EVM accounts than the registry's EVM chains."""
    chain_ids = _evm_chain_ids()
    if not chain_ids:
        return []
    users = (User.objects.filter(arc76_secret__isnull=False)
             .annotate(evm=Count("evm_accounts", filter=Q(evm_accounts__chain_id__in=chain_ids)))
             .filter(evm__lt=len(chain_ids)).order_by("date_joined", "pk"))
    return [str(pk) for pk in users.values_list("pk", flat=True)[:limit]]


@shared_task(acks_late=True, ignore_result=True)
def evm_accounts_sweep_task() -> int:
    """Derive the missing EVM accounts of up to SWEEP_BATCH users (one failing user does not stop the
    others; the next run tries again). Returns how many users were completed."""
    done = 0
    for user_id in users_missing_evm_accounts():
        try:
            derive_evm_accounts.run(user_id)
        except Exception as exc:
            logger.warning("EVM account derivation failed in the sweep",
                           extra={"user_id": user_id, "error": type(exc).__name__})
            continue
        done += 1
    return done


@shared_task(acks_late=True, ignore_result=True)
def email_notification_send_task(notification_id: str) -> str | None:
    """One attempt of one outbox e-mail (accounts/notifications_services.py). Idempotent: a sent
    e-mail is never sent again and the claim keeps two workers apart, so late acks are safe."""
    notification = email_notification_send(notification_id=notification_id)
    return notification.status if notification is not None else None


@shared_task(acks_late=True, ignore_result=True)
def email_notifications_sweep_task() -> int:
    """The beat's sweep of due e-mails whose dispatch was lost (biatec/celery.py)."""
    return len(email_notifications_sweep())


@shared_task(acks_late=True)
def account_export_build(export_id: str) -> None:
    """Build a GDPR export (accounts.gdpr_export.export_build); idempotent by the export's status."""
    from .gdpr_export import export_build

    export_build(export_id)


@shared_task
def account_exports_purge_task() -> int:
    """Delete the ZIPs of GDPR exports past their expiry (on the beat schedule, biatec/celery.py)."""
    from .gdpr_export import exports_expired_purge

    return exports_expired_purge()
