"""EVM adapter of token operations: one contract call per part (a batch distribution's recipients
are parts with consecutive nonces). Broadcast, receipts, stuck-transaction replacement and
finality are the deployment adapter's."""
from __future__ import annotations

from typing import Any

from biatec.core.errors import TransactionFailed
from tokens.chains.evm_operations import Call, call_transactions_prepare, read_token_state
from tokens.standards import operations as ops

from .base import ChainJob, ClaimedIds, SignedTx, StoredTx, TxState
from .evm import EvmAdapter

_FUNCTIONS = {ops.MINT: "mint", ops.BURN: "burn", ops.TRANSFER: "transfer", ops.BATCH_TRANSFER: "transfer",
              ops.PAUSE: "pause", ops.UNPAUSE: "unpause", ops.TRANSFER_OWNERSHIP: "transferOwnership"}


def operation_calls(kind: str, request: dict[str, Any]) -> list[Call]:
    """The contract calls of an operation, one per part, from its resolved request."""
    function = _FUNCTIONS[kind]
    if kind == ops.BATCH_TRANSFER:
        return [(function, [row["to"], int(row["amount"])]) for row in request["transfers"]]
    if kind in (ops.MINT, ops.TRANSFER):
        return [(function, [request["to"], int(request["amount"])])]
    if kind == ops.BURN:
        return [(function, [int(request["amount"])])]
    if kind == ops.TRANSFER_OWNERSHIP:
        return [(function, [request["new_owner"]])]
    return [(function, [])]


def operation_holders(kind: str, request: dict[str, Any], issuer: str) -> list[str]:
    """Addresses whose balance the read-back reports."""
    holders = [issuer]
    if kind == ops.BATCH_TRANSFER:
        holders += [row["to"] for row in request["transfers"]]
    elif request.get("to"):
        holders.append(request["to"])
    return list(dict.fromkeys(holders))


class EvmOperationAdapter(EvmAdapter):
    what = "token operation"

    def steps(self, job: ChainJob) -> list[str]:
        return [ops.TRANSFER if job.operation == ops.BATCH_TRANSFER else job.operation]

    def part_count(self, job: ChainJob, step: str) -> int:
        return len(operation_calls(job.operation, dict(job.request)))

    def prepare(self, job: ChainJob, step: str, *, skip_parts: frozenset[int] = frozenset()) -> list[SignedTx]:
        calls = operation_calls(job.operation, dict(job.request))
        parts = [i for i in range(len(calls)) if i not in skip_parts]
        signed = call_transactions_prepare(
            sender=job.sender, signer=job.signer, network=job.network, standard=job.standard,
            contract_address=str(job.target["contract_address"]), calls=[calls[i] for i in parts],
            reason=f"{job.operation} {job.id}")
        return [SignedTx(step=step, part=part, tx_id=tx.tx_hash, signed_bytes=tx.raw, sender=tx.sender, nonce=tx.nonce,
                         details={"chain_id": tx.chain_id, "function": calls[part][0]})
                for part, tx in zip(parts, signed, strict=True)]

    def created_anyway(self, job: ChainJob, tx: StoredTx, *, claimed: ClaimedIds) -> dict[str, Any] | None:
        return None

    def step_results(self, job: ChainJob, tx: StoredTx, state: TxState) -> dict[str, Any]:
        return {}

    def read_back(self, job: ChainJob) -> dict[str, Any]:
        """The token's state after the operation, checked where the operation fixes it."""
        request, kind = dict(job.request), job.operation
        holders = operation_holders(kind, request, job.sender)
        state = read_token_state(network=job.network, contract_address=str(job.target["contract_address"]),
                                 holders=holders)
        expected: dict[str, Any] = {}
        if kind in (ops.PAUSE, ops.UNPAUSE):
            expected["paused"] = kind == ops.PAUSE
        if kind == ops.TRANSFER_OWNERSHIP:
            expected["owner"] = request["new_owner"]
        wrong = {k: {"expected": str(v), "on_chain": str(state.get(k))}
                 for k, v in expected.items() if state.get(k) != v}
        if wrong:
            raise TransactionFailed("The token on chain does not show the operation's effect.",
                                    details={"mismatched": wrong})
        return {"state": {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                          for k, v in state.items() if k != "balances"},
                "balances": {a: str(b) for a, b in state["balances"].items()}}
