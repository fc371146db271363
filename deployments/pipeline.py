"""The worker side of a chain job (a deployment or a token operation): from `queued` to `completed`,
exactly once on chain. One pipeline for both (`deployments.jobs`); only the adapter's steps differ.

`job_advance` (`deployment_advance`, `operation_advance`) does whatever the job's current state
needs, as far as it can without waiting, and returns how long to wait before the next call (or
None when there is nothing left). It is safe to run twice, concurrently, or after a crash at any line:
- one worker at a time per job (PostgreSQL advisory lock);
- signed bytes are committed before they are broadcast, and a retry re-broadcasts those bytes;
- a transaction is replaced only once the chain proves it can never land, and the reason is kept;
- a step may have several independent parts (a batch distribution's recipients or groups): each
  part is signed once, tracked on its own, and a retry signs only the parts that did not land.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.signing import ChainKey
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

from .adapters import ChainAdapter, ChainJob, ClaimedIds, SignedTx, StoredTx, TxState, adapter_for_job
from .job_keys import job_signing_key
from .jobs import DEPLOYMENT, JOB_TYPES, OPERATION, JobType, job_type_of
from .metering import tx_fee_metered
from .models import (
    ACTIVE_STATUSES,
    ChainJobRow,
    ChainTransactionRow,
    Deployment,
    DeploymentStatus,
    DeploymentTransaction,
    Operation,
    OperationTransaction,
    TransactionStatus,
)
from .operation_signers import operation_chain_context
from .queueing import job_enqueue
from .services import SYSTEM_ACTOR, job_retry, job_transition
from .token_registry import job_completed

logger = logging.getLogger(__name__)
S = DeploymentStatus
ACTIVE = ACTIVE_STATUSES


Tx = ChainTransactionRow


@contextmanager
def job_lock(job_type: JobType, job_id: Any) -> Iterator[bool]:
    """Session-level advisory lock so one worker at a time advances a job (PostgreSQL); yields False
    when another worker holds it. SQLite (embedded default, inline tasks): no-op."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = zlib.crc32(str(job_id).encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [job_type.lock_namespace, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [job_type.lock_namespace, key])


def deployment_lock(deployment_id: Any) -> Any:
    return job_lock(DEPLOYMENT, deployment_id)


def _error(exc: ApplicationError) -> dict[str, Any]:
    retryable = getattr(exc, "retryable", False)
    return {"code": exc.code, "message": exc.message, "retryable": bool(retryable), "details": exc.details}


@dataclass
class _Run:
    """One pass over a job: its network resolved once, the family's adapter, the signing key
    (`job_keys.job_signing_key`: the creator's or the organization treasury's for a deployment, the
    token controller's for an operation). The adapter sees only `job` and `StoredTx` snapshots
    (plain data); the rows stay here."""

    job_type: JobType
    row: ChainJobRow
    network: Network
    adapter: ChainAdapter
    key: ChainKey
    extra: dict[str, Any]
    states: dict[str, TxState] = field(default_factory=dict)
    """States fetched for many transactions at once (`_prefetch_states`), each used once."""

    @classmethod
    def of(cls, row: ChainJobRow) -> _Run:
        job_type = job_type_of(row)
        network = get_network(row.network)
        if isinstance(row, Operation):
            key, extra = operation_chain_context(operation=row, network=network)
        else:
            key, extra = job_signing_key(job=row, network=network), {}
        adapter = adapter_for_job(network.family, operation=job_type is OPERATION)
        return cls(job_type=job_type, row=row, network=network, adapter=adapter, key=key, extra=extra)

    @property
    def job(self) -> ChainJob:
        r = self.row
        return ChainJob(id=str(r.pk), standard=r.standard, network=self.network, sender=self.key.address,
                        signer=self.key.open, request=r.request, results=r.results or {}, **self.extra)

    @property
    def transactions(self) -> Any:
        return self.row.transactions  # type: ignore[attr-defined]


def _stored(tx: Tx) -> StoredTx:
    return StoredTx(step=tx.step, tx_id=tx.tx_id, sender=tx.sender, signed_bytes=bytes(tx.signed_bytes),
                    nonce=tx.nonce, last_valid=tx.last_valid, details=tx.details or {}, created_at=tx.created_at,
                    part=tx.part)


def _claimed_ids(row: ChainJobRow) -> ClaimedIds:
    """Asset and app ids that other deployments on the same network recorded as theirs."""
    others = Deployment.objects.exclude(pk=row.pk).filter(network=row.network)
    return ClaimedIds(
        asset_ids=frozenset(others.filter(results__asset_id__isnull=False).values_list("results__asset_id", flat=True)),
        app_ids=frozenset(others.filter(results__app_id__isnull=False).values_list("results__app_id", flat=True)),
    )


def _tx_state(run: _Run, tx: Tx) -> TxState:
    """Where the transaction is. An expired one is dead unless the chain shows it created its asset or
    app anyway (a real algod forgets pending info of old transactions)."""
    state = run.states.pop(tx.tx_id, None) or run.adapter.check(run.job, _stored(tx))
    if state.state == "expired":
        found = (run.adapter.created_anyway(run.job, _stored(tx), claimed=_claimed_ids(run.row))
                 if run.job_type is DEPLOYMENT else None)
        state = TxState("confirmed", confirmed_in=None, info=found) if found else replace(state, state="dead")
    return state


def transaction_state(*, deployment: ChainJobRow, tx: Tx) -> TxState:
    """`_tx_state` for one stored transaction of a job (support tools and tests)."""
    return _tx_state(_Run.of(deployment), tx)


def _prepare(run: _Run, step: str, skip_parts: frozenset[int] = frozenset()) -> list[SignedTx]:
    """Fund and sign a step (its parts not in `skip_parts`) while holding the sender's lock
    (PostgreSQL advisory, until the caller's transaction commits the stored bytes): two jobs of one
    account on one network never spend the same margin, and the funding check counts what the
    sender's other unconfirmed transactions, of deployments and operations, will still spend."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"{run.network.slug}:{run.key.address}".encode()) - 2**31
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7304, key])
    unconfirmed = {"network": run.network.slug, "sender": run.key.address,
                   "status__in": [TransactionStatus.SIGNED, TransactionStatus.BROADCAST]}
    in_flight: list[tuple[str, str, int | None]] = [
        (standard, step_name, None) for standard, step_name in DeploymentTransaction.objects.filter(**unconfirmed)
        .exclude(deployment_id=run.row.pk).values_list("deployment__standard", "step")]
    in_flight += [(standard, step_name, int(spends) if spends is not None else 0)
                  for standard, step_name, spends in OperationTransaction.objects.filter(**unconfirmed)
                  .values_list("operation__standard", "step", "details__spends")]  # this job's other parts too
    return run.adapter.prepare(replace(run.job, in_flight=tuple(in_flight)), step, skip_parts=skip_parts)


def _store(run: _Run, signed: list[SignedTx]) -> list[Tx]:
    """The signed bytes as transaction rows of the job, in one INSERT (a batch's parts)."""
    manager = run.transactions
    rows = [manager.model(
        **{manager.field.name: run.row}, step=tx.step, part=tx.part, family=run.network.family,
        network=run.network.slug, tx_id=tx.tx_id, group_tx_ids=tx.group_tx_ids, sender=tx.sender, nonce=tx.nonce,
        first_valid=tx.first_valid, last_valid=tx.last_valid, signed_bytes=tx.signed_bytes, details=tx.details,
    ) for tx in signed]
    return list(manager.model.objects.bulk_create(rows))


def _step_txs(row: ChainJobRow, step: str) -> list[Tx]:
    return list(row.transactions.filter(step=step).order_by("created_at"))  # type: ignore[attr-defined]


LIVE = (TransactionStatus.SIGNED, TransactionStatus.BROADCAST, TransactionStatus.CONFIRMED)


def _live_txs(row: ChainJobRow, step: str) -> list[Tx]:
    return [tx for tx in _step_txs(row, step) if tx.status in LIVE]


def _parts(txs: list[Tx]) -> dict[int, list[Tx]]:
    by_part: dict[int, list[Tx]] = {}
    for tx in txs:
        by_part.setdefault(tx.part, []).append(tx)
    return by_part


def _settled_parts(step_txs: list[Tx]) -> tuple[set[int], set[int], set[int]]:
    """(confirmed, failed, live-but-unconfirmed) parts of a step, from its rows (`_step_txs`)."""
    confirmed, failed, waiting = set(), set(), set()
    for part, txs in _parts(step_txs).items():
        statuses = {tx.status for tx in txs}
        if TransactionStatus.CONFIRMED in statuses:
            confirmed.add(part)
        elif statuses & {TransactionStatus.SIGNED, TransactionStatus.BROADCAST}:
            waiting.add(part)
        elif TransactionStatus.FAILED in statuses:
            failed.add(part)
    return confirmed, failed, waiting


def _tx_ids(row: ChainJobRow) -> list[str]:
    return list(row.transactions.exclude(status=TransactionStatus.SUPERSEDED)  # type: ignore[attr-defined]
                .order_by("created_at").values_list("tx_id", flat=True))


def _mark(tx: Tx, status: str, **fields: Any) -> None:
    tx.status = status
    for name, value in fields.items():
        setattr(tx, name, value)
    tx.save(update_fields=["status", "updated_at", *fields])


def _broadcast(run: _Run, tx: Tx) -> bool:
    """Send the stored bytes (again). False when the node refuses them as under the current base fee:
    the transaction is stuck, and `_replace_if_stuck` replaces it."""
    # One UPDATE per send, after it (a batch sends hundreds): a crash between the send and the save
    # leaves the row `signed`, and the next pass sends the same bytes again, which is harmless.
    tx.broadcast_attempts += 1
    tx.last_broadcast_at = timezone.now()
    fields = ["broadcast_attempts", "last_broadcast_at", "updated_at"]
    try:
        run.adapter.broadcast(run.job, _stored(tx))
    except FeeBelowBaseFee as exc:
        tx.last_error = exc.message[:2000]
        tx.save(update_fields=[*fields, "last_error"])
        return False
    except Exception:
        tx.save(update_fields=fields)  # the attempt is counted whatever the node answered
        raise
    if tx.status == TransactionStatus.SIGNED:
        tx.status = TransactionStatus.BROADCAST
        fields.append("status")
    tx.save(update_fields=fields)
    return True


def _fail(run_or_row: ChainJobRow, exc: ApplicationError, reason: str) -> None:
    job_type = job_type_of(run_or_row)
    error = _error(exc)
    landed = run_or_row.transactions.filter(status=TransactionStatus.CONFIRMED).exists()  # type: ignore[attr-defined]
    if landed and not job_type.retry_after_landed:
        # Something is already on chain: a retry (which signs anew from `queued`) could deploy twice.
        error["retryable"] = False
        error["details"] = {**(error["details"] or {}), "on_chain": True}
    job_transition(job_type=job_type, job_id=run_or_row.pk, to=S.FAILED, reason=reason, actor=SYSTEM_ACTOR,
                   error=error)


def job_advance(job_type: JobType, job_id: Any) -> float | None:
    """Advance as far as possible now; return seconds until the next attempt, or None when done."""
    with job_lock(job_type, job_id) as acquired:
        if not acquired:
            return None  # another worker is on it; the sweep comes back if it dies
        row = job_type.model.objects.get(pk=job_id)
        if row.status not in ACTIVE:
            return None
        try:
            delay = _advance_locked(row)
        except ChainUnavailable as exc:
            delay = _on_chain_unavailable(row, exc)
        except TransactionExpired as exc:
            delay = _on_expired(row, exc)
        except ApplicationError as exc:  # chain rejections, validation, IPFS: a person has to act
            row.refresh_from_db()
            if row.status in ACTIVE:
                _fail(row, exc, reason=exc.message)
            return None
        _schedule(job_type, job_id, delay)
        return delay


def deployment_advance(*, deployment_id: Any) -> float | None:
    return job_advance(DEPLOYMENT, deployment_id)


def operation_advance(*, operation_id: Any) -> float | None:
    return job_advance(OPERATION, operation_id)


def _schedule(job_type: JobType, job_id: Any, delay: float | None) -> None:
    """Push the deadline past the next poll; the sweep re-queues the job if nobody comes."""
    if delay is None:
        return  # transitions set (or clear) the deadline themselves
    now = timezone.now()
    # One UPDATE, no history row (a queryset update); a job no longer active keeps its own.
    job_type.model.objects.filter(pk=job_id, status__in=ACTIVE).update(
        next_action_at=now + timedelta(seconds=delay + settings.DEPLOYMENT_SWEEP_GRACE_SECONDS), updated_at=now)


def _on_chain_unavailable(row: ChainJobRow, exc: ChainUnavailable) -> float | None:
    """Before anything is broadcast, retry a few times then fail (retryable). Once broadcast, the
    transaction may land any time: never fail, keep polling until the node answers again."""
    row.refresh_from_db()
    row.attempts += 1
    row.save_without_history(["attempts"])
    backoff = min(settings.DEPLOYMENT_POLL_MAX_SECONDS, 2 ** min(row.attempts, 6))
    logger.warning("chain unavailable", extra={"job_id": str(row.pk), "status": row.status,
                                               "attempts": row.attempts})
    if row.status == S.QUEUED and row.attempts >= settings.DEPLOYMENT_MAX_CHAIN_ATTEMPTS:
        _fail(row, exc, reason="chain unavailable; giving up for now")
        return None
    return float(backoff)


def _on_expired(row: ChainJobRow, exc: TransactionExpired) -> float | None:
    """The chain proved the stored transaction can never land (validity window passed, nonce used):
    record why, fail (retryable) and re-queue once so a fresh transaction is signed."""
    row.refresh_from_db()
    txs = row.transactions  # type: ignore[attr-defined]
    created = txs.filter(status=TransactionStatus.CONFIRMED).exists()
    if created or row.status not in (S.QUEUED, S.SUBMITTED, S.PENDING):
        # Once the first step landed the token exists: never rebuild the creation. Fail for a person.
        if row.status in ACTIVE:
            _fail(row, exc, reason=exc.message)
        return None
    for tx in txs.filter(status__in=[TransactionStatus.SIGNED, TransactionStatus.BROADCAST]):
        _mark(tx, TransactionStatus.SUPERSEDED, last_error=exc.message[:2000])
    _fail(row, exc, reason=exc.message)
    row.refresh_from_db()
    rebuilt = row.events.filter(to_status=S.FAILED, facts__error_code=exc.code).count()  # type: ignore[attr-defined]
    if rebuilt <= settings.DEPLOYMENT_MAX_REBUILDS:
        job_retry(job_type=job_type_of(row), job=row, user=None, reason="transaction can no longer land; rebuilding")
        return 0.0
    return None


def _transition(run: _Run, to: str, reason: str, **kwargs: Any) -> None:
    """Move the job and take the row as the transition left it (read under its row lock, so at least
    as fresh as a re-read): the pass goes on from it without reading the job again."""
    moved = job_transition(job_type=run.job_type, job_id=run.row.pk, to=to, reason=reason, actor=SYSTEM_ACTOR,
                           **kwargs)
    for field_ in run.row._meta.concrete_fields:
        setattr(run.row, field_.attname, getattr(moved, field_.attname))


def _missing_parts(run: _Run, step: str, step_txs: list[Tx], *, include_failed: bool) -> frozenset[int] | None:
    """The parts of `step` to sign now as `skip_parts` for `prepare` (None: nothing to sign): every
    part without a live transaction, and on a retry (`include_failed`) those that failed too."""
    confirmed, failed, waiting = _settled_parts(step_txs)
    skip = confirmed | waiting | (set() if include_failed else failed)
    if len(skip) >= run.adapter.part_count(run.job, step):
        return None
    return frozenset(skip)


def _advance_locked(row: ChainJobRow) -> float | None:
    """One pass: as many states as the chain allows now. `row` was read under the job's lock just
    before, and every state change goes through `_transition`, which hands back the row as it left it
    (the job lock keeps other workers out; a change by anyone else, e.g. a cancel, is refused by the
    transition's own row-locked check), so the row is not read again between states."""
    run = _Run.of(row)
    steps = run.adapter.steps(run.job)
    while True:
        status = row.status
        if status == S.QUEUED:
            skip = _missing_parts(run, steps[0], _step_txs(row, steps[0]), include_failed=True)
            if skip is None:
                # A retry while stored transactions may still land (FEE_CAP_EXCEEDED: still in the pool):
                # resume them; signing anew would take a second nonce and could deploy twice.
                _transition(run, S.SUBMITTED, "resuming stored transactions")
                continue
            # Signing (nonce reservation included) and storing commit together: a failure leaves
            # no gap and no orphan signature. Parts already stored (a retry) are not signed again.
            with transaction.atomic():
                signed = _prepare(run, steps[0], skip)
                fault_point("after_sign")
                _store(run, signed)
                _transition(run, S.SUBMITTED, "signed and stored" if not skip else "signed the parts that did not land",
                            results={"tx_ids": _tx_ids(row)}, tx_ids=[t.tx_id for t in signed][:50])
            fault_point("after_store_signed")
        elif status == S.SUBMITTED:
            _broadcast_step(run, [tx for tx in _live_txs(row, steps[0]) if tx.status != TransactionStatus.CONFIRMED],
                            rebuild=run.job_type is DEPLOYMENT)
            fault_point("after_broadcast")
            _transition(run, S.PENDING, "broadcast accepted")
        elif status == S.PENDING:
            # `confirmed` means every step is: the later steps (ARC-200/ARC-1400 bootstrap, a batch's
            # transfers after the opt-ins) run while the job is still `pending`, each its own rows.
            delay = _run_steps(run, steps)
            if delay is not None:
                return delay
            first = _confirmed_tx(row, steps[0])
            _transition(run, S.CONFIRMED, "all steps confirmed" if len(steps) > 1 else f"{steps[0]} confirmed",
                        results={"tx_ids": _tx_ids(row)}, confirmed_in=first.confirmed_in if first else None,
                        steps={step: tx.tx_id for step in steps if (tx := _confirmed_tx(row, step))})
        elif status == S.CONFIRMED:
            delay = _run_steps(run, steps)  # jobs confirmed before all steps were (older releases)
            if delay is not None:
                return delay
            delay = _check_final(run, steps)
            if delay is not None:
                return delay
            results = run.adapter.read_back(run.job)
            _transition(run, S.INDEXED, "read back from chain", results={**results, "tx_ids": _tx_ids(row)})
        elif status == S.INDEXED:
            with transaction.atomic():
                _transition(run, S.COMPLETED, "all steps done")
                job_completed(row)  # the token registry: a new Token, or what an operation changed
            return None
        else:
            return None


def _check_final(run: _Run, steps: list[str]) -> float | None:
    """Wait for enough confirmations of the last confirmed transaction of each part of the first step;
    a receipt that vanished (reorg, chain reset) is sent again."""
    finals = [txs[-1] for txs in _parts([t for t in _live_txs(run.row, steps[0])
                                         if t.status == TransactionStatus.CONFIRMED]).values()]
    for tx in finals[-1:]:  # the newest part: the others are at least as deep
        try:
            final = run.adapter.is_final(run.job, _stored(tx))
        except TransactionVanished as exc:
            # Reorged out or the chain was reset: never success from a receipt that is gone.
            # The stored bytes go out again; `_run_steps` waits for them as for any broadcast.
            _mark(tx, TransactionStatus.BROADCAST, last_error=exc.message[:2000])
            _broadcast(run, tx)
            return float(settings.DEPLOYMENT_POLL_SECONDS)
        if not final:
            return float(settings.DEPLOYMENT_POLL_SECONDS)
    return None


def _wait_part(run: _Run, step: str, txs: list[Tx], *, rebuild_on_dead: bool) -> float | None:
    """Poll one part's transaction(s); a delay while it is not settled, None once it confirmed or
    failed (marked on the row)."""
    tx, state = _step_state(run, txs)
    if state.state == "confirmed":
        fault_point("after_receipt")
        results = run.adapter.step_results(run.job, _stored(tx), state)
        with transaction.atomic():
            _mark(tx, TransactionStatus.CONFIRMED, confirmed_in=state.confirmed_in)
            tx_fee_metered(run.adapter, run.job, run.row, tx, _stored(tx), state)
            for other in txs:  # replacements of the same nonce: this one landed, they never can
                if other.pk != tx.pk and other.status != TransactionStatus.CONFIRMED:
                    _mark(other, TransactionStatus.SUPERSEDED, last_error=f"{tx.tx_id} landed with the same nonce")
            if results:
                run.row.results = {**run.row.results, **results}
                run.row.save_without_history(["results"])
        return None
    if state.state == "failed":
        with transaction.atomic():  # `confirmed_in`: the block of a reverted transaction (it reached the chain)
            _mark(tx, TransactionStatus.FAILED, last_error=(state.message or "failed on chain")[:2000],
                  confirmed_in=state.confirmed_in, details={**(tx.details or {}), "failure": state.info})
            tx_fee_metered(run.adapter, run.job, run.row, tx, _stored(tx), state)
        return None
    if state.state == "dead":
        _mark(tx, TransactionStatus.SUPERSEDED, last_error=state.message[:2000])
        if rebuild_on_dead:
            raise TransactionExpired(state.message or "The transaction can no longer land.", details=state.info)
        return 0.0  # `_run_step` signs a replacement of this part
    if state.state == "unknown" and not _broadcast(run, tx):  # the node lost it: same bytes again
        _replace_if_stuck(run, tx, underpriced=True)  # ... which it refuses now: under the base fee
    if state.state == "pending":
        _replace_if_stuck(run, tx)
    return float(settings.DEPLOYMENT_POLL_SECONDS)


def _prefetch_states(run: _Run, txs: list[Tx]) -> None:
    """The state of each part's newest transaction in one call, for adapters that can (`check_many`:
    a batch of 1,000 recipients is one receipt request per pass, not 1,000)."""
    check_many = getattr(run.adapter, "check_many", None)
    if check_many is not None and len(txs) > 1:
        run.states = dict(check_many(run.job, [_stored(tx) for tx in txs]))


def _is_replacement(tx: Tx) -> bool:
    return bool((tx.details or {}).get("replaces"))


def _broadcast_step(run: _Run, txs: list[Tx], *, rebuild: bool) -> None:
    """(Re-)broadcast a step's stored transactions, part by part. Once a stuck one was replaced only
    the newest is sent (the node refuses the cheaper one); if its nonce is already used, the
    transaction it replaced may be the one that landed: the pending check finds out. A part whose
    bytes can never land (nonce taken) is superseded and signed again later, unless `rebuild` (a
    deployment's creation): then the deployment is rebuilt from `queued` (`_on_expired`)."""
    for part_txs in _parts(txs).values():
        try:
            if not _is_replacement(part_txs[-1]):
                for tx in part_txs:
                    _broadcast(run, tx)
                continue
            try:
                _broadcast(run, part_txs[-1])
            except TransactionExpired:
                logger.info("replacement's nonce already used; checking which transaction landed",
                            extra={"tx_id": part_txs[-1].tx_id})
        except TransactionExpired as exc:
            if rebuild:
                raise
            _mark(part_txs[-1], TransactionStatus.SUPERSEDED, last_error=exc.message[:2000])
        except TransactionFailed as exc:
            if rebuild:
                raise
            # The node refused this part's bytes for good (e.g. a recipient not opted in): that part
            # failed; the others still go out, and a retry signs only the failed ones.
            _mark(part_txs[-1], TransactionStatus.FAILED, last_error=exc.message[:2000],
                  details={**(part_txs[-1].details or {}), "failure": exc.details})


def _step_state(run: _Run, txs: list[Tx]) -> tuple[Tx, TxState]:
    """The part's newest transaction and its state, unless an older one it replaced (same nonce) landed."""
    latest = txs[-1]
    state = _tx_state(run, latest)
    if state.state in ("confirmed", "failed") or len(txs) == 1:
        return latest, state
    for older in reversed(txs[:-1]):
        older_state = _tx_state(run, older)
        if older_state.state in ("confirmed", "failed"):
            return older, older_state
    return latest, state


def _replace_if_stuck(run: _Run, tx: Tx, *, underpriced: bool = False) -> None:
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
    logger.info("stuck transaction replaced", extra={"job_id": str(run.row.pk), "replaced": tx.tx_id,
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


def _confirmed_tx(row: ChainJobRow, step: str) -> Tx | None:
    return row.transactions.filter(step=step, status=TransactionStatus.CONFIRMED  # type: ignore[attr-defined]
                                   ).order_by("created_at").last()


def _run_steps(run: _Run, steps: list[str]) -> float | None:
    """Each step in order: sign what it still lacks (later steps, and parts whose transaction proved
    dead), send what is signed, wait until every part settled. A delay while one is not, None once
    all are; TransactionFailed naming the parts that failed once the step settled with failures."""
    for index, step in enumerate(steps):
        delay = _run_step(run, step, first=index == 0)
        if delay is not None:
            return delay
    return None


def _run_step(run: _Run, step: str, *, first: bool) -> float | None:
    row = run.row
    rebuild = first and run.job_type is DEPLOYMENT
    # The step's rows are read once: every change below (_store, _broadcast, _mark) is made on
    # these objects, so they stay the truth until this pass returns (a replacement signed by
    # `_replace_if_stuck` is not in the list, but that path always returns a delay).
    txs = _step_txs(row, step)
    # A deployment's creation is never re-signed from here (a dead one is rebuilt from `queued`).
    if not rebuild:
        skip = _missing_parts(run, step, txs, include_failed=False)
        if skip is not None:
            with transaction.atomic():
                signed = _prepare(run, step, skip)
                fault_point("after_sign")
                txs += _store(run, signed)
                row.results = {**row.results, "tx_ids": _tx_ids(row)}
                row.save_without_history(["results"])
            fault_point("after_store_signed")
    live = [tx for tx in txs if tx.status in LIVE]
    if not live and (rebuild or not txs):
        raise ApplicationError(f"No transaction stored for step '{step}'.")
    unsent = [tx for tx in live if tx.status == TransactionStatus.SIGNED]
    if unsent:
        _broadcast_step(run, unsent, rebuild=rebuild)
        fault_point("after_broadcast")
    delays = []
    landed, _, _ = _settled_parts(txs)
    unconfirmed = [tx for tx in txs if tx.status in LIVE and tx.status != TransactionStatus.CONFIRMED]
    waiting = {part: part_txs for part, part_txs in _parts(unconfirmed).items() if part not in landed}
    _prefetch_states(run, [part_txs[-1] for part_txs in waiting.values()])
    for part_txs in waiting.values():
        delay = _wait_part(run, step, part_txs, rebuild_on_dead=rebuild)
        if delay is not None:
            delays.append(delay)
    run.states.clear()
    if delays:
        return min(delays)
    confirmed, failed, pending = _settled_parts(txs)
    if pending or len(confirmed) + len(failed) < run.adapter.part_count(run.job, step):
        return 0.0  # a dead part: signed again on the next pass
    if failed:
        raise _parts_failed(run, step, confirmed, failed)
    return None


def _parts_failed(run: _Run, step: str, confirmed: set[int], failed: set[int]) -> TransactionFailed:
    """The step's failure; retryable for jobs whose retry signs only the parts that did not land."""
    exc = _parts_failure(run, step, confirmed, failed)
    exc.retryable = run.job_type.retry_after_landed
    return exc


def _parts_failure(run: _Run, step: str, confirmed: set[int], failed: set[int]) -> TransactionFailed:
    if run.adapter.part_count(run.job, step) == 1:
        tx = [t for t in _step_txs(run.row, step) if t.status == TransactionStatus.FAILED][-1]
        failure = (tx.details or {}).get("failure") or {}
        return TransactionFailed(tx.last_error or "The transaction failed on chain.", details=failure)
    rows = {t.part: t for t in _step_txs(run.row, step) if t.status == TransactionStatus.FAILED}
    return TransactionFailed(
        f"{len(failed)} of {len(confirmed) + len(failed)} parts of '{step}' failed on chain; retry sends only those.",
        details={"partially_failed": True, "step": step, "confirmed_parts": sorted(confirmed),
                 "failed_parts": [{"part": p, "tx_id": rows[p].tx_id, "error": rows[p].last_error}
                                  for p in sorted(failed)]})


def jobs_sweep() -> list[str]:
    """Re-queue chain jobs in a non-terminal state whose next action is overdue (a worker died, the
    broker lost a message). Returns their ids.

    Each re-queued job's deadline moves one grace period on in the transaction that finds it (rows
    locked, skipping those a transition holds), so a job waiting in a long queue is re-queued
    once per `DEPLOYMENT_SWEEP_GRACE_SECONDS`, not on every sweep: a burst of 1,000 creates left
    each sweep (every 5 s) adding a message for every job still queued, 20 to 56 tasks per
    deployment, most of the workers' time."""
    ids = []
    for job_type in JOB_TYPES.values():
        now = timezone.now()
        with transaction.atomic():
            overdue = list(job_type.model.objects.select_for_update(skip_locked=True)
                           .filter(status__in=ACTIVE, next_action_at__lt=now).values_list("pk", "status"))
            if overdue:
                job_type.model.objects.filter(pk__in=[pk for pk, _ in overdue]).update(
                    next_action_at=now + timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS), updated_at=now)
        for job_id, status in overdue:  # after the commit: an eager task must see the new deadline
            job_enqueue(job_type, job_id, status=status)
            ids.append(str(job_id))
    if ids:
        logger.info("sweep re-queued chain jobs", extra={"count": len(ids)})
    return ids


deployments_sweep = jobs_sweep
