"""The fault suite's registry of durable chain jobs (docs/architecture.md, "The exactly-once rule").
Written once for any job that goes to a chain through the pipeline.

A job kind says which fault points its worker passes (`biatec.core.faults.fault_point`), how to create
one job without queueing it, how to queue it on a given broker, where it stands, and how to count
what the chain holds. A future job joins every fault test by calling `register(ChainJobKind(...))`;
nothing else in the suite changes. Registered: deployments (tests/faults/deployment_jobs.py) and
token operations (tests/faults/operation_jobs.py: batch transfers, whose one job puts `units`
recipients' payments on chain).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts.models import User

# Fault points every chain job (deployment, token operation) passes, in the order it passes them (a
# step of several parts passes after_receipt once per part; deployments/pipeline.py,
# deployments/services.py: job_transition, tokens/chains/evm_nonces.py: nonce_reserve).
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
    """What the chain and the database say after a fault run of `jobs` jobs.

    A unit is what one job puts on chain once: a creation (contract, asset, app) for a deployment,
    a recipient holding exactly its amount for a batch transfer (`units` per job). `over` counts
    units on chain more than once where `on_chain` cannot show it (a recipient paid twice is not
    paid exactly, so it is missing from `on_chain`); None: whatever `on_chain` exceeds."""

    jobs: int
    completed: int
    on_chain: int
    nonce_gaps: int = 0           # EVM: nonces skipped or left behind a gap; Algorand: always 0
    problems: list[str] = field(default_factory=list)
    units: int = 1
    over: int | None = None

    @property
    def expected(self) -> int:
        return self.jobs * self.units

    @property
    def duplicates(self) -> int:
        return self.over if self.over is not None else max(self.on_chain - self.expected, 0)

    @property
    def ok(self) -> bool:
        return (self.completed == self.jobs and self.on_chain == self.expected and self.duplicates == 0
                and self.nonce_gaps == 0 and not self.problems)


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
    outcome: Callable[[list[str]], list[dict[str, Any]]]  # job ids -> the unfinished ones, with their errors
    baseline: Callable[[User], Any]                   # on-chain counts before the run (after any setup)
    verify: Callable[[User, Any, list[str]], Verdict]
    prefund: Callable[[User], None]                   # give the sender plenty before a run (see below)
    units: int = 1                                    # units one job puts on chain (Verdict.units)
    user: str = ""                                    # e-mail name of the sender; default faults.<chain>

    @property
    def user_name(self) -> str:
        """The sender's e-mail name. A kind with a setup of its own (an operation's token) has its own
        sender, so that its setup never moves the nonces another kind's verdict counts."""
        return self.user or f"faults.{self.chain}"


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


def unfinished(model: Any) -> Callable[[list[str]], list[dict[str, Any]]]:
    """`ChainJobKind.outcome` of a job table: the jobs of `ids` not completed, with their errors."""
    def outcome(ids: list[str]) -> list[dict[str, Any]]:
        return list(model.objects.filter(pk__in=ids).exclude(status="completed").values(
            "id", "status", "error_code", "error_message", "error_details"))

    return outcome


def fault_cases() -> list[tuple[ChainJobKind, str]]:
    """Every (job kind, fault point) pair: the SIGKILL test's parameters."""
    return [(kind, point) for kind in kinds() for point in kind.fault_points]


# Deployments and token operations register themselves.
from tests.faults import deployment_jobs, operation_jobs  # noqa: E402, F401
