"""Balances, nonces, funding on local networks (the injected faucet) and the read-back of deployed ERC-20 contracts."""
from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from biatec.core.errors import ChainUnavailable, NotFound, TransactionFailed
from tokens.networks import Network

from .evm_artifacts import selector
from .evm_rpc import (
    classify_errors,
    error_from_response,
    insufficient_funds_error,
    revert_reason,
    rpc,
    rpc_batch_responses,
)
from .faucet import faucet_fund, local_faucet

# On local chains the faucet adds this much on top of a shortfall, so a burst of deployments from
# one account does not need one faucet transfer each.
LOCAL_FUNDING_BUFFER_WEI = 10**18


def get_balance(*, network: Network, address: str) -> int:
    return int(rpc(network, "eth_getBalance", [to_checksum_address(address), "latest"]), 16)


def pending_nonce(*, network: Network, address: str) -> int:
    """`eth_getTransactionCount(address, "pending")`: the next nonce the node would accept."""
    return int(rpc(network, "eth_getTransactionCount", [to_checksum_address(address), "pending"]), 16)


def ensure_funded(*, network: Network, address: str, needed_wei: int) -> int:
    """Make sure `address` holds at least `needed_wei`; answer its balance.

    On local networks the local faucet (`LOCAL_FAUCET`, `tokens.chains.faucet`) tops up the shortfall
    plus a buffer; elsewhere a shortfall raises `InsufficientFunds` with needed, balance and address in
    `details`.
    """
    address = to_checksum_address(address)
    balance = get_balance(network=network, address=address)
    if balance >= needed_wei:
        return balance
    faucet = local_faucet(network)
    if faucet is None:
        raise insufficient_funds_error(network, address=address, needed_wei=needed_wei, balance_wei=balance)
    amount = needed_wei - balance + LOCAL_FUNDING_BUFFER_WEI
    with classify_errors(network, "fund"):
        try:
            faucet_fund(faucet, network=network, address=address, amount=amount)
        except ValueError:
            raise ChainUnavailable(
                f"The dev faucet could not fund {address} on {network.name}.",
                details={"network": network.slug, "reason": "faucet_failed", "address": address},
            ) from None
    return get_balance(network=network, address=address)


# --- read-back -------------------------------------------------------------------------------------

_READS: tuple[tuple[str, str, str, bool], ...] = (
    # (result key, signature, output type, optional: absent on preminted tokens)
    ("name", "name()", "string", False),
    ("symbol", "symbol()", "string", False),
    ("decimals", "decimals()", "uint8", False),
    ("total_supply", "totalSupply()", "uint256", False),
    ("cap", "cap()", "uint256", True),
    ("owner", "owner()", "address", True),
)


def read_erc20(*, network: Network, address: str, receiver: str) -> dict[str, Any]:
    """What the chain holds for a deployed token, in one JSON-RPC batch.

    Keys: name, symbol, decimals, total_supply, cap (None for preminted), owner (None for preminted),
    receiver_balance (`balanceOf(receiver)`). Amounts are base units (int).
    """
    contract, receiver = to_checksum_address(address), to_checksum_address(receiver)
    calls = [("0x" + selector(sig).hex(), key, out, optional) for key, sig, out, optional in _READS]
    calls.append(("0x" + (selector("balanceOf(address)") + abi_encode(["address"], [receiver])).hex(),
                  "receiver_balance", "uint256", False))
    code, *results = _batch_calls(network, contract, [c[0] for c in calls])
    if code in (None, "0x", "0x0"):
        raise NotFound(f"There is no contract at {contract} on {network.name}.",
                       details={"network": network.slug, "address": contract})
    token: dict[str, Any] = {}
    for (_, key, out, optional), result in zip(calls, results, strict=True):
        if isinstance(result, Exception) or result in (None, "0x"):
            if optional:
                token[key] = None
                continue
            raise TransactionFailed(
                f"The contract at {contract} on {network.name} does not answer {key} like an ERC-20.",
                details={"network": network.slug, "address": contract, "field": key},
            )
        value = abi_decode([out], bytes.fromhex(result[2:]))[0]
        token[key] = to_checksum_address(value) if out == "address" else value
    return token


def _batch_calls(network: Network, contract: str, datas: list[str]) -> list[Any]:
    """`eth_getCode` plus one `eth_call` per data in one batch; a reverted call yields an exception."""
    calls: list[tuple[str, list[Any]]] = [("eth_getCode", [contract, "latest"])]
    calls += [("eth_call", [{"to": contract, "data": data}, "latest"]) for data in datas]
    out: list[Any] = []
    for response in rpc_batch_responses(network, calls, action="read_erc20"):
        error = response.get("error")
        if error is None:
            out.append(response.get("result"))
            continue
        message = str(error.get("message") if isinstance(error, dict) else error)
        if "revert" not in message.lower():
            raise error_from_response(network, "read_erc20", response)
        data = error.get("data") if isinstance(error, dict) else None
        out.append(TransactionFailed(revert_reason(data) or message))
    return out
