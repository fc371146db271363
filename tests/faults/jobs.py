"""The fault suite's registry of durable chain jobs (docs/architecture.md, "The exactly-once rule").
Written once for any job that goes to a chain through the pipeline.

A job kind says which fault points its worker passes (`biatec.core.faults.fault_point`), how to create
one job without queueing it, how to queue it on a given broker, where it stands, and how to count
what the chain holds. A future job (token operations: mint, burn, pause ...) joins every fault test
by calling `register(ChainJobKind(...))` in this module; nothing else in the suite changes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts.models import User

# Fault points every deployment passes, in the order it passes them (deployments/pipeline.py,
# deployments/services.py: deployment_transition, tokens/chains/evm_nonces.py: nonce_reserve).
EVM_ONLY_POINTS = ("after_reserve",)
PIPELINE_POINTS = (
    "after_sign",                  # signed, not stored (inside the signing transaction)
    "before_commit:submitted",     # stored + transition written, not committed
    "after_store_signed",          # committed, nothing broadcast
    "after_broadcast",             # the node has it, still `submitted`
    "before_commit:pending",
    "after_receipt",               # the receipt / confirmation seen, nothing recorded
    "before_commit:confirmed",
    "before_commit:indexed",
    "before_commit:completed",
)
TERMINAL = ("completed", "failed", "cancelled")


@dataclass
class Verdict:
    """What the chain and the database say after a fault run of `jobs` jobs."""

    jobs: int
    completed: int
    on_chain: int                 # creations (contracts, assets, apps) the chain holds for these jobs
    nonce_gaps: int = 0           # EVM: nonces skipped or left behind a gap; Algorand: always 0
    problems: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return max(self.on_chain - self.jobs, 0)

    @property
    def ok(self) -> bool:
        return (self.completed == self.jobs == self.on_chain and self.nonce_gaps == 0
                and not self.problems)


@dataclass(frozen=True)
class ChainJobKind:
    name: str                                         # e.g. "deployment:erc20-preminted"
    chain: str                                        # "evm" | "algorand" (for the tally)
    network: str                                      # network slug
    node_fixture: str                                 # pytest fixture starting the chain node
    fault_points: tuple[str, ...]
    create: Callable[[User], str]                     # user -> id of a committed, unqueued job
    enqueue: Callable[[str, str], None]               # (job id, broker url): publish its first task
    statuses: Callable[[list[str]], dict[str, str]]   # job ids -> status
    baseline: Callable[[User], Any]                   # on-chain counts before the run
    verify: Callable[[User, Any, list[str]], Verdict]
    prefund: Callable[[User], None]                   # give the sender plenty before a run (see below)


# Why `prefund`: the kill suite measures crash safety, so by default each run starts with a sender
# that holds plenty. FAULTS_PREFUND=0 leaves funding to the product (sign-time top-ups under the
# sender's lock, counting the sender's in-flight transactions: deployments/pipeline.py `_prepare`);
# before that fix two jobs of one sender could spend the same margin (INSUFFICIENT_FUNDS).
REGISTRY: dict[str, ChainJobKind] = {}


def register(kind: ChainJobKind) -> ChainJobKind:
    REGISTRY[kind.name] = kind
    return kind


def kinds() -> list[ChainJobKind]:
    return list(REGISTRY.values())


def fault_cases() -> list[tuple[ChainJobKind, str]]:
    """Every (job kind, fault point) pair: the SIGKILL test's parameters."""
    return [(kind, point) for kind in kinds() for point in kind.fault_points]


# Deployments register themselves (tests/faults/deployment_jobs.py).
from tests.faults import deployment_jobs  # noqa: E402, F401
