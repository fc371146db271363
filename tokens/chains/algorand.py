"""Algorand client: build, sign, broadcast and follow token deployments; read them back; fund on
local networks. py-algorand-sdk 2.x against any algod v2 node (the devnet on `algorand-localnet`).

One deployment, as the pipeline drives it (it owns the order and the storage):

1. ARC-3 only: `arc3.arc3_prepare` + `arc3.arc3_pin` (CID checked), then `arc3.arc3_asset_params`.
2. For each step of `deployment_steps(standard)` (`asset_create`; or `app_create` then `bootstrap`):
   `signed = deployment_step_prepare(...)`, the one home of Algorand funding and leases:
   `ensure_funded(needed_microalgos=step_cost(standard=, step=))`, `sp = suggested_params(network=)`,
   `txns = build_deployment_step(sp=, standard=, step=, params=, sender=, deployment_id=, app_id=)`
   (byte limits checked here, before signing; every transaction carries the lease
   `lease_for(deployment_id, step, index)`), `sign_transactions(signer=, txns=, reason=)`
   -> store `signed.raw`, `signed.txids`, `signed.last_valid` BEFORE broadcasting.
4. `broadcast(network=, raw=signed.raw)`; a retry re-broadcasts the same bytes ("already in
   ledger" answers the txid: harmless).
5. `transaction_status(network=, txid=, last_valid=)` / `wait_for_confirmation(...)`: confirmed
   (round, `asset_id`/`app_id` from the pending info), pending, failed (pool-error ->
   `TransactionFailed`), expired (current round > last_valid -> `TransactionExpired`: only now may
   the step be rebuilt and signed anew).
6. `read_asset` / `read_arc200` to check the chain against the request.

Post-issuance operations (`algorand_operations`, re-exported here): the unsigned transactions of
asset transfers (groups of 16), opt-ins with a top-up, freeze, clawback, role changes and destroy,
and the app calls of ARC-200/1400 operations with their box references and box-MBR payment; the
same fund -> build -> sign (`sign_group_multi` for several senders) -> store -> broadcast ->
confirm flow, each transaction leased by `operation_lease(lease_seed, index)`; `read_asset_state`,
`read_asset_holding`, `read_app_token_state` read the result back.

Errors: `ChainUnavailable` (retryable), `InsufficientFunds`, `TransactionFailed` (`LeaseInUse` when a
rebuilt transaction collides with an earlier one of the same step), `TransactionExpired`,
`ValidationFailed` (before signing).

Known limit: algod answers pending info for a txid only while it remembers it (the pool's recent
cache; the devnet remembers forever). Against a real node, a status check long after
confirmation may see "unknown" and, past last_valid, "expired"; the pipeline should therefore
check for the created asset/app (the sender's account) before re-signing an expired step.
"""
from __future__ import annotations

from typing import Any

from tokens.networks import Network

from .algorand_build import (
    APP_CREATE,
    ASSET_CREATE,
    BOOTSTRAP,
    abi_method,
    algorand_standard,
    allowance_box,
    app_min_balance,
    arc200_params_check,
    asset_params_check,
    balance_box,
    bootstrap_funding,
    build_app_call,
    build_app_create,
    build_asset_create,
    build_bootstrap_group,
    build_deployment_step,
    deployment_cost,
    deployment_steps,
    sign_transactions,
    step_cost,
    whitelist_box,
)
from .algorand_node import (
    CONFIRMED,
    EXPIRED,
    FAILED,
    MIN_FEE,
    PENDING,
    LeaseInUse,
    SignedAlgorandGroup,
    TxStatus,
    algod_client,
    broadcast,
    current_round,
    decode_signed,
    lease_for,
    pending_info,
    resolve_network,
    suggested_params,
    transaction_status,
    wait_for_confirmation,
)
from .algorand_operations import (
    MAX_APP_REFERENCES,
    MAX_GROUP,
    OPERATION_KINDS,
    ROLES,
    Transfer,
    app_operation_group,
    app_transfer_groups,
    app_whitelist_groups,
    asset_clawback_txn,
    asset_destroy_txn,
    asset_freeze_groups,
    asset_freeze_txn,
    asset_opt_in_group,
    asset_reconfigure_txn,
    asset_transfer_groups,
    native_sweep_group,
    native_sweep_plan,
    operation_cost,
    operation_lease,
    opt_in_top_up,
    read_app_token_state,
    read_asset_holding,
    read_asset_state,
    sign_group_multi,
    spending,
)
from .algorand_reads import (
    account_created,
    account_info,
    arc200_balance_of,
    arc1400_is_whitelisted,
    ensure_funded,
    get_balance,
    read_app_global_state,
    read_arc200,
    read_asset,
    read_box,
)
from .signing import SignerContext

__all__ = [
    "APP_CREATE", "ASSET_CREATE", "BOOTSTRAP", "CONFIRMED", "EXPIRED", "FAILED", "MIN_FEE", "PENDING",
    "LeaseInUse", "SignedAlgorandGroup", "TxStatus",
    "abi_method", "account_created", "account_info", "algod_client", "algorand_standard", "allowance_box",
    "app_min_balance",
    "arc200_balance_of",
    "arc200_params_check", "arc1400_is_whitelisted", "asset_params_check", "balance_box", "bootstrap_funding",
    "broadcast", "build_app_call", "build_app_create", "build_asset_create", "build_bootstrap_group",
    "build_deployment_step", "current_round", "decode_signed", "deployment_cost", "deployment_step_prepare",
    "deployment_steps",
    "ensure_funded", "get_balance", "lease_for", "pending_info", "read_app_global_state", "read_arc200",
    "read_asset", "read_box", "resolve_network", "sign_transactions", "step_cost",
    "suggested_params", "transaction_status", "wait_for_confirmation", "whitelist_box",
    # post-issuance operations (algorand_operations)
    "MAX_APP_REFERENCES", "MAX_GROUP", "OPERATION_KINDS", "ROLES", "Transfer", "app_operation_group",
    "app_transfer_groups", "app_whitelist_groups", "asset_clawback_txn", "asset_destroy_txn", "asset_freeze_groups",
    "asset_freeze_txn", "asset_opt_in_group",
    "asset_reconfigure_txn", "asset_transfer_groups", "native_sweep_group", "native_sweep_plan",
    "operation_cost", "operation_lease", "opt_in_top_up",
    "read_app_token_state", "read_asset_holding", "read_asset_state", "sign_group_multi", "spending",
]


def deployment_step_prepare(*, network: Network, standard: str, step: str, params: dict[str, Any], sender: str,
                            signer: SignerContext, deployment_id: object, app_id: int | None,
                            reason: str, also_spending: int = 0) -> SignedAlgorandGroup:
    """Fund the sender for the step and for `also_spending` (what its other signed, unconfirmed
    transactions will still spend; local networks, elsewhere INSUFFICIENT_FUNDS), build the step's
    transaction(s) with its lease, and sign them. No broadcast."""
    ensure_funded(network=network, address=sender,
                  needed_microalgos=step_cost(standard=standard, step=step) + max(0, int(also_spending)))
    sp = suggested_params(network=network)
    txns = build_deployment_step(sp=sp, standard=standard, step=step, params=params, sender=sender,
                                 deployment_id=deployment_id, app_id=app_id)
    return sign_transactions(signer=signer, txns=txns, reason=reason)
