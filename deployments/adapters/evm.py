"""EVM adapter: one contract-creation transaction per deployment (ERC-20 mintable / preminted)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from biatec.core.errors import TransactionVanished
from tokens.chains import evm
from tokens.chains.evm_reads import pending_nonce, read_erc20
from tokens.chains.evm_replacement import replacement_transaction_prepare
from tokens.networks import Network
from tokens.standards import STANDARDS

from .base import ChainJob, ClaimedIds, SignedTx, StoredTx, TxState, read_back_compare


class EvmAdapter:
    what = "contract creation"

    def steps(self, job: ChainJob) -> list[str]:
        return list(STANDARDS[job.standard].steps)

    def part_count(self, job: ChainJob, step: str) -> int:
        return 1

    def poll_batch(self, *, network: Network, tx_ids: list[str]) -> set[str]:
        """Batched receipt polling: which of `tx_ids` have a receipt, in one JSON-RPC batch."""
        receipts = evm.get_receipts(network=network, tx_hashes=tx_ids)
        return {tx_id for tx_id, receipt in receipts.items() if receipt is not None}

    def prepare(self, job: ChainJob, step: str, *, skip_parts: frozenset[int] = frozenset()) -> list[SignedTx]:
        signed = evm.deploy_transaction_prepare(
            sender=job.sender, signer=job.signer, network=job.network, standard=job.standard,
            params=dict(job.request), reason=f"deployment {job.id}",
        )
        return [SignedTx(step=step, tx_id=signed.tx_hash, signed_bytes=signed.raw, sender=signed.sender,
                         nonce=signed.nonce, details={"contract_address": signed.contract_address,
                                                      "chain_id": signed.chain_id})]

    def broadcast(self, job: ChainJob, tx: StoredTx) -> None:
        evm.broadcast(network=job.network, raw=tx.signed_bytes)

    def replacement(self, job: ChainJob, tx: StoredTx, *, stuck: bool = False) -> SignedTx | None:
        """Optional capability (stuck transactions): once `tx` has waited EVM_STUCK_TX_SECONDS unmined
        (or at once when the caller knows it is `stuck`: the node refused it under the base fee), the
        same transaction with both fees bumped (same nonce); None while it is not stuck. Raises
        FeeCapExceeded over EVM_MAX_TOTAL_FEE_WEI (tokens/chains/evm_replacement.py)."""
        if tx.nonce is None or tx.created_at is None:
            return None
        if not stuck and (timezone.now() - tx.created_at).total_seconds() < settings.EVM_STUCK_TX_SECONDS:
            return None
        signed = replacement_transaction_prepare(signer=job.signer, network=job.network, raw=tx.signed_bytes,
                                                 reason=f"{job.operation or 'deployment'} {job.id}: "
                                                        f"replace stuck {tx.tx_id}")
        return SignedTx(step=tx.step, tx_id=signed.tx_hash, signed_bytes=signed.raw, sender=signed.sender,
                        nonce=signed.nonce, details={**tx.details, "replaces": tx.tx_id,
                                                     "max_fee_per_gas": str(signed.max_fee_per_gas),
                                                     "max_priority_fee_per_gas": str(signed.max_priority_fee_per_gas)})

    def check(self, job: ChainJob, tx: StoredTx) -> TxState:
        return self._state(job, tx, evm.get_receipt(network=job.network, tx_hash=tx.tx_id))

    def check_many(self, job: ChainJob, txs: list[StoredTx]) -> dict[str, TxState]:
        """Optional capability: `check` of many transactions (a batch's parts), their receipts in
        one JSON-RPC batch; only those without a receipt cost further calls (pending, dead or lost)."""
        receipts = evm.get_receipts(network=job.network, tx_hashes=[tx.tx_id for tx in txs])
        return {tx.tx_id: self._state(job, tx, receipts.get(tx.tx_id)) for tx in txs}

    def _state(self, job: ChainJob, tx: StoredTx, receipt: dict[str, Any] | None) -> TxState:
        network = job.network
        if receipt is not None:
            if receipt["status"] == 1:
                return TxState("confirmed", confirmed_in=receipt["block_number"], info=receipt)
            return TxState("failed", confirmed_in=receipt["block_number"],
                           info={"tx_hash": tx.tx_id, "gas_used": receipt["gas_used"],
                                 "effective_gas_price": receipt["effective_gas_price"]},
                           message=f"The {self.what} reverted on {network.name} "
                                   f"in block {receipt['block_number']}.")
        if evm.transaction_known(network=network, tx_hash=tx.tx_id):
            return TxState("pending")
        if tx.nonce is not None and pending_nonce(network=network, address=tx.sender) > tx.nonce:
            # Our nonce is used and our transaction is not on chain: it can never land.
            return TxState("dead", info={"nonce": tx.nonce, "reason": "nonce_used"},
                           message=f"Nonce {tx.nonce} was used by another transaction.")
        return TxState("unknown")

    def fee(self, job: ChainJob, tx: StoredTx, state: TxState) -> tuple[int, str] | None:
        """Optional capability (metering): what the mined transaction paid, reverted or not, from its
        receipt: gasUsed x effectiveGasPrice, in wei."""
        info = state.info
        if state.state not in ("confirmed", "failed") or info.get("gas_used") is None:
            return None
        return int(info["gas_used"]) * int(info.get("effective_gas_price") or 0), "wei"

    def created_anyway(self, job: ChainJob, tx: StoredTx, *, claimed: ClaimedIds) -> dict[str, Any] | None:
        return None  # EVM transactions do not expire: `check` never answers "expired"

    def step_results(self, job: ChainJob, tx: StoredTx, state: TxState) -> dict[str, Any]:
        receipt = state.info
        return {"contract_address": receipt.get("contract_address"), "block_number": receipt.get("block_number"),
                "block_hash": receipt.get("block_hash"), "gas_used": receipt.get("gas_used"),
                "chain_id": job.network.chain_id, "sender": tx.sender}

    def is_final(self, job: ChainJob, tx: StoredTx) -> bool:
        network = job.network
        receipt = evm.get_receipt(network=network, tx_hash=tx.tx_id)
        if receipt is None:  # reorged out, or the node's chain was reset: the pipeline sends it again
            raise TransactionVanished(f"Transaction {tx.tx_id} is no longer in the {network.name} chain.",
                                      details={"network": network.slug, "tx_hash": tx.tx_id})
        return evm.confirmations(network=network, receipt=receipt) >= network.required_confirmations

    def read_back(self, job: ChainJob) -> dict[str, Any]:
        request, results = job.request, job.results
        address = results["contract_address"]
        receiver: str = request.get("receiver") or results["sender"]
        token = read_erc20(network=job.network, address=address, receiver=receiver)
        expected = STANDARDS[job.standard].expected_on_chain(request=dict(request), results=dict(results))
        return {"token": read_back_compare(token, expected, address=address), "receiver": receiver}
