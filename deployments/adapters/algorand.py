"""Algorand adapter: ASA / ARC-3 (one asset-create transaction) and ARC-200 / ARC-1400 (app create,
then one atomic group funding the app account and calling `bootstrap`)."""
from __future__ import annotations

import base64
from typing import Any

from algosdk.logic import get_application_address

from biatec.core.errors import TransactionFailed
from tokens.chains import algorand as algo
from tokens.chains.arc3 import arc3_asset_params, arc3_pin, arc3_prepare
from tokens.contracts.avm import load_artifact
from tokens.networks import get_network
from tokens.standards import STANDARDS

from ..models import Deployment, DeploymentTransaction
from .base import SignedTx, TxState


class AlgorandAdapter:
    def steps(self, deployment: Deployment) -> list[str]:
        return list(algo.deployment_steps(deployment.standard))

    def _params(self, deployment: Deployment, step: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Chain parameters of the step and facts to keep (ARC-3: the pinned metadata)."""
        params = dict(deployment.request)
        facts: dict[str, Any] = {}
        if STANDARDS[deployment.standard].arc3_metadata and step == algo.ASSET_CREATE:
            document = arc3_prepare(standard=deployment.standard, params=params)
            arc3_pin(document=document)  # the pinning service must answer the locally computed CID
            params = arc3_asset_params(params=params, document=document)
            facts = {"metadata_cid": document.cid, "metadata_url": document.url,
                     "metadata_hash": document.metadata_hash_b64}
        return params, facts

    def prepare(self, deployment: Deployment, step: str) -> list[SignedTx]:
        network = get_network(deployment.network)
        sender = deployment.creator.algorand_address
        params, facts = self._params(deployment, step)
        algo.ensure_funded(network=network, address=sender,
                           needed_microalgos=algo.step_cost(standard=deployment.standard, step=step))
        sp = algo.suggested_params(network=network)
        txns = algo.build_deployment_step(sp=sp, standard=deployment.standard, step=step, params=params,
                                          sender=sender, deployment_id=deployment.pk,
                                          app_id=deployment.results.get("app_id"))
        signed = algo.sign_transactions(user=deployment.creator, txns=txns, reason=f"deployment {deployment.pk}")
        return [SignedTx(step=step, tx_id=signed.txid, signed_bytes=signed.raw, sender=sender,
                         group_tx_ids=list(signed.txids), first_valid=signed.first_valid,
                         last_valid=signed.last_valid, details=facts)]

    def broadcast(self, tx: DeploymentTransaction) -> None:
        algo.broadcast(network=get_network(tx.network), raw=bytes(tx.signed_bytes))

    def check(self, tx: DeploymentTransaction) -> TxState:
        network = get_network(tx.network)
        status = algo.transaction_status(network=network, txid=tx.tx_id, last_valid=int(tx.last_valid or 0))
        info = {"asset_id": status.asset_id, "app_id": status.app_id, "confirmed_round": status.confirmed_round}
        if status.state == algo.CONFIRMED:
            return TxState("confirmed", confirmed_in=status.confirmed_round, info=info)
        if status.state == algo.FAILED:
            return TxState("failed", info={"pool_error": status.pool_error},
                           message=f"The node dropped the transaction: {status.pool_error}")
        if status.state == algo.EXPIRED:
            found = self._created_anyway(tx)
            if found:  # a node that forgot old pending info: the creation did land
                return TxState("confirmed", confirmed_in=None, info=found)
            return TxState("dead", info={"last_valid": tx.last_valid, "current_round": status.current_round},
                           message=f"Round {status.current_round} is past the transaction's last valid round "
                                   f"{tx.last_valid}; it can never be included.")
        if status.info is None:
            return TxState("unknown")  # the node does not know it (restart): re-broadcast the same bytes
        return TxState("pending")

    def _created_anyway(self, tx: DeploymentTransaction) -> dict[str, Any] | None:
        """Before declaring a creation dead, look at what the sender created: a real algod forgets
        pending info of old transactions, so "expired" alone does not prove it never landed."""
        deployment = tx.deployment
        network = get_network(tx.network)
        account = algo.account_created(network=network, address=tx.sender)
        claimed_assets = set(Deployment.objects.exclude(pk=deployment.pk).filter(
            network=deployment.network, results__asset_id__isnull=False).values_list("results__asset_id", flat=True))
        if tx.step == algo.ASSET_CREATE:
            request = deployment.request
            for asset in account.get("created-assets", []):
                params = asset.get("params", {})
                if (asset["index"] not in claimed_assets and params.get("name") == request.get("name")
                        and params.get("unit-name") == request.get("unit_name")
                        and str(params.get("total")) == str(request.get("total"))):
                    return {"asset_id": asset["index"], "app_id": None, "confirmed_round": None}
        if tx.step == algo.APP_CREATE:
            contract = str(STANDARDS[deployment.standard].contract)
            approval = base64.b64encode(load_artifact(contract)["approval"]).decode()
            claimed_apps = set(Deployment.objects.exclude(pk=deployment.pk).filter(
                network=deployment.network, results__app_id__isnull=False).values_list("results__app_id", flat=True))
            for app in account.get("created-apps", []):
                if app["id"] not in claimed_apps and app.get("params", {}).get("approval-program") == approval:
                    return {"asset_id": None, "app_id": app["id"], "confirmed_round": None}
        return None

    def step_results(self, deployment: Deployment, tx: DeploymentTransaction, state: TxState) -> dict[str, Any]:
        info = state.info
        if tx.step == algo.ASSET_CREATE:
            return {"asset_id": info["asset_id"], "confirmed_round": info["confirmed_round"],
                    "creator": tx.sender, **tx.details}
        if tx.step == algo.APP_CREATE:
            return {"app_id": info["app_id"], "app_address": get_application_address(int(info["app_id"])),
                    "confirmed_round": info["confirmed_round"], "creator": tx.sender}
        return {f"{tx.step}_round": info["confirmed_round"]}

    def is_final(self, deployment: Deployment, tx: DeploymentTransaction) -> bool:
        return True  # Algorand blocks are final once confirmed

    def read_back(self, deployment: Deployment) -> dict[str, Any]:
        network = get_network(deployment.network)
        request, results = deployment.request, deployment.results
        spec = STANDARDS[deployment.standard]
        if spec.is_asset:
            token = algo.read_asset(network=network, asset_id=int(results["asset_id"]))
        else:
            receiver = request.get("receiver") or deployment.creator.algorand_address
            token = algo.read_arc200(network=network, app_id=int(results["app_id"]), holder=receiver)
        expected = spec.expected_on_chain(request=request, results=results)
        mismatched = {k: {"expected": str(v), "on_chain": str(token.get(k))}
                      for k, v in expected.items() if token.get(k) != v}
        if mismatched:
            raise TransactionFailed("The token on chain does not match the request.",
                                    details={"mismatched": mismatched})
        return {"token": {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                          for k, v in token.items()}}
