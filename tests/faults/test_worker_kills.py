"""SIGKILL of the worker at every fault point of every registered chain job (tests/faults/jobs.py).

One real Celery worker for the module (prefork pool of two, embedded beat, as `make worker` +
`make beat`) against the test database, a private Redis and the real chain nodes (anvil, the Algorand
devnet). For each (job kind, fault point) the worker is armed through its control file
(`biatec.core.faults`): each hit of the point waits a random moment, then kills the child running the
job with probability 1/2 (1 once a round of jobs went by without a kill), until FAULTS_TRIALS kills
happened; new jobs are created until then. Celery requeues the job of a killed child (late ack,
reject on worker lost), another child takes it over. Then, read back from the chain and the
database: every job `completed`, each job's units on chain exactly once (a deployment's creation; every
recipient of a batch transfer paid exactly its amount, never twice), no EVM nonce gap. The tally row
of each case is printed at the end of the session (`make faults`).
"""
from __future__ import annotations

import os
import time

import pytest

from tests.celery_worker import wait_for
from tests.faults.conftest import broker_on, trials
from tests.faults.jobs import TERMINAL, fault_cases
from tests.faults.procs import ArmedWorker
from tests.faults.tally import tally_record

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.faults, pytest.mark.django_db(transaction=True)]
BATCH = 3
JOB_TIMEOUT = 120.0
CASES = fault_cases()


@pytest.fixture(scope="module")
def armed_worker(django_db_setup, anvil_node, algod_devnet_node, private_redis):
    """Started once both nodes are registered: the worker's environment names every node."""
    armed = ArmedWorker(broker_on(private_redis))
    yield armed
    armed.worker.stop()


@pytest.mark.parametrize(("kind", "point"), CASES, ids=[f"{k.name}-{p}" for k, p in CASES])
def test_sigkill_at_fault_point_completes_exactly_once(kind, point, armed_worker, no_dispatch, chain_user):
    armed = armed_worker
    assert armed.worker.proc.poll() is None, armed.worker.output()[-3000:]
    user = chain_user(kind.user_name)
    if os.environ.get("FAULTS_PREFUND", "1") != "0":
        kind.prefund(user)
    before = kind.baseline(user)

    wanted = trials()
    armed.arm([point], budget=wanted)
    ids: list[str] = []
    for _ in range(2 * wanted + 4):  # new jobs until the kills happened
        left = armed.state()["budget"]
        if left <= 0:
            break
        kills_before = armed.state()["kills"]
        batch = [kind.create(user) for _ in range(min(left, BATCH))]
        for job_id in batch:
            kind.enqueue(job_id, armed.broker)
        ids += batch
        finished = wait_for(lambda: all(s in TERMINAL for s in kind.statuses(ids).values()),
                            timeout=JOB_TIMEOUT, interval=0.3)
        assert finished, (kind.statuses(ids), armed.worker.output()[-4000:])
        state = armed.state()
        if state["kills"] == kills_before:  # a round went by without a kill: the next hit kills
            armed.arm([point], budget=state["budget"], probability=1.0, kills=state["kills"])
    kills = armed.state()["kills"]
    armed.arm([], budget=0)
    time.sleep(0.5)  # let the beat's pollers settle on the finished jobs

    verdict = kind.verify(user, before, ids)
    tally_record(job=kind.name, fault=point, chain=kind.chain, trials=kills, jobs=verdict.jobs,
                 units=verdict.expected, completed=verdict.completed, duplicates=verdict.duplicates,
                 nonce_gaps=verdict.nonce_gaps)
    outcome = kind.outcome(ids)
    assert kills == wanted, (f"only {kills} of {wanted} kills at {point}", outcome)
    assert verdict.ok, (verdict, outcome)
    assert armed.worker.proc.poll() is None  # the master survived: only the children were killed
