"""Token operations as fault-suite jobs: a batch transfer of an ERC-20 on anvil and of an ASA on the
devnet (issue 18: every recipient paid exactly once, whatever happens to the worker).

One job is one `batch_transfer` Operation, created by the service the API calls
(`operation_create`, everything checked, queued without dispatch) for `units` fresh recipients,
recipient i paid i + 1 base units, on a token its sender deployed in this process before the run (one
token per test and kind: the database is emptied after each test, the chain is not). ASA recipients
are fresh accounts that a funder of their own funds and opts in with plain algosdk before the
operation exists: the issuer signs nothing but the transfers.

The verdict reads the chain directly, not through the product (web3's `balanceOf`, algod's account
asset holding): a unit is a recipient holding exactly its amount, a duplicate one holding more (paid
twice or more); the issuer's balance must have dropped by exactly what the recipients hold; on EVM
the confirmed parts' nonces follow each other with no gap (`evm_nonce_problems`).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from algosdk import account, transaction
from algosdk.atomic_transaction_composer import AccountTransactionSigner
from algosdk.error import AlgodHTTPError
from algosdk.v2client.algod import AlgodClient
from django.conf import settings
from eth_account import Account
from web3 import Web3

from accounts.models import User
from deployments import services
from deployments.models import Deployment, Operation, OperationTransaction, Token, TransactionStatus
from deployments.operation_services import operation_create
from deployments.pipeline import deployment_advance
from deployments.tasks import operation_submit_task
from devchain.faucet import fund
from tests.celery_worker import publish
from tests.faults.deployment_jobs import evm_nonce_problems, evm_sender, sender_prefund
from tests.faults.jobs import EVM_ONLY_POINTS, PIPELINE_POINTS, TERMINAL, ChainJobKind, Verdict, register, unfinished
from tokens.chains.evm_reads import pending_nonce
from tokens.networks import get_network

EVM_NET, ALGO_NET = "evm-local", "algorand-localnet"
SUPPLY = "1000000000000"  # enough for every batch of a `make faults` run
ERC20_BALANCE_ABI = [{"type": "function", "name": "balanceOf", "stateMutability": "view",
                      "inputs": [{"name": "owner", "type": "address"}],
                      "outputs": [{"name": "", "type": "uint256"}]}]
OPTED_IN_FUNDING = 202_000  # a recipient's minimum balance with one asset (0.2 Algo) and its opt-in fee
OPT_INS_PER_GROUP = 8       # funding payment + opt-in per recipient: 16 transactions, a full group
DEPLOY_TIMEOUT = 120.0


# --- setup: the token, the recipients --------------------------------------------------------------

def drive_deployment(deployment_id: Any, timeout: float = DEPLOY_TIMEOUT) -> Deployment:
    """Play the worker in this process until the deployment is terminal (a worker that takes it over
    meanwhile is fine: the job lock lets one advance it at a time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment = Deployment.objects.get(pk=deployment_id)
        if deployment.status in TERMINAL:
            return deployment
        delay = deployment_advance(deployment_id=deployment_id)
        time.sleep(min(delay if delay is not None else 0.2, 0.2))
    return Deployment.objects.get(pk=deployment_id)


def batch_token(user: User, standard: str, payload: dict[str, Any]) -> Token:
    """The sender's token for batches of this kind, deployed on first use in this test."""
    token = Token.objects.filter(deployment__creator=user, standard=standard, name=payload["name"]).first()
    if token is not None:
        return token
    deployment = services.deployment_create(user=user, standard=standard, payload=dict(payload))
    deployment = drive_deployment(deployment.pk)
    assert deployment.status == "completed", (deployment.status, deployment.error_code, deployment.error_message)
    return Token.objects.get(deployment=deployment)


def _algod() -> AlgodClient:
    node = settings.CHAIN_NODES[ALGO_NET]
    return AlgodClient(node.get("token", ""), node["url"])


def asa_opted_in_recipients(asset_id: int, count: int) -> list[str]:
    """`count` fresh accounts holding nothing but the asset's opt-in, with plain algosdk: a funder of
    their own (from the devnet's faucet) pays each its minimum balance in the opt-in's group."""
    funder_sk, funder = account.generate_account()
    node = settings.CHAIN_NODES[ALGO_NET]
    groups = -(-count // OPT_INS_PER_GROUP)
    fund(family="algorand", node_url=node["url"], node_token=node.get("token"), address=funder,
         amount=100_000 + count * (OPTED_IN_FUNDING + 1_000) + groups * 1_000)
    client = _algod()
    keys = [account.generate_account() for _ in range(count)]
    for start in range(0, count, OPT_INS_PER_GROUP):
        chunk = keys[start:start + OPT_INS_PER_GROUP]
        params = client.suggested_params()
        txns: list[transaction.Transaction] = []
        signers: list[str] = []
        for sk, address in chunk:
            txns += [transaction.PaymentTxn(funder, params, address, OPTED_IN_FUNDING),
                     transaction.AssetOptInTxn(address, params, asset_id)]
            signers += [funder_sk, sk]
        txns = transaction.assign_group_id(txns)
        signed = [AccountTransactionSigner(sk).sign_transactions([txn], [0])[0]
                  for txn, sk in zip(txns, signers, strict=True)]
        txid = client.send_transactions(signed)
        transaction.wait_for_confirmation(client, txid, 10)
    return [address for _, address in keys]


def _transfers(addresses: list[str]) -> list[dict[str, str]]:
    return [{"to": address, "amount": str(i + 1)} for i, address in enumerate(addresses)]


def _create(token_of: Callable[[User], Token], recipients_of: Callable[[Token, int], list[str]],
            count: int) -> Callable[[User], str]:
    def create(user: User) -> str:
        token = token_of(user)
        operation = operation_create(user=user, token_id=token.pk, kind="batch_transfer",
                                     payload={"transfers": _transfers(recipients_of(token, count))})
        return str(operation.pk)

    return create


def _enqueue(operation_id: str, broker_url: str) -> None:
    publish(operation_submit_task, broker_url, operation_id)


def operation_statuses(ids: list[str]) -> dict[str, str]:
    return {str(pk): status for pk, status in Operation.objects.filter(pk__in=ids).values_list("pk", "status")}


# --- verdict -------------------------------------------------------------------------------------

def _payments(ids: list[str], balance_of: Callable[[str], int], issuer_dropped: int, units: int) -> Verdict:
    """Every recipient of the jobs against the chain: paid exactly (a unit), more (a duplicate) or
    less; the issuer's drop against what the recipients hold."""
    exact = over = held = 0
    problems: list[str] = []
    for operation in Operation.objects.filter(pk__in=ids):
        short = []
        for row in operation.request["transfers"]:
            amount, balance = int(row["amount"]), balance_of(row["to"])
            held += balance
            if balance == amount:
                exact += 1
            elif balance > amount:
                over += 1
                problems.append(f"{operation.pk}: {row['to']} holds {balance}, its amount is {amount}")
            else:
                short.append(row["to"])
        if short and operation.status == "completed":
            problems.append(f"{operation.pk} completed, {len(short)} recipient(s) short: {short[:5]}")
    if issuer_dropped != held:
        problems.append(f"the issuer's balance dropped by {issuer_dropped}, the recipients hold {held}")
    completed = Operation.objects.filter(pk__in=ids, status="completed").count()
    return Verdict(jobs=len(ids), completed=completed, on_chain=exact, over=over, units=units,
                   problems=problems[:20])


# --- EVM: ERC-20 batch transfer on anvil -----------------------------------------------------------

EVM_TOKEN = ("erc20-preminted", {"network": EVM_NET, "name": "Fault batch", "symbol": "FBT", "decimals": 0,
                                 "initial_supply": SUPPLY})


def evm_token(user: User) -> Token:
    return batch_token(user, *EVM_TOKEN)


def evm_balance_reader(token: Token) -> Callable[[str], int]:
    w3 = Web3(Web3.HTTPProvider(settings.CHAIN_NODES[EVM_NET]["url"]))
    contract = w3.eth.contract(address=Web3.to_checksum_address(token.contract_address), abi=ERC20_BALANCE_ABI)
    return lambda address: int(contract.functions.balanceOf(Web3.to_checksum_address(address)).call())


def evm_batch_baseline(user: User) -> dict[str, Any]:
    token = evm_token(user)
    return {"nonce": pending_nonce(network=get_network(EVM_NET), address=evm_sender(user)),
            "issuer": evm_balance_reader(token)(token.issuer_address)}


def evm_confirmed_nonces(ids: list[str]) -> list[int]:
    rows = OperationTransaction.objects.filter(operation_id__in=ids, status=TransactionStatus.CONFIRMED)
    return sorted(int(nonce) for nonce in rows.values_list("nonce", flat=True) if nonce is not None)


def evm_batch_verify(units: int) -> Callable[[User, dict[str, Any], list[str]], Verdict]:
    def verify(user: User, before: dict[str, Any], ids: list[str]) -> Verdict:
        token = evm_token(user)
        balance_of = evm_balance_reader(token)
        verdict = _payments(ids, balance_of, before["issuer"] - balance_of(token.issuer_address), units)
        gaps = evm_nonce_problems(evm_sender(user), before["nonce"], evm_confirmed_nonces(ids))
        verdict.nonce_gaps, verdict.problems = len(gaps), [*verdict.problems, *gaps]
        return verdict

    return verify


def evm_batch_kind(recipients: int, name: str = "operation:erc20-batch_transfer",
                   user: str = "faults.ops.evm") -> ChainJobKind:
    return ChainJobKind(
        name=name, chain="evm", network=EVM_NET, node_fixture="anvil_node",
        fault_points=EVM_ONLY_POINTS + PIPELINE_POINTS,
        create=_create(evm_token, lambda token, n: [Account.create().address for _ in range(n)], recipients),
        enqueue=_enqueue, statuses=operation_statuses, outcome=unfinished(Operation), baseline=evm_batch_baseline,
        verify=evm_batch_verify(recipients), prefund=sender_prefund(EVM_NET, evm_sender, 10**20),
        units=recipients, user=user,
    )


# --- Algorand: ASA batch transfer on the devnet (atomic groups of 16) ----------------------------------

ASA_TOKEN = ("asa-ft", {"network": ALGO_NET, "name": "Fault batch ASA", "unit_name": "FBA", "total": SUPPLY,
                        "decimals": 0})


def asa_token(user: User) -> Token:
    return batch_token(user, *ASA_TOKEN)


def asa_balance_reader(token: Token) -> Callable[[str], int]:
    client, asset_id = _algod(), int(token.asset_id or 0)

    def balance_of(address: str) -> int:
        try:
            holding: dict[str, Any] = client.account_asset_info(address, asset_id)  # type: ignore[assignment]
            return int(holding["asset-holding"]["amount"])
        except AlgodHTTPError as exc:
            if exc.code == 404:  # not opted in: holds nothing
                return 0
            raise

    return balance_of


def asa_batch_baseline(user: User) -> dict[str, Any]:
    token = asa_token(user)
    return {"issuer": asa_balance_reader(token)(token.issuer_address)}


def asa_batch_verify(units: int) -> Callable[[User, dict[str, Any], list[str]], Verdict]:
    def verify(user: User, before: dict[str, Any], ids: list[str]) -> Verdict:
        token = asa_token(user)
        balance_of = asa_balance_reader(token)
        return _payments(ids, balance_of, before["issuer"] - balance_of(token.issuer_address), units)

    return verify


def asa_batch_kind(recipients: int, name: str = "operation:asa-batch_transfer",
                   user: str = "faults.ops.algorand") -> ChainJobKind:
    return ChainJobKind(
        name=name, chain="algorand", network=ALGO_NET, node_fixture="algod_devnet_node",
        fault_points=PIPELINE_POINTS,
        create=_create(asa_token, lambda token, n: asa_opted_in_recipients(int(token.asset_id or 0), n), recipients),
        enqueue=_enqueue, statuses=operation_statuses, outcome=unfinished(Operation), baseline=asa_batch_baseline,
        verify=asa_batch_verify(recipients),
        prefund=sender_prefund(ALGO_NET, lambda user: user.algorand_address, 100_000_000),
        units=recipients, user=user,
    )


# Small batches for the kill at every fault point (several parts each: 5 transactions with consecutive
# nonces; 20 transfers = a group of 16 and one of 4); tests/faults/test_batch_worker_kill.py runs 100.
register(evm_batch_kind(5))
register(asa_batch_kind(20))
