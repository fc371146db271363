"""Algorand adapter: ASA / ARC-3 (one asset-create transaction) and ARC-200 / ARC-1400 (app create,
then one atomic group funding the app account and calling `bootstrap`)."""
from __future__ import annotations

import base64
from typing import Any

from algosdk.logic import get_application_address

from tokens.chains import algorand as algo
from tokens.chains.arc3 import arc3_asset_params, arc3_pin, arc3_prepare
from tokens.contracts.avm import load_artifact
from tokens.standards import STANDARDS

from .base import ChainJob, ClaimedIds, SignedTx, StoredTx, TxState, read_back_compare


def in_flight_cost(job: ChainJob) -> int:
    """microAlgos the sender's other signed, unconfirmed transactions will still spend."""
    return sum(cost if cost is not None else algo.step_cost(standard=standard, step=step)
               for standard, step, cost in job.in_flight)


class AlgorandAdapter:
    def steps(self, job: ChainJob) -> list[str]:
        return list(algo.deployment_steps(job.standard))

    def part_count(self, job: ChainJob, step: str) -> int:
        return 1

    def _params(self, job: ChainJob, step: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Chain parameters of the step and facts to keep (ARC-3: the pinned metadata)."""
        params = dict(job.request)
        facts: dict[str, Any] = {}
        if STANDARDS[job.standard].arc3_metadata and step == algo.ASSET_CREATE:
            document = arc3_prepare(standard=job.standard, params=params)
            arc3_pin(document=document)  # the pinning service must answer the locally computed CID
            params = arc3_asset_params(params=params, document=document)
            facts = {"metadata_cid": document.cid, "metadata_url": document.url,
                     "metadata_hash": document.metadata_hash_b64}
        return params, facts

    def prepare(self, job: ChainJob, step: str, *, skip_parts: frozenset[int] = frozenset()) -> list[SignedTx]:
        params, facts = self._params(job, step)
        signed = algo.deployment_step_prepare(
            network=job.network, standard=job.standard, step=step, params=params, sender=job.sender,
            signer=job.signer, deployment_id=job.id, app_id=job.results.get("app_id"),
            reason=f"deployment {job.id}",
            also_spending=in_flight_cost(job),
        )
        return [SignedTx(step=step, tx_id=signed.txid, signed_bytes=signed.raw, sender=job.sender,
                         group_tx_ids=list(signed.txids), first_valid=signed.first_valid,
                         last_valid=signed.last_valid, details=facts)]

    def broadcast(self, job: ChainJob, tx: StoredTx) -> None:
        algo.broadcast(network=job.network, raw=tx.signed_bytes)

    def check(self, job: ChainJob, tx: StoredTx) -> TxState:
        status = algo.transaction_status(network=job.network, txid=tx.tx_id, last_valid=int(tx.last_valid or 0))
        info = {"asset_id": status.asset_id, "app_id": status.app_id, "confirmed_round": status.confirmed_round}
        if status.state == algo.CONFIRMED:
            return TxState("confirmed", confirmed_in=status.confirmed_round, info=info)
        if status.state == algo.FAILED:
            return TxState("failed", info={"pool_error": status.pool_error},
                           message=f"The node dropped the transaction: {status.pool_error}")
        if status.state == algo.EXPIRED:
            return TxState("expired", info={"last_valid": tx.last_valid, "current_round": status.current_round},
                           message=f"Round {status.current_round} is past the transaction's last valid round "
                                   f"{tx.last_valid}; it can never be included.")
        if status.info is None:
            return TxState("unknown")  # the node does not know it (restart): re-broadcast the same bytes
        return TxState("pending")

    def fee(self, job: ChainJob, tx: StoredTx, state: TxState) -> tuple[int, str] | None:
        """Optional capability (metering): what a confirmed group paid, the sum of its transactions'
        fee fields (Algorand charges exactly the fee set at signing), in microalgos. A group the
        node refused (`failed`) paid nothing."""
        if state.state != "confirmed":
            return None
        return sum(int(stx.transaction.fee or 0) for stx in algo.decode_signed(tx.signed_bytes)), "microalgo"

    def created_anyway(self, job: ChainJob, tx: StoredTx, *, claimed: ClaimedIds) -> dict[str, Any] | None:
        """Before declaring a creation dead, look at what the sender created: a real algod forgets
        pending info of old transactions, so "expired" alone does not prove it never landed. Ids
        already claimed by other jobs on the network are not ours."""
        account = algo.account_created(network=job.network, address=tx.sender)
        if tx.step == algo.ASSET_CREATE:
            request = job.request
            for asset in account.get("created-assets", []):
                params = asset.get("params", {})
                if (asset["index"] not in claimed.asset_ids and params.get("name") == request.get("name")
                        and params.get("unit-name") == request.get("unit_name")
                        and str(params.get("total")) == str(request.get("total"))):
                    return {"asset_id": asset["index"], "app_id": None, "confirmed_round": None}
        if tx.step == algo.APP_CREATE:
            contract = str(STANDARDS[job.standard].contract)
            approval = base64.b64encode(load_artifact(contract)["approval"]).decode()
            for app in account.get("created-apps", []):
                if app["id"] not in claimed.app_ids and app.get("params", {}).get("approval-program") == approval:
                    return {"asset_id": None, "app_id": app["id"], "confirmed_round": None}
        return None

    def step_results(self, job: ChainJob, tx: StoredTx, state: TxState) -> dict[str, Any]:
        info = state.info
        if tx.step == algo.ASSET_CREATE:
            return {"asset_id": info["asset_id"], "confirmed_round": info["confirmed_round"],
                    "creator": tx.sender, **tx.details}
        if tx.step == algo.APP_CREATE:
            return {"app_id": info["app_id"], "app_address": get_application_address(int(info["app_id"])),
                    "confirmed_round": info["confirmed_round"], "creator": tx.sender}
        return {f"{tx.step}_round": info["confirmed_round"]}

    def is_final(self, job: ChainJob, tx: StoredTx) -> bool:
        return True  # Algorand blocks are final once confirmed

    def read_back(self, job: ChainJob) -> dict[str, Any]:
        request, results = job.request, job.results
        spec = STANDARDS[job.standard]
        if spec.is_asset:
            token = algo.read_asset(network=job.network, asset_id=int(results["asset_id"]))
        else:
            receiver = request.get("receiver") or job.sender
            token = algo.read_arc200(network=job.network, app_id=int(results["app_id"]), holder=receiver)
        expected = spec.expected_on_chain(request=dict(request), results=dict(results))
        return {"token": read_back_compare(token, expected)}
