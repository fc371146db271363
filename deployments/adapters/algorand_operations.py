"""Algorand adapter of token operations: plain assets (ASA / ARC-3) and smart-contract tokens
(ARC-200 / ARC-1400). Status checks and finality are the deployment adapter's; the transactions
come unsigned from `tokens.chains.algorand_operations`.

Steps and parts (a part is one atomic group, signed, stored and tracked on its own):
- assets: transfer / batch_transfer -> ["opt_in", "transfer"] when holders must opt in first, else
  ["transfer"]; an opt-in part per holder (the issuer tops it up in the same group), a transfer
  part per 16 transfers. freeze / unfreeze -> ["freeze"], forced_transfer -> ["clawback"],
  set_roles -> ["reconfigure"], destroy -> ["destroy"]: one part each. A set_roles that moves the
  token to the organization treasury with the issuer's balance -> ["opt_in" (the treasury, signed
  by its key), "clawback" or "transfer" (the issuer's whole balance), "freeze" (unfreezes the
  treasury's holding of a default-frozen asset), "reconfigure"]. allowlist_sync (a regulated,
  default-frozen asset) -> ["opt_in", "freeze"] or ["freeze"]: an opt-in part per platform user
  activated before holding, a freeze part per 16 holdings (frozen = not active in the registry).
- app tokens: mint, burn, transfer, pause, unpause, forced_transfer, transfer_ownership -> [kind],
  one group (the call, after a box-MBR payment when it creates boxes); batch_transfer ->
  ["transfer"], a part per 15 transfers (room for the box-MBR payment in every group);
  allowlist_sync (ARC-1400) -> ["whitelist"], a part per 15 `whitelist_set` calls. A
  transfer_ownership to the organization treasury with the owner's balance -> ["whitelist" (the
  treasury, when not yet), "forced_transfer" (the owner's whole balance), "transfer_ownership"].
Parts depend on the request only, never on the chain (which boxes exist, who holds enough), so
part i names the same recipients every time it is signed. Every transaction is leased by
`operation_lease(f"{job id}|{step}|{part}", index)`: re-signing a part keeps its leases.

A node refuses a group that cannot apply (a receiver not opted in, a contract assert) at
submission, not in a block. Such a refusal is that part's failure, not the job's: `broadcast`
lets it pass and `check` reports the part `failed` when the node refuses the bytes again, so the
other parts of a batch are still sent and a retry re-signs only the refused ones.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from algosdk import transaction

from biatec.core.errors import TransactionExpired, TransactionFailed, ValidationFailed
from tokens.chains import algorand as algo
from tokens.standards import STANDARDS
from tokens.standards import operations as ops

from .algorand import AlgorandAdapter, in_flight_cost
from .base import ChainJob, ClaimedIds, SignedTx, StoredTx, TxState

__all__ = ["APP_TRANSFERS_PER_GROUP", "ASSET_TRANSFERS_PER_GROUP", "AlgorandOperationAdapter", "operation_holders",
           "operation_transfers", "transfers_per_part"]

OPT_IN, TRANSFER, FREEZE, CLAWBACK, RECONFIGURE, DESTROY, WHITELIST = (
    "opt_in", "transfer", "freeze", "clawback", "reconfigure", "destroy", "whitelist")
ASSET_TRANSFERS_PER_GROUP = algo.MAX_GROUP
APP_TRANSFERS_PER_GROUP = algo.MAX_GROUP - 1
"""15 calls, so that every group has room for the payment of the balance boxes it creates."""

_ASSET_STEP = {ops.TRANSFER: TRANSFER, ops.BATCH_TRANSFER: TRANSFER, ops.FREEZE: FREEZE, ops.UNFREEZE: FREEZE,
               ops.FORCED_TRANSFER: CLAWBACK, ops.SET_ROLES: RECONFIGURE, ops.DESTROY: DESTROY,
               ops.ALLOWLIST_SYNC: FREEZE}
_ASSET_MOVES = (ops.TRANSFER, ops.BATCH_TRANSFER, ops.FORCED_TRANSFER, ops.ALLOWLIST_SYNC)
"""Kinds after which receivers hold the asset (or may: a sync activates them): an opt-in step
first when some must opt in."""
_APP_KINDS = (ops.MINT, ops.BURN, ops.TRANSFER, ops.PAUSE, ops.UNPAUSE, ops.FORCED_TRANSFER, ops.TRANSFER_OWNERSHIP)


def transfers_per_part(standard: str) -> int:
    """How many transfers of a batch one part (atomic group) carries: transfer i is in part
    i // transfers_per_part (what the operation's recipient list shows)."""
    return APP_TRANSFERS_PER_GROUP if STANDARDS[standard].is_app else ASSET_TRANSFERS_PER_GROUP


def operation_transfers(kind: str, request: Mapping[str, Any]) -> list[algo.Transfer]:
    """(receiver, base units) the operation pays, in request order."""
    if kind == ops.BATCH_TRANSFER:
        return [(str(row["to"]), int(row["amount"])) for row in request["transfers"]]
    if kind in (ops.TRANSFER, ops.MINT, ops.FORCED_TRANSFER):
        return [(str(request["to"]), int(request["amount"]))]
    if request.get("balance_to_treasury"):  # a move to the treasury takes the issuer's balance along
        return [(str(request["treasury_address"]), int(request["balance_to_treasury"]))]
    return []


def operation_holders(kind: str, request: Mapping[str, Any], issuer: str) -> list[str]:
    """Addresses whose holding the read-back reports: the issuer, then everyone the operation touches."""
    holders = [issuer, *[to for to, _ in operation_transfers(kind, request)]]
    holders += [str(request[name]) for name in ("from", "address") if request.get(name)]
    holders += [str(a) for a in request.get("opt_ins") or []]
    if kind == ops.ALLOWLIST_SYNC:
        holders += [str(c["address"]) for c in request["changes"]]
    return list(dict.fromkeys(holders))


def _chunks(items: Sequence[algo.Transfer], size: int) -> list[list[algo.Transfer]]:
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


def _mismatch(expected: Any, on_chain: Any) -> dict[str, str]:
    return {"expected": str(expected), "on_chain": str(on_chain)}


def _plain(value: Any) -> Any:
    """JSON for the results: integers as strings (uint64 / uint256 do not fit a JSON number)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


SWEEP = "sweep"


class AlgorandOperationAdapter(AlgorandAdapter):
    # ------------------------------------------------------------------------------ steps
    def steps(self, job: ChainJob) -> list[str]:
        if job.operation == ops.NATIVE_SWEEP:
            return [SWEEP]
        spec, kind = STANDARDS[job.standard], job.operation
        if spec.is_asset:
            if kind not in _ASSET_STEP:
                raise ValidationFailed(f"{job.standard} has no {kind} operation on Algorand.")
            main = _ASSET_STEP[kind]
            if kind == ops.SET_ROLES and job.request.get("balance_to_treasury"):
                # A move to the treasury: its opt-in, the issuer's balance, then the roles (the
                # clawback needs the issuer to hold the role still).
                moved = CLAWBACK if job.request.get("balance_via") == "clawback" else TRANSFER
                return [*([OPT_IN] if job.request.get("opt_ins") else []), moved,
                        *([FREEZE] if job.request.get("treasury_unfreeze") else []), main]
            return [OPT_IN, main] if kind in _ASSET_MOVES and job.request.get("opt_ins") else [main]
        if kind == ops.BATCH_TRANSFER:
            return [TRANSFER]
        if kind == ops.TRANSFER_OWNERSHIP and job.request.get("balance_to_treasury"):
            # A move to the treasury: whitelisted first, the owner's forced transfer of its balance, then the owner.
            return [*([WHITELIST] if job.request.get("treasury_eligible_first") else []), ops.FORCED_TRANSFER, kind]
        if kind == ops.ALLOWLIST_SYNC:
            return [WHITELIST]
        if kind not in _APP_KINDS:
            raise ValidationFailed(f"{job.standard} has no {kind} operation on Algorand.")
        return [kind]

    def _sync_chunks(self, job: ChainJob) -> list[list[tuple[str, bool]]]:
        """(address, eligible) of an allowlist_sync, in parts of 16 freezes or 15 whitelist calls."""
        changes = [(str(c["address"]), bool(c["eligible"])) for c in job.request["changes"]]
        size = APP_TRANSFERS_PER_GROUP if STANDARDS[job.standard].is_app else ASSET_TRANSFERS_PER_GROUP
        return [changes[start:start + size] for start in range(0, len(changes), size)]

    def _transfer_chunks(self, job: ChainJob) -> list[list[algo.Transfer]]:
        return _chunks(operation_transfers(job.operation, job.request), transfers_per_part(job.standard))

    def part_count(self, job: ChainJob, step: str) -> int:
        if job.operation == ops.NATIVE_SWEEP:
            return 1
        if step == OPT_IN:
            return len(job.request.get("opt_ins") or [])
        if job.operation == ops.ALLOWLIST_SYNC:
            return len(self._sync_chunks(job))
        if job.operation == ops.BATCH_TRANSFER or (step == TRANSFER and STANDARDS[job.standard].is_asset):
            return len(self._transfer_chunks(job))
        return 1

    # ---------------------------------------------------------------------------- signing
    def prepare(self, job: ChainJob, step: str, *, skip_parts: frozenset[int] = frozenset()) -> list[SignedTx]:
        """Build every part not in `skip_parts` with one set of suggested params, fund the issuer for
        exactly what it signs (plus what its other unconfirmed transactions will spend), sign."""
        parts = [p for p in range(self.part_count(job, step)) if p not in skip_parts]
        if not parts:
            return []
        sp = algo.suggested_params(network=job.network)
        if job.operation == ops.NATIVE_SWEEP:
            return [self._sweep(job, sp)]
        try:
            built = [(part, *self._build(job, step, part, sp)) for part in parts]
        except ValueError as exc:  # the chain layer refuses before anything is signed
            raise ValidationFailed(f"Cannot {job.operation}: {exc}",
                                   details={"operation": job.operation, "step": step}) from None
        spends = [algo.spending(txns=txns, sender=job.sender) for _, txns, _ in built]
        algo.ensure_funded(network=job.network, address=job.sender,
                           needed_microalgos=sum(spends) + in_flight_cost(job))
        signers = {**job.co_signers, job.sender: job.signer}
        out = []
        for (part, txns, facts), spend in zip(built, spends, strict=True):
            signed = algo.sign_group_multi(signers=signers, txns=txns, reason=f"{job.operation} {job.id}")
            out.append(SignedTx(step=step, part=part, tx_id=signed.txid, signed_bytes=signed.raw,
                                sender=signed.sender, group_tx_ids=list(signed.txids),
                                first_valid=signed.first_valid, last_valid=signed.last_valid,
                                details={"spends": spend, **facts}))
        return out

    def _build(self, job: ChainJob, step: str, part: int,
               sp: transaction.SuggestedParams) -> tuple[list[transaction.Transaction], dict[str, Any]]:
        """The unsigned group of one part and the facts kept with it."""
        seed = f"{job.id}|{step}|{part}"
        request, kind, issuer = job.request, job.operation, job.sender
        if step == OPT_IN:
            return self._opt_in(job, str(request["opt_ins"][part]), sp, seed)
        if STANDARDS[job.standard].is_app:
            app_id = int(job.target["app_id"])
            if kind == ops.TRANSFER_OWNERSHIP and step != kind:  # a move to the treasury's balance steps
                treasury = str(request["treasury_address"])
                call, params = (("whitelist", {"address": treasury, "eligible": True}) if step == WHITELIST else
                                (ops.FORCED_TRANSFER, {"from": issuer, "to": treasury,
                                                       "amount": int(request["balance_to_treasury"]),
                                                       "justification": "moved to the organization treasury"}))
                return algo.app_operation_group(network=job.network, sp=sp, sender=issuer, app_id=app_id,
                                                standard=job.standard, kind=call, params=params,
                                                lease_seed=seed), {}
            if kind == ops.ALLOWLIST_SYNC:
                groups = algo.app_whitelist_groups(network=job.network, sp=sp, sender=issuer, app_id=app_id,
                                                   standard=job.standard, changes=self._sync_chunks(job)[part],
                                                   lease_seed=seed)
                if len(groups) != 1:  # 15 calls and a payment always fit in one group
                    raise ValueError(f"part {part} did not fit one group")
                return groups[0], {}
            if kind == ops.BATCH_TRANSFER:
                chunk = self._transfer_chunks(job)[part]
                groups = algo.app_transfer_groups(network=job.network, sp=sp, sender=issuer, app_id=app_id,
                                                  standard=job.standard, transfers=chunk, lease_seed=seed)
                if len(groups) != 1:  # 15 calls and a payment always fit in one group
                    raise ValueError(f"part {part} did not fit one group")
                return groups[0], self._range_facts(job, part, len(chunk))
            group = algo.app_operation_group(network=job.network, sp=sp, sender=issuer, app_id=app_id,
                                             standard=job.standard, kind=kind, params=self._app_params(job),
                                             lease_seed=seed)
            return group, {}
        asset_id = int(job.target["asset_id"])
        if step == TRANSFER:
            chunk = self._transfer_chunks(job)[part]
            groups = algo.asset_transfer_groups(sp=sp, sender=issuer, asset_id=asset_id, transfers=chunk,
                                                lease_seed=seed)
            return groups[0], self._range_facts(job, part, len(chunk))
        if step == FREEZE and kind == ops.ALLOWLIST_SYNC:
            freezes = [(address, not eligible) for address, eligible in self._sync_chunks(job)[part]]
            return algo.asset_freeze_groups(sp=sp, sender=issuer, asset_id=asset_id, changes=freezes,
                                            lease_seed=seed)[0], {}
        if step == FREEZE and kind == ops.SET_ROLES:  # a move to the treasury: its holding sends
            return transaction.assign_group_id([algo.asset_freeze_txn(
                sp=sp, sender=issuer, asset_id=asset_id, target=str(request["treasury_address"]), frozen=False,
                lease_seed=seed)]), {}
        if step == FREEZE:
            txn: transaction.Transaction = algo.asset_freeze_txn(
                sp=sp, sender=issuer, asset_id=asset_id, target=str(request["address"]),
                frozen=kind == ops.FREEZE, lease_seed=seed)
        elif step == CLAWBACK and kind == ops.SET_ROLES:  # a move to the treasury: the issuer's own holding
            txn = algo.asset_clawback_txn(sp=sp, sender=issuer, asset_id=asset_id, owner=issuer,
                                          receiver=str(request["treasury_address"]),
                                          amount=int(request["balance_to_treasury"]), lease_seed=seed)
        elif step == CLAWBACK:
            txn = algo.asset_clawback_txn(sp=sp, sender=issuer, asset_id=asset_id, owner=str(request["from"]),
                                          receiver=str(request["to"]), amount=int(request["amount"]),
                                          lease_seed=seed)
        elif step == RECONFIGURE:
            current = algo.read_asset_state(network=job.network, asset_id=asset_id)
            if current["deleted"]:
                raise ValueError(f"asset {asset_id} no longer exists")
            changes = {role: request[role] for role in algo.ROLES if role in request}
            txn = algo.asset_reconfigure_txn(sp=sp, sender=issuer, asset_id=asset_id,
                                             current={role: current[role] for role in algo.ROLES},
                                             changes=changes, lease_seed=seed)
        elif step == DESTROY:
            txn = algo.asset_destroy_txn(sp=sp, sender=issuer, asset_id=asset_id, lease_seed=seed)
        else:
            raise ValueError(f"unknown step {step!r}")
        return transaction.assign_group_id([txn]), {}

    def _sweep(self, job: ChainJob, sp: transaction.SuggestedParams) -> SignedTx:
        """A retired account's ALGO to the new account (`algo.native_sweep_plan`, read now): never
        funded, the payment is computed from the live balance so only what the protocol keeps stays."""
        to = str(job.request["to"])
        plan = algo.native_sweep_plan(network=job.network, sender=job.sender, to=to, fee=int(sp.min_fee or 0))
        txns = algo.native_sweep_group(sp=sp, sender=job.sender, to=to, plan=plan, lease_seed=f"{job.id}|{SWEEP}|0")
        signed = algo.sign_group_multi(signers={job.sender: job.signer}, txns=txns,
                                       reason=f"{job.operation} {job.id}")
        facts = {"amount": plan["amount"], "close": plan["close"], "keeps": plan["keeps"],
                 "close_outs": [{"asset_id": a, "close_to": c} for a, c in plan["close_outs"]]}
        return SignedTx(step=SWEEP, part=0, tx_id=signed.txid, signed_bytes=signed.raw, sender=signed.sender,
                        group_tx_ids=list(signed.txids), first_valid=signed.first_valid, last_valid=signed.last_valid,
                        details={"spends": int(plan["balance"]) - int(plan["keeps"]), **_plain(facts)})

    def _opt_in(self, job: ChainJob, holder: str, sp: transaction.SuggestedParams,
                seed: str) -> tuple[list[transaction.Transaction], dict[str, Any]]:
        """The holder's opt-in, after the issuer's top-up of what it needs to afford it (read now)."""
        if holder not in job.co_signers:
            raise ValueError(f"{holder} must opt in to the asset first and is not a platform user who can")
        asset_id = int(job.target["asset_id"])
        fee = algo.MIN_FEE
        while True:  # the fee is flat unless the network is congested; top up for the one it takes
            top_up = algo.opt_in_top_up(network=job.network, holder=holder, fee=fee)
            group = algo.asset_opt_in_group(sp=sp, funder=job.sender, holder=holder, asset_id=asset_id,
                                            top_up=top_up, lease_seed=seed)
            if int(group[-1].fee) <= fee:
                return group, {"holder": holder, "top_up": top_up}
            fee = int(group[-1].fee)

    def _range_facts(self, job: ChainJob, part: int, count: int) -> dict[str, Any]:
        first = part * transfers_per_part(job.standard)
        return {"transfers": [first, first + count]}

    def _app_params(self, job: ChainJob) -> dict[str, Any]:
        """The request in the chain layer's terms (amounts as integers)."""
        request, kind = job.request, job.operation
        if kind in (ops.MINT, ops.TRANSFER):
            return {"to": str(request["to"]), "amount": int(request["amount"])}
        if kind == ops.BURN:
            return {"amount": int(request["amount"])}
        if kind == ops.FORCED_TRANSFER:
            params: dict[str, Any] = {"from": str(request["from"]), "to": str(request["to"]),
                                      "amount": int(request["amount"])}
            if request.get("reason"):
                params["justification"] = str(request["reason"])
            return params
        if kind == ops.TRANSFER_OWNERSHIP:
            return {"new_owner": str(request["new_owner"])}
        return {}

    # ------------------------------------------------------------------------ broadcast / check
    def broadcast(self, job: ChainJob, tx: StoredTx) -> None:
        """Send the stored group; a final refusal by the node is left for `check` to report as this
        part's failure (see the module docstring). Retryable refusals (lease in use, not valid yet,
        insufficient funds) and an unreachable node still raise."""
        try:
            super().broadcast(job, tx)
        except TransactionFailed as exc:
            if exc.retryable:
                raise

    def check(self, job: ChainJob, tx: StoredTx) -> TxState:
        state = super().check(job, tx)
        if state.state != "unknown":
            return state
        try:  # the node does not know it: a refused group, or a node that lost its pool
            super().broadcast(job, tx)
        except TransactionExpired as exc:
            return TxState("expired", info=dict(exc.details or {}), message=exc.message)
        except TransactionFailed as exc:
            if exc.retryable:
                raise
            return TxState("failed", info=dict(exc.details or {}), message=exc.message)
        return TxState("pending")

    def created_anyway(self, job: ChainJob, tx: StoredTx, *, claimed: ClaimedIds) -> dict[str, Any] | None:
        return None

    def step_results(self, job: ChainJob, tx: StoredTx, state: TxState) -> dict[str, Any]:
        return {}

    # ---------------------------------------------------------------------------- read back
    def read_back(self, job: ChainJob) -> dict[str, Any]:
        """The token after the operation, checked where the operation fixes it: TransactionFailed
        with details {"mismatched": {...}} when the chain does not show the effect."""
        if job.operation == ops.NATIVE_SWEEP:
            return self._read_back_sweep(job)
        if STANDARDS[job.standard].is_app:
            return self._read_back_app(job)
        return self._read_back_asset(job)

    def _read_back_sweep(self, job: ChainJob) -> dict[str, Any]:
        """The retired account holds only what the protocol keeps: 0 once closed, else exactly its
        minimum balance."""
        info = algo.account_info(network=job.network, address=job.sender)
        left, minimum = int(info.get("amount") or 0), int(info.get("min-balance") or 0)
        closed = left == 0
        if left and left != minimum:
            self._raise_if({f"{job.sender}.amount": _mismatch(f"0 or {minimum}", left)})
        return {"left": str(left), "closed": closed, "to": str(job.request["to"]),
                "to_balance": str(algo.get_balance(network=job.network, address=str(job.request["to"])))}

    def _read_back_asset(self, job: ChainJob) -> dict[str, Any]:
        request, kind, network = job.request, job.operation, job.network
        asset_id = int(job.target["asset_id"])
        state = algo.read_asset_state(network=network, asset_id=asset_id)
        holdings = {} if state["deleted"] else {
            address: algo.read_asset_holding(network=network, asset_id=asset_id, address=address)
            for address in operation_holders(kind, request, job.sender)}
        wrong: dict[str, dict[str, str]] = {}
        if kind == ops.DESTROY and not state["deleted"]:
            wrong["deleted"] = _mismatch(True, False)
        elif state["deleted"] and kind != ops.DESTROY:
            wrong["deleted"] = _mismatch(False, True)
        elif kind == ops.ALLOWLIST_SYNC:
            wrong |= {f"{c['address']}.frozen": _mismatch(not c["eligible"], holdings[str(c["address"])]["frozen"])
                      for c in request["changes"] if holdings[str(c["address"])]["frozen"] == c["eligible"]}
        elif kind in (ops.FREEZE, ops.UNFREEZE):
            frozen = holdings[str(request["address"])]["frozen"]
            if frozen != (kind == ops.FREEZE):
                wrong[f"{request['address']}.frozen"] = _mismatch(kind == ops.FREEZE, frozen)
        elif kind == ops.SET_ROLES:
            wrong |= {role: _mismatch(request[role], state[role]) for role in algo.ROLES
                      if role in request and state[role] != (request[role] or "")}
            treasury = str(request.get("treasury_address") or "")
            if request.get("treasury_unfreeze") and holdings[treasury]["frozen"]:
                wrong[f"{treasury}.frozen"] = _mismatch(False, True)
        wrong |= self._short_paid(job, {a: int(h["balance"]) for a, h in holdings.items()})
        self._raise_if(wrong)
        return {"state": _plain(state), "holdings": _plain(holdings)}

    def _read_back_app(self, job: ChainJob) -> dict[str, Any]:
        request, kind, network = job.request, job.operation, job.network
        app_id = int(job.target["app_id"])
        state = algo.read_app_token_state(network=network, app_id=app_id, standard=job.standard)
        holders = [job.sender] if kind == ops.ALLOWLIST_SYNC else operation_holders(kind, request, job.sender)
        balances = {address: algo.arc200_balance_of(network=network, app_id=app_id, address=address)
                    for address in holders}
        wrong: dict[str, dict[str, str]] = {}
        if kind in (ops.PAUSE, ops.UNPAUSE) and state["paused"] != (kind == ops.PAUSE):
            wrong["paused"] = _mismatch(kind == ops.PAUSE, state["paused"])
        if kind == ops.TRANSFER_OWNERSHIP and state["owner"] != request["new_owner"]:
            wrong["owner"] = _mismatch(request["new_owner"], state["owner"])
        if kind == ops.ALLOWLIST_SYNC:
            listed = {str(c["address"]): algo.arc1400_is_whitelisted(network=network, app_id=app_id,
                                                                     address=str(c["address"]))
                      for c in request["changes"]}
            wrong |= {f"{a}.whitelisted": _mismatch(c["eligible"], listed[a])
                      for c in request["changes"] if listed[a := str(c["address"])] != c["eligible"]}
        wrong |= self._short_paid(job, balances)
        self._raise_if(wrong)
        return {"state": _plain(state), "balances": _plain(balances)}

    def _short_paid(self, job: ChainJob, balances: Mapping[str, int]) -> dict[str, dict[str, str]]:
        """Receivers holding less than the operation paid them (a floor: they may have held some)."""
        owed: dict[str, int] = {}
        for to, amount in operation_transfers(job.operation, job.request):
            owed[to] = owed.get(to, 0) + amount
        return {f"{to}.balance": _mismatch(f">= {amount}", balances.get(to, 0))
                for to, amount in owed.items() if to != job.sender and balances.get(to, 0) < amount}

    @staticmethod
    def _raise_if(wrong: Mapping[str, Any]) -> None:
        if wrong:
            raise TransactionFailed("The token on chain does not show the operation's effect.",
                                    details={"mismatched": dict(wrong)})

