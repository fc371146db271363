"""EVM adapter of token operations: one contract call per part (a batch distribution's recipients
are parts with consecutive nonces); a move to the treasury with the issuer's balance has balance
steps before its `transfer_ownership` (`balance_move_calls`). Broadcast, receipts, stuck-transaction replacement and
finality are the deployment adapter's."""
from __future__ import annotations

from typing import Any

from biatec.core.errors import TransactionFailed
from tokens.chains.evm_operations import (
    Call,
    call_transactions_prepare,
    native_sweep_transaction_prepare,
    read_token_state,
)
from tokens.chains.evm_reads import get_balance
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .base import ChainJob, ClaimedIds, SignedTx, StoredTx, TxState
from .evm import EvmAdapter


def operation_calls(kind: str, request: dict[str, Any], *, standard: str, issuer: str) -> list[Call]:
    """The contract calls of an operation, one per part, from its resolved request (the standard's
    `evm_calls` say which function and which arguments). An `allowlist_sync` is one
    `batchSetEligible(accounts, flags)` per `ops.ELIGIBILITY_PER_EVM_CALL` changes."""
    if kind == ops.ALLOWLIST_SYNC:
        changes, size = list(request["changes"]), ops.ELIGIBILITY_PER_EVM_CALL
        return [("batchSetEligible", [[c["address"] for c in chunk], [bool(c["eligible"]) for c in chunk]])
                for chunk in (changes[start:start + size] for start in range(0, len(changes), size))]
    function, sources = STANDARDS[standard].evm_call(kind)

    def args(values: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for source in sources:
            if isinstance(source, bool):
                out.append(source)
            elif source == "issuer":
                out.append(issuer)
            elif source.startswith("int:"):
                out.append(int(values[source.removeprefix("int:")]))
            else:
                out.append(values[source])
        return out

    if kind == ops.BATCH_TRANSFER:
        return [(function, args(row)) for row in request["transfers"]]
    return [(function, args(request))]


TREASURY_ELIGIBLE, TREASURY_BALANCE = "treasury_eligible", "treasury_balance"
"""Steps of a `transfer_ownership` to the organization treasury that takes the issuer's balance
along (docs/treasury.md): [`treasury_eligible` (erc20-security, when the treasury is not eligible
yet), `treasury_balance`, `transfer_ownership`], each signed once the one before it confirmed (the
gas estimate of a forced transfer needs the eligibility on chain)."""


def balance_move_calls(step: str, request: dict[str, Any], *, issuer: str) -> list[Call]:
    """The contract call of a balance step of a move to the treasury."""
    treasury, amount = request["treasury_address"], int(request["balance_to_treasury"])
    if step == TREASURY_ELIGIBLE:
        return [("setEligible", [treasury, True])]
    if request.get("balance_via") == "forced_transfer":
        return [("forcedTransfer", [issuer, treasury, amount])]
    return [("transfer", [treasury, amount])]


def operation_holders(kind: str, request: dict[str, Any], issuer: str) -> list[str]:
    """Addresses whose balance (and, with an on-chain holder registry, flags) the read-back reports."""
    holders = [issuer, *([request["treasury_address"]] if request.get("balance_to_treasury") else [])]
    if kind == ops.BATCH_TRANSFER:
        holders += [row["to"] for row in request["transfers"]]
    elif kind == ops.ALLOWLIST_SYNC:
        holders += [change["address"] for change in request["changes"]]
    else:
        holders += [request[f] for f in ("from", "to", "address", "lost_address", "new_address") if request.get(f)]
    return list(dict.fromkeys(holders))


def _position_mismatches(kind: str, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """erc20-security: what a partial freeze or a recovery must show on chain. A partial freeze
    leaves at least its amount frozen (another freeze of the same holder may add to it); a recovery
    leaves the lost wallet empty and not eligible, the new one eligible."""
    flags = {a.lower(): f for a, f in state["flags"].items()}
    balances = {a.lower(): b for a, b in state["balances"].items()}
    wrong: dict[str, Any] = {}
    if kind == ops.FREEZE_PARTIAL:
        frozen_tokens = flags[request["address"].lower()]["frozen_tokens"]
        if frozen_tokens < int(request["amount"]):
            wrong["frozen_tokens"] = {"expected": f">= {request['amount']}", "on_chain": str(frozen_tokens)}
    if kind == ops.RECOVERY:
        lost, new = request["lost_address"].lower(), request["new_address"].lower()
        expected = {"lost.balance": (balances[lost], 0), "lost.eligible": (flags[lost]["eligible"], False),
                    "new.eligible": (flags[new]["eligible"], True)}
        wrong |= {k: {"expected": str(want), "on_chain": str(got)} for k, (got, want) in expected.items()
                  if got != want}
    return wrong


class EvmOperationAdapter(EvmAdapter):
    what = "token operation"

    @staticmethod
    def _calls(job: ChainJob, step: str) -> list[Call]:
        if step in (TREASURY_ELIGIBLE, TREASURY_BALANCE):
            return balance_move_calls(step, dict(job.request), issuer=job.sender)
        return operation_calls(job.operation, dict(job.request), standard=job.standard, issuer=job.sender)

    def steps(self, job: ChainJob) -> list[str]:
        if job.operation == ops.TRANSFER_OWNERSHIP and job.request.get("balance_to_treasury"):
            first = [TREASURY_ELIGIBLE] if job.request.get("treasury_eligible_first") else []
            return [*first, TREASURY_BALANCE, job.operation]
        return [ops.TRANSFER if job.operation == ops.BATCH_TRANSFER else job.operation]

    def part_count(self, job: ChainJob, step: str) -> int:
        return 1 if job.operation == ops.NATIVE_SWEEP else len(self._calls(job, step))

    def replacement(self, job: ChainJob, tx: StoredTx, *, stuck: bool = False) -> SignedTx | None:
        """A sweep is never replaced with higher fees: it spends the whole balance, a bump could not
        be paid. A dead one (nonce used) is signed anew from the balance then."""
        if job.operation == ops.NATIVE_SWEEP:
            return None
        return super().replacement(job, tx, stuck=stuck)

    def _sweep(self, job: ChainJob, step: str) -> list[SignedTx]:
        signed = native_sweep_transaction_prepare(sender=job.sender, signer=job.signer, network=job.network,
                                                  to=str(job.request["to"]), reason=f"{job.operation} {job.id}")
        if signed is None:
            raise TransactionFailed("The retired account's balance no longer covers the sweep's fee.",
                                    details={"address": job.sender})
        return [SignedTx(step=step, part=0, tx_id=signed.tx_hash, signed_bytes=signed.raw, sender=signed.sender,
                         nonce=signed.nonce, details={"chain_id": signed.chain_id, "value": str(signed.value),
                                                      "gas_price": str(signed.max_fee_per_gas)})]

    def prepare(self, job: ChainJob, step: str, *, skip_parts: frozenset[int] = frozenset()) -> list[SignedTx]:
        if job.operation == ops.NATIVE_SWEEP:
            return [] if 0 in skip_parts else self._sweep(job, step)
        calls = self._calls(job, step)
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
        if kind == ops.NATIVE_SWEEP:  # the retired account is left with exactly 0
            left = get_balance(network=job.network, address=job.sender)
            if left:
                raise TransactionFailed("The retired account still holds native coin after the sweep.",
                                        details={"mismatched": {f"{job.sender}.balance": {"expected": "0",
                                                                                          "on_chain": str(left)}}})
            return {"left": "0", "to": request["to"],
                    "to_balance": str(get_balance(network=job.network, address=str(request["to"])))}
        holders = operation_holders(kind, request, job.sender)
        registry = STANDARDS[job.standard].holder_registry
        state = read_token_state(network=job.network, contract_address=str(job.target["contract_address"]),
                                 holders=holders, holder_flags=registry)
        expected: dict[str, Any] = {}
        if kind in (ops.PAUSE, ops.UNPAUSE):
            expected["paused"] = kind == ops.PAUSE
        if kind == ops.TRANSFER_OWNERSHIP:
            expected["owner"] = request["new_owner"]
        wrong = {k: {"expected": str(v), "on_chain": str(state.get(k))}
                 for k, v in expected.items() if state.get(k) != v}
        if request.get("balance_to_treasury"):  # a floor: the treasury may have held some already
            treasury, moved = request["treasury_address"], int(request["balance_to_treasury"])
            held = {a.lower(): b for a, b in state["balances"].items()}[treasury.lower()]
            if held < moved:
                wrong[f"{treasury}.balance"] = {"expected": f">= {moved}", "on_chain": str(held)}
        if registry and kind == ops.ALLOWLIST_SYNC:
            eligible = {a.lower(): f["eligible"] for a, f in state["flags"].items()}
            wrong |= {f"{c['address']}.eligible": {"expected": str(c["eligible"]), "on_chain": str(eligible[key])}
                      for c in request["changes"] if eligible[key := c["address"].lower()] != c["eligible"]}
        if registry and kind in (ops.FREEZE, ops.UNFREEZE):
            frozen = {a.lower(): f["frozen"] for a, f in state["flags"].items()}[request["address"].lower()]
            if frozen != (kind == ops.FREEZE):
                wrong["frozen"] = {"expected": str(kind == ops.FREEZE), "on_chain": str(frozen)}
        if registry:
            wrong |= _position_mismatches(kind, request, state)
        if wrong:
            raise TransactionFailed("The token on chain does not show the operation's effect.",
                                    details={"mismatched": wrong})
        return {"state": {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                          for k, v in state.items() if k not in ("balances", "flags")},
                "balances": {a: str(b) for a, b in state["balances"].items()},
                **({"holders": {a: {**f, "frozen_tokens": str(f["frozen_tokens"])} for a, f in state["flags"].items()}}
                   if registry else {})}
