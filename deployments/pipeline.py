"""The worker side of a deployment: from `queued` to `completed`, exactly once on chain.

`deployment_advance` does whatever the deployment's current state needs, as far as it can without
waiting, and returns how long to wait before the next call (or None when there is nothing left).
It is safe to run twice, concurrently, or after a crash at any line:
- one worker at a time per deployment (PostgreSQL advisory lock);
- signed bytes are committed before they are broadcast, and a retry re-broadcasts those bytes;
- a transaction is replaced only once the chain proves it can never land, and the reason is kept.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.signing import ChainKey, chain_key
from biatec.core.errors import (
    ApplicationError,
    ChainUnavailable,
    FeeBelowBaseFee,
    InsufficientFunds,
    TransactionExpired,
    TransactionFailed,
    TransactionVanished,
)
from biatec.core.faults import fault_point
from tokens.networks import Network, get_network

from .adapters import ChainAdapter, ChainJob, ClaimedIds, SignedTx, StoredTx, TxState, adapter_for_family
from .models import ACTIVE_STATUSES, Deployment, DeploymentStatus, DeploymentTransaction, TransactionStatus
from .queueing import deployment_enqueue
from .services import SYSTEM_ACTOR, deployment_retry, deployment_transition

logger = logging.getLogger(__name__)
S = DeploymentStatus
ACTIVE = ACTIVE_STATUSES


@contextmanager
def deployment_lock(deployment_id: Any) -> Iterator[bool]:
    """Session-level advisory lock so one worker at a time advances a deployment (PostgreSQL);
    yields False when another worker holds it. SQLite (embedded default, inline tasks): no-op."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = zlib.crc32(str(deployment_id).encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [7301, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [7301, key])


def _error(exc: ApplicationError) -> dict[str, Any]:
    retryable = getattr(exc, "retryable", False)
    return {"code": exc.code, "message": exc.message, "retryable": bool(retryable), "details": exc.details}


@dataclass
class _Run:
    """One pass over a deployment: its network resolved once, the family's adapter, the creator's key.
    The adapter sees only `job` and `StoredTx` snapshots (plain data); the rows stay here."""

    deployment: Deployment
    network: Network
    adapter: ChainAdapter
    key: ChainKey

    @classmethod
    def of(cls, deployment: Deployment) -> _Run:
        network = get_network(deployment.network)
        return cls(deployment=deployment, network=network, adapter=adapter_for_family(network.family),
                   key=chain_key(user=deployment.creator, network=network))

    @property
    def job(self) -> ChainJob:
        d = self.deployment
        return ChainJob(id=str(d.pk), standard=d.standard, network=self.network, sender=self.key.address,
                        signer=self.key.open, request=d.request, results=d.results or {})


def _stored(tx: DeploymentTransaction) -> StoredTx:
    return StoredTx(step=tx.step, tx_id=tx.tx_id, sender=tx.sender, signed_bytes=bytes(tx.signed_bytes),
                    nonce=tx.nonce, last_valid=tx.last_valid, details=tx.details or {}, created_at=tx.created_at)


def _claimed_ids(deployment: Deployment) -> ClaimedIds:
    """Asset and app ids that other deployments on the same network recorded as theirs."""
    others = Deployment.objects.exclude(pk=deployment.pk).filter(network=deployment.network)
    return ClaimedIds(
        asset_ids=frozenset(others.filter(results__asset_id__isnull=False).values_list("results__asset_id", flat=True)),
        app_ids=frozenset(others.filter(results__app_id__isnull=False).values_list("results__app_id", flat=True)),
    )


def _tx_state(run: _Run, tx: DeploymentTransaction) -> TxState:
    """Where the transaction is. An expired one is dead unless the chain shows it created its asset or
    app anyway (a real algod forgets pending info of old transactions)."""
    state = run.adapter.check(run.job, _stored(tx))
    if state.state == "expired":
        found = run.adapter.created_anyway(run.job, _stored(tx), claimed=_claimed_ids(run.deployment))
        state = TxState("confirmed", confirmed_in=None, info=found) if found else replace(state, state="dead")
    return state


def transaction_state(*, deployment: Deployment, tx: DeploymentTransaction) -> TxState:
    """`_tx_state` for one stored transaction of `deployment` (support tools and tests)."""
    return _tx_state(_Run.of(deployment), tx)


def _prepare(run: _Run, step: str) -> list[SignedTx]:
    """Fund and sign a step while holding the sender's lock (PostgreSQL advisory, until the caller's
    transaction commits the stored bytes): two jobs of one account on one network never spend the
    same margin, and the funding check counts what the sender's other unconfirmed transactions
    will still spend."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"{run.network.slug}:{run.key.address}".encode()) - 2**31
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7304, key])
    in_flight = tuple(
        DeploymentTransaction.objects.filter(
            network=run.network.slug, sender=run.key.address,
            status__in=[TransactionStatus.SIGNED, TransactionStatus.BROADCAST],
        ).exclude(deployment_id=run.deployment.pk).values_list("deployment__standard", "step")
    )
    return run.adapter.prepare(replace(run.job, in_flight=in_flight), step)


def _store(run: _Run, signed: list[SignedTx]) -> list[DeploymentTransaction]:
    rows = []
    for tx in signed:
        rows.append(DeploymentTransaction.objects.create(
            deployment=run.deployment, step=tx.step, family=run.network.family, network=run.network.slug,
            tx_id=tx.tx_id, group_tx_ids=tx.group_tx_ids, sender=tx.sender, nonce=tx.nonce,
            first_valid=tx.first_valid, last_valid=tx.last_valid, signed_bytes=tx.signed_bytes, details=tx.details,
        ))
    return rows


def _live_txs(deployment: Deployment, step: str) -> list[DeploymentTransaction]:
    return list(deployment.transactions.filter(step=step).exclude(
        status__in=[TransactionStatus.SUPERSEDED, TransactionStatus.FAILED]).order_by("created_at"))


def _tx_ids(deployment: Deployment) -> list[str]:
    return list(deployment.transactions.exclude(status=TransactionStatus.SUPERSEDED)
                .order_by("created_at").values_list("tx_id", flat=True))


def _mark(tx: DeploymentTransaction, status: str, **fields: Any) -> None:
    tx.status = status
    for name, value in fields.items():
        setattr(tx, name, value)
    tx.save(update_fields=["status", "updated_at", *fields])


def _broadcast(run: _Run, tx: DeploymentTransaction) -> bool:
    """Send the stored bytes (again). False when the node refuses them as under the current base fee:
    the transaction is stuck, and `_replace_if_stuck` replaces it."""
    tx.broadcast_attempts += 1
    tx.last_broadcast_at = timezone.now()
    tx.save(update_fields=["broadcast_attempts", "last_broadcast_at", "updated_at"])
    try:
        run.adapter.broadcast(run.job, _stored(tx))
    except FeeBelowBaseFee as exc:
        tx.last_error = exc.message[:2000]
        tx.save(update_fields=["last_error", "updated_at"])
        return False
    if tx.status == TransactionStatus.SIGNED:
        _mark(tx, TransactionStatus.BROADCAST)
    return True


def _fail(deployment: Deployment, exc: ApplicationError, reason: str) -> None:
    error = _error(exc)
    if deployment.transactions.filter(status=TransactionStatus.CONFIRMED).exists():
        # Something is already on chain: a retry (which signs anew from `queued`) could deploy twice.
        error["retryable"] = False
        error["details"] = {**(error["details"] or {}), "on_chain": True}
    deployment_transition(deployment_id=deployment.pk, to=S.FAILED, reason=reason, actor=SYSTEM_ACTOR, error=error)


def deployment_advance(*, deployment_id: Any) -> float | None:
    """Advance as far as possible now; return seconds until the next attempt, or None when done."""
    with deployment_lock(deployment_id) as acquired:
        if not acquired:
            return None  # another worker is on it; the sweep comes back if it dies
        deployment = Deployment.objects.get(pk=deployment_id)
        if deployment.status not in ACTIVE:
            return None
        try:
            delay = _advance_locked(deployment)
        except ChainUnavailable as exc:
            delay = _on_chain_unavailable(deployment, exc)
        except TransactionExpired as exc:
            delay = _on_expired(deployment, exc)
        except ApplicationError as exc:  # chain rejections, validation, IPFS: a person has to act
            deployment.refresh_from_db()
            if deployment.status in ACTIVE:
                _fail(deployment, exc, reason=exc.message)
            return None
        _schedule(deployment_id, delay)
        return delay


def _schedule(deployment_id: Any, delay: float | None) -> None:
    """Push the deadline past the next poll; the sweep re-queues the deployment if nobody comes."""
    if delay is None:
        return  # transitions set (or clear) the deadline themselves
    now = timezone.now()
    # One UPDATE, no history row (a queryset update); a deployment no longer active keeps its own.
    Deployment.objects.filter(pk=deployment_id, status__in=ACTIVE).update(
        next_action_at=now + timedelta(seconds=delay + settings.DEPLOYMENT_SWEEP_GRACE_SECONDS), updated_at=now)


def _on_chain_unavailable(deployment: Deployment, exc: ChainUnavailable) -> float | None:
    """Before anything is broadcast, retry a few times then fail (retryable). Once broadcast, the
    transaction may land any time: never fail, keep polling until the node answers again."""
    deployment.refresh_from_db()
    deployment.attempts += 1
    deployment.save_without_history(["attempts"])
    backoff = min(settings.DEPLOYMENT_POLL_MAX_SECONDS, 2 ** min(deployment.attempts, 6))
    logger.warning("chain unavailable", extra={"deployment_id": str(deployment.pk), "status": deployment.status,
                                               "attempts": deployment.attempts})
    if deployment.status == S.QUEUED and deployment.attempts >= settings.DEPLOYMENT_MAX_CHAIN_ATTEMPTS:
        _fail(deployment, exc, reason="chain unavailable; giving up for now")
        return None
    return float(backoff)


def _on_expired(deployment: Deployment, exc: TransactionExpired) -> float | None:
    """The chain proved the stored transaction can never land (validity window passed, nonce used):
    record why, fail (retryable) and re-queue once so a fresh transaction is signed."""
    deployment.refresh_from_db()
    created = deployment.transactions.filter(status=TransactionStatus.CONFIRMED).exists()
    if created or deployment.status not in (S.QUEUED, S.SUBMITTED, S.PENDING):
        # Once the first step landed the token exists: never rebuild the creation. Fail for a person.
        if deployment.status in ACTIVE:
            _fail(deployment, exc, reason=exc.message)
        return None
    for tx in deployment.transactions.filter(status__in=[TransactionStatus.SIGNED, TransactionStatus.BROADCAST]):
        _mark(tx, TransactionStatus.SUPERSEDED, last_error=exc.message[:2000])
    _fail(deployment, exc, reason=exc.message)
    deployment.refresh_from_db()
    rebuilt = deployment.events.filter(to_status=S.FAILED, facts__error_code=exc.code).count()
    if rebuilt <= settings.DEPLOYMENT_MAX_REBUILDS:
        deployment_retry(deployment=deployment, user=None, reason="transaction can no longer land; rebuilding")
        return 0.0
    return None


def _advance_locked(deployment: Deployment) -> float | None:
    run = _Run.of(deployment)
    steps = run.adapter.steps(run.job)
    while True:
        deployment.refresh_from_db()
        status = deployment.status
        if status == S.QUEUED and _live_txs(deployment, steps[0]):
            # A retry while stored transactions may still land (FEE_CAP_EXCEEDED: still in the pool):
            # resume them; signing anew would take a second nonce and could deploy twice.
            deployment_transition(deployment_id=deployment.pk, to=S.SUBMITTED, reason="resuming stored transactions",
                                  actor=SYSTEM_ACTOR)
        elif status == S.QUEUED:
            # Signing (nonce reservation included) and storing commit together: a failure leaves
            # no gap and no orphan signature.
            with transaction.atomic():
                signed = _prepare(run, steps[0])
                fault_point("after_sign")
                _store(run, signed)
                deployment_transition(deployment_id=deployment.pk, to=S.SUBMITTED, reason="signed and stored",
                                      actor=SYSTEM_ACTOR, results={"tx_ids": _tx_ids(deployment)},
                                      tx_ids=[t.tx_id for t in signed])
            fault_point("after_store_signed")
        elif status == S.SUBMITTED:
            _broadcast_step(run, _live_txs(deployment, steps[0]))
            fault_point("after_broadcast")
            deployment_transition(deployment_id=deployment.pk, to=S.PENDING, reason="broadcast accepted",
                                  actor=SYSTEM_ACTOR)
        elif status == S.PENDING:
            # `confirmed` means every step is: the later steps (ARC-200/ARC-1400 bootstrap) run while
            # the deployment is still `pending`, each its own transaction row in the history.
            delay = _run_steps(run, steps)
            if delay is not None:
                return delay
            create = _confirmed_tx(deployment, steps[0])
            deployment_transition(deployment_id=deployment.pk, to=S.CONFIRMED,
                                  reason="all steps confirmed" if len(steps) > 1 else f"{steps[0]} confirmed",
                                  actor=SYSTEM_ACTOR, results={"tx_ids": _tx_ids(deployment)},
                                  confirmed_in=create.confirmed_in if create else None,
                                  steps={step: tx.tx_id for step in steps if (tx := _confirmed_tx(deployment, step))})
        elif status == S.CONFIRMED:
            delay = _run_steps(run, steps)  # deployments confirmed before all steps were (older releases)
            if delay is not None:
                return delay
            create_tx = _live_txs(deployment, steps[0])[-1]
            try:
                final = run.adapter.is_final(run.job, _stored(create_tx))
            except TransactionVanished as exc:
                # Reorged out or the chain was reset: never success from a receipt that is gone.
                # The stored bytes go out again; `_run_steps` waits for them as for any broadcast.
                _mark(create_tx, TransactionStatus.BROADCAST, last_error=exc.message[:2000])
                _broadcast(run, create_tx)
                return float(settings.DEPLOYMENT_POLL_SECONDS)
            if not final:
                return float(settings.DEPLOYMENT_POLL_SECONDS)
            results = run.adapter.read_back(run.job)
            deployment_transition(deployment_id=deployment.pk, to=S.INDEXED, reason="read back from chain",
                                  actor=SYSTEM_ACTOR, results={**results, "tx_ids": _tx_ids(deployment)})
        elif status == S.INDEXED:
            deployment_transition(deployment_id=deployment.pk, to=S.COMPLETED, reason="all steps done",
                                  actor=SYSTEM_ACTOR)
            return None
        else:
            return None


def _wait_step(run: _Run, step: str, *, first_step: bool) -> float | None:
    """Poll the step's transaction; returns a delay while it is not confirmed, None once it is."""
    deployment = run.deployment
    txs = _live_txs(deployment, step)
    if not txs:
        raise ApplicationError(f"No transaction stored for step '{step}'.")
    tx, state = _step_state(run, txs)
    if state.state == "confirmed":
        fault_point("after_receipt")
        results = run.adapter.step_results(run.job, _stored(tx), state)
        with transaction.atomic():
            _mark(tx, TransactionStatus.CONFIRMED, confirmed_in=state.confirmed_in)
            for other in txs:  # replacements of the same nonce: this one landed, they never can
                if other.pk != tx.pk:
                    _mark(other, TransactionStatus.SUPERSEDED, last_error=f"{tx.tx_id} landed with the same nonce")
            deployment.results = {**deployment.results, **results}
            deployment.save_without_history(["results"])
        return None
    if state.state == "failed":
        _mark(tx, TransactionStatus.FAILED, last_error=state.message[:2000])
        raise TransactionFailed(state.message or "The transaction failed on chain.", details=state.info)
    if state.state == "dead":
        _mark(tx, TransactionStatus.SUPERSEDED, last_error=state.message[:2000])
        if first_step:
            raise TransactionExpired(state.message or "The transaction can no longer land.", details=state.info)
        return 0.0  # a later step: _run_later_step signs a replacement
    if state.state == "unknown" and not _broadcast(run, tx):  # the node lost it: same bytes again
        _replace_if_stuck(run, tx, underpriced=True)  # ... which it refuses now: under the base fee
    if state.state == "pending":
        _replace_if_stuck(run, tx)
    return float(settings.DEPLOYMENT_POLL_SECONDS)


def _is_replacement(tx: DeploymentTransaction) -> bool:
    return bool((tx.details or {}).get("replaces"))


def _broadcast_step(run: _Run, txs: list[DeploymentTransaction]) -> None:
    """(Re-)broadcast a step's stored transactions. Once a stuck one was replaced only the newest is
    sent (the node refuses the cheaper one); if its nonce is already used, the transaction it replaced
    may be the one that landed: the pending check finds out, never a rebuild from here."""
    if not txs or not _is_replacement(txs[-1]):
        for tx in txs:
            _broadcast(run, tx)
        return
    try:
        _broadcast(run, txs[-1])
    except TransactionExpired:
        logger.info("replacement's nonce already used; checking which transaction landed",
                    extra={"tx_id": txs[-1].tx_id})


def _step_state(run: _Run, txs: list[DeploymentTransaction]) -> tuple[DeploymentTransaction, TxState]:
    """The step's newest transaction and its state, unless an older one it replaced (same nonce) landed."""
    latest = txs[-1]
    state = _tx_state(run, latest)
    if state.state in ("confirmed", "failed") or len(txs) == 1:
        return latest, state
    for older in reversed(txs[:-1]):
        older_state = _tx_state(run, older)
        if older_state.state in ("confirmed", "failed"):
            return older, older_state
    return latest, state


def _replace_if_stuck(run: _Run, tx: DeploymentTransaction, *, underpriced: bool = False) -> None:
    """A transaction in the pool for too long (or refused as under the base fee) is replaced (same
    nonce, higher fees) by adapters that can (`replacement`); its bytes are stored before they are
    broadcast, like any send. Raises FEE_CAP_EXCEEDED (retryable) when the replacement would cost
    more than the cap."""
    replacement = getattr(run.adapter, "replacement", None)
    if replacement is None:
        return
    with transaction.atomic():
        signed = replacement(run.job, _stored(tx), stuck=underpriced)
        if signed is None:
            return
        fault_point("after_sign")
        row = _store(run, [signed])[0]
    fault_point("after_store_signed")
    logger.info("stuck transaction replaced", extra={"deployment_id": str(run.deployment.pk), "replaced": tx.tx_id,
                                                     "replacement": row.tx_id})
    try:
        sent = _broadcast(run, row)
    except (TransactionExpired, TransactionFailed, InsufficientFunds) as exc:
        # The original was mined meanwhile (nonce used) or the node wants a bigger bump: this one
        # can never land; the original still can. Keep it as history.
        _mark(row, TransactionStatus.SUPERSEDED, last_error=exc.message[:2000])
        return
    if not sent:  # the base fee rose past this one too: the next pass replaces again, up to the cap
        _mark(row, TransactionStatus.SUPERSEDED)
        return
    fault_point("after_broadcast")


def _confirmed_tx(deployment: Deployment, step: str) -> DeploymentTransaction | None:
    return deployment.transactions.filter(step=step, status=TransactionStatus.CONFIRMED).order_by("created_at").last()


def _run_steps(run: _Run, steps: list[str]) -> float | None:
    """Wait for the first step, then sign, send and wait for each later one in order; a delay while
    one is not confirmed yet, None once all are."""
    if _confirmed_tx(run.deployment, steps[0]) is None:
        delay = _wait_step(run, steps[0], first_step=True)
        if delay is not None:
            return delay
    for step in steps[1:]:
        delay = _run_later_step(run, step)
        if delay is not None:
            return delay
    return None


def _run_later_step(run: _Run, step: str) -> float | None:
    deployment = run.deployment
    txs = _live_txs(deployment, step)
    if txs and txs[-1].status == TransactionStatus.CONFIRMED:
        return None
    if not txs:
        with transaction.atomic():
            signed = _prepare(run, step)
            fault_point("after_sign")
            _store(run, signed)
            deployment.results = {**deployment.results, "tx_ids": _tx_ids(deployment)}
            deployment.save_without_history(["results"])
        fault_point("after_store_signed")
        txs = _live_txs(deployment, step)
    tx = txs[-1]
    if tx.status == TransactionStatus.SIGNED:
        try:
            _broadcast(run, tx)
            fault_point("after_broadcast")
        except TransactionExpired as exc:
            # Only this step's transaction is dead; the token exists. Sign a replacement next pass.
            _mark(tx, TransactionStatus.SUPERSEDED, last_error=exc.message[:2000])
            return 0.0
    return _wait_step(run, step, first_step=False)


def deployments_sweep() -> list[str]:
    """Re-queue deployments in a non-terminal state whose next action is overdue (a worker died,
    the broker lost a message). Returns their ids."""
    overdue = Deployment.objects.filter(status__in=ACTIVE, next_action_at__lt=timezone.now())
    ids = []
    for deployment_id, status in overdue.values_list("pk", "status"):
        deployment_enqueue(deployment_id, status=status)
        ids.append(str(deployment_id))
    if ids:
        logger.info("sweep re-queued deployments", extra={"count": len(ids)})
    return ids
