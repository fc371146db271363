"""EVM adapter: one contract-creation transaction per deployment (ERC-20 mintable / preminted)."""
from __future__ import annotations

from typing import Any

from biatec.core.errors import ChainUnavailable, TransactionFailed
from tokens.chains import evm
from tokens.chains.evm_reads import pending_nonce, read_erc20
from tokens.networks import Network, get_network
from tokens.standards import STANDARDS

from ..models import Deployment, DeploymentTransaction
from .base import SignedTx, TxState


class EvmAdapter:
    def steps(self, deployment: Deployment) -> list[str]:
        return list(STANDARDS[deployment.standard].steps)

    def poll_batch(self, *, network: Network, tx_ids: list[str]) -> set[str]:
        """Batched receipt polling: which of `tx_ids` have a receipt, in one JSON-RPC batch."""
        receipts = evm.get_receipts(network=network, tx_hashes=tx_ids)
        return {tx_id for tx_id, receipt in receipts.items() if receipt is not None}

    def prepare(self, deployment: Deployment, step: str) -> list[SignedTx]:
        network = get_network(deployment.network)
        signed = evm.deploy_transaction_prepare(
            user=deployment.creator, network=network, standard=deployment.standard, params=deployment.request,
            reason=f"deployment {deployment.pk}",
        )
        return [SignedTx(step=step, tx_id=signed.tx_hash, signed_bytes=signed.raw, sender=signed.sender,
                         nonce=signed.nonce, details={"contract_address": signed.contract_address,
                                                      "chain_id": signed.chain_id})]

    def broadcast(self, tx: DeploymentTransaction) -> None:
        evm.broadcast(network=get_network(tx.network), raw=bytes(tx.signed_bytes))

    def check(self, tx: DeploymentTransaction) -> TxState:
        network = get_network(tx.network)
        receipt = evm.get_receipt(network=network, tx_hash=tx.tx_id)
        if receipt is not None:
            if receipt["status"] == 1:
                return TxState("confirmed", confirmed_in=receipt["block_number"], info=receipt)
            return TxState("failed", confirmed_in=receipt["block_number"], info={"tx_hash": tx.tx_id},
                           message=f"The contract creation reverted on {network.name} "
                                   f"in block {receipt['block_number']}.")
        if evm.transaction_known(network=network, tx_hash=tx.tx_id):
            return TxState("pending")
        if tx.nonce is not None and pending_nonce(network=network, address=tx.sender) > tx.nonce:
            # Our nonce is used and our transaction is not on chain: it can never land.
            return TxState("dead", info={"nonce": tx.nonce, "reason": "nonce_used"},
                           message=f"Nonce {tx.nonce} was used by another transaction.")
        return TxState("unknown")

    def step_results(self, deployment: Deployment, tx: DeploymentTransaction, state: TxState) -> dict[str, Any]:
        receipt = state.info
        return {"contract_address": receipt.get("contract_address"), "block_number": receipt.get("block_number"),
                "block_hash": receipt.get("block_hash"), "gas_used": receipt.get("gas_used"),
                "chain_id": get_network(deployment.network).chain_id, "sender": tx.sender}

    def is_final(self, deployment: Deployment, tx: DeploymentTransaction) -> bool:
        network = get_network(deployment.network)
        receipt = evm.get_receipt(network=network, tx_hash=tx.tx_id)
        if receipt is None:  # reorged out: wait (the pipeline keeps polling)
            raise ChainUnavailable("The confirmed transaction is no longer in the chain (reorg); waiting.")
        return evm.confirmations(network=network, receipt=receipt) >= network.required_confirmations

    def read_back(self, deployment: Deployment) -> dict[str, Any]:
        network = get_network(deployment.network)
        request = deployment.request
        address = deployment.results["contract_address"]
        receiver = request.get("receiver") or deployment.results.get("sender")
        token = read_erc20(network=network, address=address, receiver=receiver)
        expected = STANDARDS[deployment.standard].expected_on_chain(request=request, results=deployment.results)
        mismatched = {k: {"expected": str(v), "on_chain": str(token.get(k))}
                      for k, v in expected.items() if token.get(k) != v}
        if mismatched:
            raise TransactionFailed("The token on chain does not match the request.",
                                    details={"mismatched": mismatched, "address": address})
        return {"token": {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                          for k, v in token.items()}, "receiver": receiver}
