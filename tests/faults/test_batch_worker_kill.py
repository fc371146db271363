"""Issue 18: a batch of 100 transfers on anvil and on the devnet completes; killing the worker (SIGKILL)
in the middle of a batch and starting a new one ends with every recipient paid exactly once.

One `batch_transfer` of 100 fresh recipients (recipient i paid i + 1) per chain and fault point
(tests/faults/operation_jobs.py; an EVM batch is 100 transactions with consecutive nonces, an ASA
batch 7 atomic groups of up to 16). A real worker (prefork, embedded beat) runs it until its child
dies at the fault point with part of the batch on chain:
- `after_broadcast`: every part sent (anvil and the devnet include each at once), none recorded past
  `broadcast`;
- `after_receipt`: armed once some parts are recorded `confirmed`; the next part is on chain, its
  receipt seen, nothing recorded.
Then the whole worker is SIGKILLed (master, children, beat) and a new one is started on the same
broker: Redis hands the unacknowledged task back, the sweep covers the rest. Read from the chain
(web3, algosdk), not through the product: the operation completed, each of the 100 recipients holds
exactly its amount, the issuer's balance dropped by exactly their sum, and on EVM the confirmed parts'
nonces are consecutive (one per recipient, none skipped, none left in the pool).
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from deployments.models import Operation, OperationTransaction, TransactionStatus
from tests.celery_worker import wait_for
from tests.faults.conftest import broker_on
from tests.faults.jobs import TERMINAL, ChainJobKind
from tests.faults.operation_jobs import (
    asa_balance_reader,
    asa_batch_kind,
    asa_token,
    evm_balance_reader,
    evm_batch_kind,
    evm_confirmed_nonces,
    evm_token,
)
from tests.faults.procs import ArmedWorker
from tests.faults.tally import tally_record

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.faults, pytest.mark.django_db(transaction=True)]
RECIPIENTS = 100
KINDS = {
    "evm": evm_batch_kind(RECIPIENTS, name="operation:erc20-batch_transfer-100", user="faults.batch100.evm"),
    "algorand": asa_batch_kind(RECIPIENTS, name="operation:asa-batch_transfer-100", user="faults.batch100.algorand"),
}
PARTS = {"evm": RECIPIENTS, "algorand": -(-RECIPIENTS // 16)}
# `after_receipt`: parts recorded confirmed before the kill is armed, and the random pause at each
# receipt meanwhile (so the test sees the batch half-way: 100 EVM receipts, 7 Algorand groups).
LANDED_BEFORE_KILL = {"evm": 30, "algorand": 2}
RECEIPT_DELAY = {"evm": 0.1, "algorand": 1.5}
KILL_TIMEOUT = 180.0
FINISH_TIMEOUT = 240.0


def _parts(operation_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in OperationTransaction.objects.filter(operation_id=operation_id)
            .order_by("part", "created_at").values("part", "status", "nonce", "tx_id", "broadcast_attempts",
                                                    "last_error")]


def _confirmed(operation_id: str) -> int:
    return OperationTransaction.objects.filter(operation_id=operation_id, status=TransactionStatus.CONFIRMED).count()


def _describe(operation_id: str) -> dict[str, Any]:
    """What to report when the pipeline misbehaves: the operation, its history and every transaction."""
    operation = Operation.objects.get(pk=operation_id)
    rows = _parts(operation_id)
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    return {"id": operation_id, "status": operation.status, "error_code": operation.error_code,
            "error_message": operation.error_message, "error_details": operation.error_details,
            "history": list(operation.events.order_by("id").values_list("from_status", "to_status", "reason")),
            "transactions": by_status, "not_confirmed": [r for r in rows if r["status"] != "confirmed"][:20]}


def _kill_whole_worker(armed: ArmedWorker) -> None:
    """SIGKILL of the worker's process group (master, pool children, embedded beat): nothing of it runs on."""
    proc = armed.worker.proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    armed.worker.stop()


def _arm_and_run(armed: ArmedWorker, kind: ChainJobKind, point: str, operation_id: str) -> dict[str, Any]:
    """Run the batch on `armed` until its child died at `point` mid-batch; the state at the kill."""
    if point == "after_receipt":
        armed.arm([point], budget=0, max_delay=RECEIPT_DELAY[kind.chain])  # receipts slowed, nothing killed yet
    else:
        armed.arm([point], budget=1, probability=1.0, max_delay=0.0)
    kind.enqueue(operation_id, armed.broker)
    if point == "after_receipt":
        landed = wait_for(lambda: _confirmed(operation_id) >= LANDED_BEFORE_KILL[kind.chain], timeout=KILL_TIMEOUT,
                          interval=0.05)
        assert landed, (_describe(operation_id), armed.worker.output()[-3000:])
        armed.arm([point], budget=1, probability=1.0, max_delay=RECEIPT_DELAY[kind.chain])
    killed = wait_for(lambda: armed.state()["kills"] == 1, timeout=KILL_TIMEOUT, interval=0.05)
    assert killed, (f"the worker never died at {point}", _describe(operation_id), armed.worker.output()[-3000:])
    _kill_whole_worker(armed)
    return {"status": Operation.objects.get(pk=operation_id).status, "confirmed": _confirmed(operation_id),
            "parts": len({row["part"] for row in _parts(operation_id)})}


@pytest.fixture
def workers(django_db_setup: None, anvil_node: Any, algod_devnet_node: Any,
            private_redis: Any) -> Iterator[Callable[[str], ArmedWorker]]:
    """The worker that dies and the one started after it, on one broker; both stopped at the end."""
    started: list[ArmedWorker] = []

    def start(broker: str) -> ArmedWorker:
        started.append(ArmedWorker(broker))
        return started[-1]

    yield start
    for armed in started:
        armed.worker.stop()


@pytest.mark.parametrize("point", ["after_broadcast", "after_receipt"])
@pytest.mark.parametrize("chain", ["evm", "algorand"])
def test_sigkill_mid_batch_of_100_then_new_worker_pays_every_recipient_once(
        chain: str, point: str, workers: Callable[[str], ArmedWorker], private_redis: Any, no_dispatch: None,
        chain_user: Callable[[str], Any]) -> None:
    kind = KINDS[chain]
    user = chain_user(kind.user_name)
    kind.prefund(user)
    before = kind.baseline(user)  # deploys the token (in this process) first
    token = evm_token(user) if chain == "evm" else asa_token(user)
    balance_of = (evm_balance_reader if chain == "evm" else asa_balance_reader)(token)
    broker = broker_on(private_redis)
    first = workers(broker)
    operation_id = kind.create(user)
    transfers = Operation.objects.get(pk=operation_id).request["transfers"]
    assert len(transfers) == RECIPIENTS

    at_kill = _arm_and_run(first, kind, point, operation_id)
    if point == "after_receipt":  # mid-batch: some parts recorded confirmed, the one being recorded not
        assert LANDED_BEFORE_KILL[chain] <= at_kill["confirmed"] < PARTS[chain], at_kill
    else:  # the whole batch sent, nothing recorded past `broadcast`
        assert at_kill == {"status": "submitted", "confirmed": 0, "parts": PARTS[chain]}, at_kill

    second = workers(broker)
    finished = wait_for(lambda: kind.statuses([operation_id])[operation_id] in TERMINAL, timeout=FINISH_TIMEOUT,
                        interval=0.3)
    description = _describe(operation_id)
    assert finished, (at_kill, description, second.worker.output()[-3000:])
    verdict = kind.verify(user, before, [operation_id])
    tally_record(job=kind.name, fault=point, chain=chain, trials=1, jobs=verdict.jobs, units=verdict.expected,
                 completed=verdict.completed, duplicates=verdict.duplicates, nonce_gaps=verdict.nonce_gaps)

    assert description["status"] == "completed", (at_kill, description)
    held = {row["to"]: balance_of(row["to"]) for row in transfers}
    wrong = {row["to"]: (held[row["to"]], row["amount"]) for row in transfers if held[row["to"]] != int(row["amount"])}
    assert wrong == {}, (f"{len(wrong)} recipient(s) not paid exactly once (held, amount)", at_kill, description)
    paid = sum(int(row["amount"]) for row in transfers)
    assert paid == RECIPIENTS * (RECIPIENTS + 1) // 2
    assert before["issuer"] - balance_of(token.issuer_address) == paid
    parts = _parts(operation_id)
    confirmed_parts = [row["part"] for row in parts if row["status"] == "confirmed"]
    assert sorted(confirmed_parts) == list(range(PARTS[chain])), description  # each part landed once
    if chain == "evm":
        nonces = evm_confirmed_nonces([operation_id])
        assert nonces == list(range(before["nonce"], before["nonce"] + RECIPIENTS)), (nonces, description)
    assert verdict.ok, (verdict, at_kill, description)
    # Let a late duplicate show itself (the sweep, a redelivered message): none may land.
    time.sleep(2)
    assert {row["to"]: balance_of(row["to"]) for row in transfers} == held
