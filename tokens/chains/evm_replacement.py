"""Stuck EVM transactions: a replacement with the same nonce and higher fees.

A broadcast transaction that is still not mined `EVM_STUCK_TX_SECONDS` after it was signed (its fees
fell behind the base fee, say) is replaced: the same transaction (nonce, gas, destination, value,
data) with `maxFeePerGas` and `maxPriorityFeePerGas` both raised by `EVM_REPLACEMENT_FEE_BUMP_PERCENT`
(never less than the 10 % nodes require to accept a replacement), and at least what the node
currently asks for. Both transactions hold the same nonce, so at most one of them can ever be mined.
The caller stores the replacement's signed bytes before it broadcasts them, as for any send.

`EVM_MAX_TOTAL_FEE_WEI` caps gas x maxFeePerGas of a replacement: past it, `FeeCapExceeded`
(FEE_CAP_EXCEEDED, retryable: the stored transactions stay valid and may still land; a retry
resumes them, it never signs a second nonce).
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from eth_account.typed_transactions import TypedTransaction
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from biatec.core.errors import FeeCapExceeded
from tokens.networks import Network

from .evm import SignedEvmTransaction, ensure_funded, fee_quote, sign_transaction
from .signing import SignerContext

NODE_MINIMUM_BUMP_PERCENT = 10  # geth's and reth's txpool price bump (anvil follows it)


def _bumped(value: int, percent: int) -> int:
    """`value` raised by at least `percent` % (rounded up)."""
    return -(-int(value) * (100 + percent) // 100)


def bump_percent() -> int:
    return max(int(settings.EVM_REPLACEMENT_FEE_BUMP_PERCENT), NODE_MINIMUM_BUMP_PERCENT)


def replacement_transaction_prepare(
    *, signer: SignerContext, network: Network, raw: bytes, reason: str
) -> SignedEvmTransaction:
    """Sign the replacement of the transaction in `raw` (same nonce, both fees bumped). No broadcast.

    Raises `FeeCapExceeded` when its most possible fee (gas x maxFeePerGas) is over the cap, and
    `ChainUnavailable` when the node cannot quote fees.
    """
    original: dict[str, Any] = TypedTransaction.from_bytes(HexBytes(bytes(raw))).as_dict()
    percent = bump_percent()
    quote = fee_quote(network=network)
    priority = max(_bumped(original["maxPriorityFeePerGas"], percent), quote.max_priority_fee_per_gas)
    max_fee = max(_bumped(original["maxFeePerGas"], percent), quote.base_fee_per_gas * 2 + priority)
    total = int(original["gas"]) * max_fee
    cap = int(settings.EVM_MAX_TOTAL_FEE_WEI)
    if total > cap:
        raise FeeCapExceeded(
            f"Replacing the stuck transaction on {network.name} would allow a fee of {total} wei, over the "
            f"platform's cap of {cap} wei; it stays in the pool and may still be mined.",
            details={"network": network.slug, "nonce": int(original["nonce"]), "max_total_fee_wei": str(total),
                     "cap_wei": str(cap), "max_fee_per_gas": str(max_fee)},
        )
    sender = SignedEvmTransaction.from_raw(bytes(raw)).sender
    ensure_funded(network=network, address=sender, needed_wei=total + int(original.get("value") or 0))
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": int(original["chainId"]),
        "nonce": int(original["nonce"]),
        "gas": int(original["gas"]),
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": min(priority, max_fee),
        "value": int(original.get("value") or 0),
        "data": HexBytes(original.get("data") or b"").to_0x_hex(),
    }
    to = original.get("to")
    if to:
        tx["to"] = to_checksum_address(HexBytes(to))
    return sign_transaction(signer=signer, network=network, tx=tx, reason=reason)
