"""EVM calls on deployed tokens (mint, burn, transfer, pause, ownership ...) and their live state.

`call_transactions_prepare` is to calls what `evm.deploy_transaction_prepare` is to deployments:
gas estimated first (one JSON-RPC batch for all calls, so a 1,000-recipient distribution costs one
round trip), the sender funded on local chains for all of them, then consecutive nonces reserved
and every transaction signed in one database transaction (a failure leaves no gap).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from biatec.core.errors import NotFound
from tokens.networks import Network

from .evm import (
    GAS_MARGIN_DENOMINATOR,
    GAS_MARGIN_NUMERATOR,
    SignedEvmTransaction,
    fee_quote,
    sign_transactions,
)
from .evm_artifacts import encode_function_call, selector
from .evm_nonces import nonce_reserve, nonce_sequence_ensure
from .evm_reads import ensure_funded, get_balance
from .evm_rpc import error_from_response, rpc_batch_responses
from .signing import SignerContext

Call = tuple[str, list[Any]]  # (function name, arguments)


def _estimates(*, network: Network, sender: str, contract: str, datas: Sequence[str]) -> list[int]:
    """Gas of each call (with the house margin), one batch; a call that would revert raises."""
    calls = [("eth_estimateGas", [{"from": sender, "to": contract, "data": data}]) for data in datas]
    out = []
    for response in rpc_batch_responses(network, calls, action="estimate_gas"):
        if "error" in response:
            raise error_from_response(network, "estimate_gas", response)
        out.append(int(response["result"], 16) * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR)
    return out


def call_transactions_prepare(*, sender: str, signer: SignerContext, network: Network, standard: str,
                              contract_address: str, calls: Sequence[Call], reason: str) -> list[SignedEvmTransaction]:
    """Sign one transaction per call, with consecutive nonces, from `sender` to the token contract."""
    sender, contract = to_checksum_address(sender), to_checksum_address(contract_address)
    datas = [encode_function_call(standard=standard, function=fn, args=args) for fn, args in calls]
    gases = _estimates(network=network, sender=sender, contract=contract, datas=datas)
    fees = fee_quote(network=network)
    ensure_funded(network=network, address=sender, needed_wei=sum(gases) * fees.max_fee_per_gas)
    nonce_sequence_ensure(network=network, address=sender)
    with transaction.atomic():
        first = nonce_reserve(chain_id=int(network.chain_id or 0), address=sender, count=len(calls))
        return sign_transactions(signer=signer, network=network, reason=reason, txs=[{
            "type": 2, "chainId": network.chain_id, "nonce": first + i, "gas": gas, "to": contract, "value": 0,
            "maxFeePerGas": fees.max_fee_per_gas, "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            "data": data,
        } for i, (data, gas) in enumerate(zip(datas, gases, strict=True))])


NATIVE_TRANSFER_GAS = 21_000


def native_sweep_price(*, network: Network) -> int:
    """The one gas price of a sweep: `maxFeePerGas` = `maxPriorityFeePerGas` = the fee quote's max
    fee. With both equal the effective price is exactly that (min(max fee, base fee + tip)), so the
    transaction costs exactly 21,000 x price, as a legacy `gasPrice` transaction would."""
    return fee_quote(network=network).max_fee_per_gas


def native_sweep_transaction_prepare(*, sender: str, signer: SignerContext, network: Network, to: str,
                                     reason: str) -> SignedEvmTransaction | None:
    """Sign the transfer of `sender`'s whole native balance but the fee to `to` (None: the balance
    does not cover the fee). Nothing is funded: the point is to leave exactly 0."""
    sender, to = to_checksum_address(sender), to_checksum_address(to)
    price = native_sweep_price(network=network)
    value = get_balance(network=network, address=sender) - NATIVE_TRANSFER_GAS * price
    if value <= 0:
        return None
    nonce_sequence_ensure(network=network, address=sender)
    with transaction.atomic():
        nonce = nonce_reserve(chain_id=int(network.chain_id or 0), address=sender, count=1)
        return sign_transactions(signer=signer, network=network, reason=reason, txs=[{
            "type": 2, "chainId": network.chain_id, "nonce": nonce, "gas": NATIVE_TRANSFER_GAS, "to": to,
            "value": value, "maxFeePerGas": price, "maxPriorityFeePerGas": price, "data": "0x"}])[0]


_STATE_READS: tuple[tuple[str, str, str], ...] = (
    ("total_supply", "totalSupply()", "uint256"),
    ("cap", "cap()", "uint256"),
    ("owner", "owner()", "address"),
    ("paused", "paused()", "bool"),
)


def _holder_call(signature: str, holder: str) -> str:
    return "0x" + (selector(signature) + abi_encode(["address"], [holder])).hex()


_FLAG_READS = ("isFrozen(address)", "isEligible(address)", "getFrozenTokens(address)")


def read_token_state(*, network: Network, contract_address: str, holders: Sequence[str] = (),
                     holder_flags: bool = False) -> dict[str, Any]:
    """Live state in one batch: total_supply, cap, owner, paused (None where the contract has no such
    function, e.g. a preminted token), `balances` {address: int} of `holders` and, with
    `holder_flags` (an ERC-3643-style registry on chain), `flags` {address: {frozen, eligible,
    frozen_tokens}} from `isFrozen` / `isEligible` / `getFrozenTokens`."""
    contract = to_checksum_address(contract_address)
    datas = ["0x" + selector(sig).hex() for _, sig, _ in _STATE_READS]
    holders = [to_checksum_address(h) for h in holders]
    datas += [_holder_call("balanceOf(address)", h) for h in holders]
    if holder_flags:
        datas += [_holder_call(sig, h) for h in holders for sig in _FLAG_READS]
    calls: list[tuple[str, Sequence[Any]]] = [("eth_getCode", [contract, "latest"])]
    calls += [("eth_call", [{"to": contract, "data": d}, "latest"]) for d in datas]
    code, *results = rpc_batch_responses(network, calls, action="read_token_state")
    if code.get("result") in (None, "0x", "0x0"):
        raise NotFound(f"There is no contract at {contract} on {network.name}.",
                       details={"network": network.slug, "address": contract})
    state: dict[str, Any] = {}
    for (key, _, out), response in zip(_STATE_READS, results, strict=False):
        raw = response.get("result")
        if "error" in response or raw in (None, "0x"):
            state[key] = None
            continue
        value = abi_decode([out], bytes.fromhex(raw[2:]))[0]
        state[key] = to_checksum_address(value) if out == "address" else value
    per_holder = results[len(_STATE_READS):]

    def decoded(response: dict[str, Any], out: str) -> Any:
        if "error" in response:
            raise error_from_response(network, "read_token_state", response)
        return abi_decode([out], bytes.fromhex(response["result"][2:]))[0]

    state["balances"] = {h: decoded(r, "uint256") for h, r in zip(holders, per_holder[:len(holders)], strict=True)}
    if holder_flags:
        flags = per_holder[len(holders):]
        width = len(_FLAG_READS)
        state["flags"] = {h: {"frozen": bool(decoded(flags[width * i], "bool")),
                              "eligible": bool(decoded(flags[width * i + 1], "bool")),
                              "frozen_tokens": int(decoded(flags[width * i + 2], "uint256"))}
                          for i, h in enumerate(holders)}
    return state
