"""EVM client: build, sign, broadcast and track ERC-20 deployments; read them back; fund on local chains.

The flow of one deployment (the deployment pipeline owns the order and the storage):

1. `build_deploy_transaction` (or `deploy_transaction_prepare`, which also reserves the nonce and signs):
   contract-creation transaction from the committed artifact, gas estimated with a margin, EIP-1559
   fees from `eth_feeHistory` under the network's fee cap, `chainId` and `type: 2` always set.
2. `sign_transaction`: the sender's key, opened only inside the given signer context
   (`tokens.chains.signing`; for a user, `accounts.signing.chain_key`).
3. Store the `SignedEvmTransaction` (raw bytes, hash, nonce, contract address), then `broadcast` it;
   broadcasting the same bytes again is harmless and answers the same hash.
4. `get_receipts` (one JSON-RPC batch for every transaction waiting on the chain), `confirmations`.
5. `read_erc20` checks what the chain holds against the request.

Everything that talks to a node raises only `ChainUnavailable`, `InsufficientFunds`, `TransactionFailed`
or `TransactionExpired` (see `tokens.chains.evm_rpc`).
"""
from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import rlp
from django.db import transaction
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_bytes, to_checksum_address
from hexbytes import HexBytes
from web3.types import RPCEndpoint

from biatec.core.errors import (
    ChainUnavailable,
    FeeBelowBaseFee,
    TransactionExpired,
    TransactionFailed,
    ValidationFailed,
)
from tokens.networks import EVM, Network

from .evm_artifacts import (
    STANDARD_CONTRACTS,
    ContractArtifact,
    constructor_args,
    deploy_data,
    encode_function_call,
    load_artifact,
)
from .evm_nonces import nonce_reserve, nonce_sequence_ensure
from .evm_reads import ensure_funded, get_balance, pending_nonce, read_erc20
from .evm_rpc import (
    classify_errors,
    error_from_response,
    insufficient_funds_error,
    is_insufficient_funds_message,
    rpc,
    rpc_batch,
    web3_for,
)
from .signing import SignerContext

__all__ = [
    "STANDARD_CONTRACTS", "ContractArtifact", "FeeQuote", "NonceAlreadyUsed", "SignedEvmTransaction",
    "block_number", "broadcast", "build_call_transaction", "build_deploy_transaction", "confirmations",
    "constructor_args", "contract_address_for", "deploy_transaction_prepare", "encode_function_call",
    "ensure_funded", "estimate_gas", "fee_quote", "get_balance", "get_receipt", "get_receipts",
    "load_artifact", "pending_nonce", "read_erc20", "sign_transaction", "transaction_known",
    "transaction_max_cost", "wait_for_receipt",
]

GWEI = 10**9
# Gas estimates are exact for the state they ran against; the margin absorbs state changes between
# estimation and inclusion. Unused gas is refunded, so the margin only raises the funds required.
GAS_MARGIN_NUMERATOR, GAS_MARGIN_DENOMINATOR = 6, 5  # x1.2
FEE_HISTORY_BLOCKS = 5
FEE_REWARD_PERCENTILE = 50
MIN_PRIORITY_FEE_WEI = 1_000_000  # 0.001 gwei: L2s run near zero; anvil reports 0


class NonceAlreadyUsed(TransactionExpired):
    """The transaction's nonce was consumed by another transaction: these bytes can never be included.

    Retryable in the sense that the deployment may be signed anew with a fresh nonce.
    """

    default_message = "The transaction can no longer be included: its nonce was used by another transaction."


# --- fees and transaction building -----------------------------------------------------------------


@dataclass(frozen=True)
class FeeQuote:
    base_fee_per_gas: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int


def _require_evm(network: Network) -> None:
    if network.family != EVM or network.chain_id is None:
        raise ValidationFailed(f"{network.slug} is not an EVM network.", code="INVALID_NETWORK")


def fee_quote(*, network: Network) -> FeeQuote:
    """EIP-1559 fees: next block's base fee x2 plus the median tip of recent blocks, under the cap.

    A base fee already above the network's cap (`max_fee_per_gas_gwei`) is `CHAIN_UNAVAILABLE`
    (retryable): the transaction could not be included now, and paying more than the platform allows
    is not an option.
    """
    history = rpc(network, "eth_feeHistory", [hex(FEE_HISTORY_BLOCKS), "latest", [FEE_REWARD_PERCENTILE]])
    base_fees = [int(x, 16) for x in history.get("baseFeePerGas") or []]
    if not base_fees:
        raise ChainUnavailable(f"The {network.name} node returned no fee history.", retryable=True,
                               details={"network": network.slug, "reason": "no_fee_history"})
    next_base_fee = base_fees[-1]  # the list ends with the base fee of the next block
    rewards = sorted(int(block[0], 16) for block in history.get("reward") or [] if block)
    tip = max(rewards[len(rewards) // 2] if rewards else 0, MIN_PRIORITY_FEE_WEI)
    cap = int(network.max_fee_per_gas_gwei) * GWEI
    if next_base_fee >= cap:
        raise ChainUnavailable(
            f"Fees on {network.name} are above the platform's cap of {network.max_fee_per_gas_gwei} gwei; "
            "the deployment will be retried when they fall.",
            retryable=True,
            details={"network": network.slug, "reason": "fee_cap", "base_fee_wei": str(next_base_fee),
                     "max_fee_per_gas_cap_wei": str(cap)},
        )
    max_fee = min(2 * next_base_fee + tip, cap)
    return FeeQuote(base_fee_per_gas=next_base_fee, max_priority_fee_per_gas=min(tip, max_fee - next_base_fee),
                    max_fee_per_gas=max_fee)


def estimate_gas(*, network: Network, sender: str, data: str, to: str | None = None, value: int = 0) -> int:
    """`eth_estimateGas` times the safety margin. A revert raises `TransactionFailed` with its reason.

    No fee fields are sent, so nodes estimate without checking the balance: an unfunded account can
    learn what it needs before the faucet (local) or the user (elsewhere) funds it.
    """
    call: dict[str, Any] = {"from": to_checksum_address(sender), "data": data, "value": hex(value)}
    if to:
        call["to"] = to_checksum_address(to)
    estimate = int(rpc(network, "eth_estimateGas", [call], action="estimate_gas"), 16)
    return estimate * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR


def _transaction(
    *, network: Network, sender: str, data: str, nonce: int, to: str | None = None, value: int = 0
) -> dict[str, Any]:
    _require_evm(network)
    gas = estimate_gas(network=network, sender=sender, data=data, to=to, value=value)
    fees = fee_quote(network=network)
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": network.chain_id,
        "nonce": int(nonce),
        "gas": gas,
        "maxFeePerGas": fees.max_fee_per_gas,
        "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        "value": value,
        "data": data,
    }
    if to:
        tx["to"] = to_checksum_address(to)
    return tx


def build_deploy_transaction(
    *, network: Network, standard: str, params: dict[str, Any], sender: str, nonce: int
) -> dict[str, Any]:
    """An unsigned EIP-1559 contract-creation transaction for `standard` (`erc20-mintable`/`-preminted`).

    `params`: name, symbol, decimals, receiver (default: sender); mintable: initial_supply (default 0),
    cap, owner (default: sender); preminted: total_supply. Amounts are base units.
    """
    data = deploy_data(standard=standard, params=params, sender=sender)
    return _transaction(network=network, sender=sender, data=data, nonce=nonce)


def build_call_transaction(
    *, network: Network, standard: str, contract_address: str, function: str, args: list[Any], sender: str,
    nonce: int,
) -> dict[str, Any]:
    """An unsigned transaction calling `function(*args)` on a deployed contract (e.g. `mint`)."""
    data = encode_function_call(standard=standard, function=function, args=args)
    return _transaction(network=network, sender=sender, data=data, nonce=nonce, to=contract_address)


def transaction_max_cost(tx: dict[str, Any]) -> int:
    """The most the transaction can cost the sender: gas x max fee + value."""
    return int(tx["gas"]) * int(tx["maxFeePerGas"]) + int(tx.get("value") or 0)


# --- signing -------------------------------------------------------------------------------------


def contract_address_for(*, sender: str, nonce: int) -> str:
    """The address a contract created by `sender` with `nonce` gets: keccak(rlp([sender, nonce]))[12:]."""
    return to_checksum_address(keccak(rlp.encode([to_bytes(hexstr=sender), int(nonce)]))[12:])


@dataclass(frozen=True)
class SignedEvmTransaction:
    """What the pipeline stores before broadcasting (docs/decisions/0006-signed-bytes-before-broadcast.md):
    enough to re-broadcast and to track."""

    tx_hash: str
    raw: bytes
    nonce: int
    sender: str
    chain_id: int
    contract_address: str | None
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    value: int = 0
    to: str | None = field(default=None)

    @property
    def max_cost_wei(self) -> int:
        return self.gas * self.max_fee_per_gas + self.value

    @classmethod
    def from_raw(cls, raw: bytes, *, sender: str | None = None) -> SignedEvmTransaction:
        """Rebuild the record from signed bytes. Without `sender` it is recovered from the signature
        (~15 ms of pure-Python elliptic-curve work, hence the shortcut for the signing path)."""
        from eth_account import Account

        raw = bytes(raw)
        tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        sender = to_checksum_address(sender) if sender else Account.recover_transaction(raw)
        to = HexBytes(tx.get("to") or b"")
        nonce = int(tx["nonce"])
        return cls(
            tx_hash="0x" + keccak(raw).hex(),
            raw=raw,
            nonce=nonce,
            sender=sender,
            chain_id=int(tx["chainId"]),
            contract_address=None if to else contract_address_for(sender=sender, nonce=nonce),
            gas=int(tx["gas"]),
            max_fee_per_gas=int(tx["maxFeePerGas"]),
            max_priority_fee_per_gas=int(tx["maxPriorityFeePerGas"]),
            value=int(tx.get("value") or 0),
            to=to_checksum_address(to) if to else None,
        )


def sign_transaction(*, signer: SignerContext, network: Network, tx: dict[str, Any],
                     reason: str) -> SignedEvmTransaction:
    """Sign `tx` with the sender's key for the network's chain; the key stays inside `signer`."""
    return sign_transactions(signer=signer, network=network, txs=[tx], reason=reason)[0]


def sign_transactions(*, signer: SignerContext, network: Network, txs: Sequence[dict[str, Any]],
                      reason: str) -> list[SignedEvmTransaction]:
    """Sign several transactions with one opening of the sender's key (one key-use record for a
    batch distribution's parts, not one per recipient)."""
    _require_evm(network)
    with signer(reason) as key:
        signed = [key.sign_transaction(tx) for tx in txs]
        sender = key.address
    return [SignedEvmTransaction.from_raw(bytes(s.raw_transaction), sender=sender) for s in signed]


def deploy_transaction_prepare(
    *, sender: str, signer: SignerContext, network: Network, standard: str, params: dict[str, Any], reason: str
) -> SignedEvmTransaction:
    """Build, fund (local chains), reserve a nonce and sign one deployment of `standard` from `sender`:
    the one home of EVM funding and nonce reservation.

    Gas and fees are estimated before the nonce is reserved, so a node failure there costs no nonce.
    The reservation and the signature happen in one database transaction: called inside the caller's
    transaction that also stores the result, a failure anywhere rolls the nonce back (no gap), and
    the sequence's row lock keeps other workers of the same account waiting until that commit.
    """
    _require_evm(network)
    sender = to_checksum_address(sender)
    draft = build_deploy_transaction(network=network, standard=standard, params=params, sender=sender, nonce=0)
    ensure_funded(network=network, address=sender, needed_wei=transaction_max_cost(draft))
    nonce_sequence_ensure(network=network, address=sender)
    with transaction.atomic():
        nonce = nonce_reserve(chain_id=int(network.chain_id or 0), address=sender)
        return sign_transaction(signer=signer, network=network, tx={**draft, "nonce": nonce}, reason=reason)

# --- broadcast and receipts ------------------------------------------------------------------------

_ALREADY_KNOWN = re.compile(r"already known|known transaction|already imported|alreadyknown|already exists", re.I)
_NONCE_TOO_LOW = re.compile(r"nonce too low|nonce is too low|oldnonce|nonce has already been used", re.I)
_UNDERPRICED = re.compile(r"replacement transaction underpriced|replacementnotallowed", re.I)
_BELOW_BASE_FEE = re.compile(r"max fee per gas less than block base fee|fee cap less than block base fee|"
                             r"feecaptoolow|maxfeepergas.*below.*base", re.I)


def broadcast(*, network: Network, raw: bytes) -> str:
    """Send signed bytes to the node and answer their transaction hash.

    Idempotent: if the node already has this transaction ("already known") or it was mined ("nonce
    too low" while this very hash is on chain), that is success. "Nonce too low" for any other reason
    raises `NonceAlreadyUsed` (these bytes can never be included); an unaffordable transaction raises
    `InsufficientFunds` with what it needs and what the sender holds; a fee under the current base
    fee raises `FeeBelowBaseFee` (the pipeline replaces the transaction).
    """
    raw = bytes(raw)
    tx_hash = "0x" + keccak(raw).hex()
    with classify_errors(network, "broadcast"):
        response = web3_for(network).provider.make_request(RPCEndpoint("eth_sendRawTransaction"), ["0x" + raw.hex()])
    error = response.get("error")
    if not error:
        return tx_hash
    message = str(error.get("message") if isinstance(error, dict) else error)
    if _ALREADY_KNOWN.search(message):
        return tx_hash
    if not (_NONCE_TOO_LOW.search(message) or _UNDERPRICED.search(message) or _BELOW_BASE_FEE.search(message)
            or is_insufficient_funds_message(message)):
        raise error_from_response(network, "broadcast", response)
    signed = SignedEvmTransaction.from_raw(raw)  # the node parsed it, so it decodes
    if _BELOW_BASE_FEE.search(message):
        raise FeeBelowBaseFee(
            f"The base fee on {network.name} rose above what transaction {tx_hash} may pay; it has to be "
            "replaced with higher fees.",
            details={"network": network.slug, "reason": "fee_below_base_fee", "nonce": signed.nonce,
                     "address": signed.sender, "tx_hash": tx_hash},
        )
    if _NONCE_TOO_LOW.search(message):
        if transaction_known(network=network, tx_hash=tx_hash):
            return tx_hash
        raise NonceAlreadyUsed(
            f"Nonce {signed.nonce} of {signed.sender} was already used by another transaction on "
            f"{network.name}; this transaction can never be included and must be signed anew.",
            details={"network": network.slug, "reason": "nonce_used", "nonce": signed.nonce,
                     "address": signed.sender, "tx_hash": tx_hash},
        )
    if _UNDERPRICED.search(message):
        raise TransactionFailed(
            f"Another pending transaction of {signed.sender} holds nonce {signed.nonce} on {network.name}.",
            retryable=True,
            details={"network": network.slug, "reason": "nonce_conflict", "nonce": signed.nonce,
                     "address": signed.sender, "tx_hash": tx_hash},
        )
    raise insufficient_funds_error(network, address=signed.sender, needed_wei=signed.max_cost_wei,
                                   balance_wei=get_balance(network=network, address=signed.sender))


def transaction_known(*, network: Network, tx_hash: str) -> bool:
    """True if the node knows the transaction (mined or in its pool)."""
    return rpc(network, "eth_getTransactionByHash", [tx_hash]) is not None


def _normalise_receipt(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw or raw.get("blockNumber") is None:
        return None
    contract = raw.get("contractAddress")
    return {
        "transaction_hash": raw["transactionHash"],
        "block_number": int(raw["blockNumber"], 16),
        "block_hash": raw["blockHash"],
        "status": int(raw.get("status") or "0x0", 16),
        "contract_address": to_checksum_address(contract) if contract else None,
        "from": to_checksum_address(raw["from"]),
        "to": to_checksum_address(raw["to"]) if raw.get("to") else None,
        "gas_used": int(raw["gasUsed"], 16),
        "effective_gas_price": int(raw.get("effectiveGasPrice") or "0x0", 16),
    }


def get_receipt(*, network: Network, tx_hash: str) -> dict[str, Any] | None:
    """The mined transaction's receipt as a JSON-friendly dict, or None while it is not mined.

    Keys: transaction_hash, block_number, block_hash, status (1 success, 0 reverted), contract_address,
    from, to, gas_used, effective_gas_price.
    """
    return _normalise_receipt(rpc(network, "eth_getTransactionReceipt", [tx_hash]))


def get_receipts(*, network: Network, tx_hashes: list[str]) -> dict[str, dict[str, Any] | None]:
    """Receipts of many transactions in one JSON-RPC batch (one round trip per polling pass)."""
    results = rpc_batch(network, [("eth_getTransactionReceipt", [h]) for h in tx_hashes], action="get_receipts")
    return {h: _normalise_receipt(r) for h, r in zip(tx_hashes, results, strict=True)}


def block_number(*, network: Network) -> int:
    return int(rpc(network, "eth_blockNumber", []), 16)


def confirmations(*, network: Network, receipt: dict[str, Any] | None, head: int | None = None) -> int:
    """Blocks on top of (and including) the receipt's block; 0 when not mined.

    Pass `head` (one `block_number` per polling pass) to avoid a node call per transaction.
    """
    if not receipt:
        return 0
    head = block_number(network=network) if head is None else head
    return max(head - int(receipt["block_number"]) + 1, 0)


def wait_for_receipt(
    *, network: Network, tx_hash: str, timeout: float = 30.0, poll_seconds: float = 0.05,
    require_success: bool = True,
) -> dict[str, Any]:
    """Poll until mined (tests, demo and scripts; workers poll in batches instead).

    Raises `TransactionFailed` if the transaction reverted (when `require_success`) and a retryable
    `ChainUnavailable` if it is not mined within `timeout`.
    """
    deadline = time.monotonic() + timeout
    while True:
        receipt = get_receipt(network=network, tx_hash=tx_hash)
        if receipt is not None:
            if require_success and receipt["status"] != 1:
                raise TransactionFailed(
                    f"The transaction reverted on {network.name} in block {receipt['block_number']}.",
                    details={"network": network.slug, "reason": "reverted", "tx_hash": tx_hash},
                )
            return receipt
        if time.monotonic() >= deadline:
            raise ChainUnavailable(
                f"The transaction was not mined on {network.name} within {timeout:.0f} s.",
                details={"network": network.slug, "reason": "receipt_timeout", "tx_hash": tx_hash},
            )
        time.sleep(poll_seconds)

