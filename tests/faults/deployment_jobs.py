"""Token deployments as fault-suite jobs: ERC-20 on anvil, ASA on the Algorand devnet."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from algosdk.v2client.algod import AlgodClient
from django.conf import settings

from accounts.models import User
from accounts.signing import evm_account_ensure
from deployments import services
from deployments.models import Deployment, DeploymentTransaction, TransactionStatus
from deployments.tasks import deployment_submit_task
from devchain.faucet import fund
from tests.celery_worker import publish
from tests.faults.jobs import EVM_ONLY_POINTS, PIPELINE_POINTS, ChainJobKind, Verdict, register, unfinished
from tokens.chains import evm
from tokens.chains.evm_reads import pending_nonce
from tokens.chains.evm_rpc import rpc
from tokens.models import EvmNonceSequence
from tokens.networks import get_network


def _create(standard: str, payload: dict[str, Any]):
    def create(user: User) -> str:
        deployment = services.deployment_create(user=user, standard=standard, payload=dict(payload))
        return str(deployment.pk)

    return create


def _enqueue(deployment_id: str, broker_url: str) -> None:
    publish(deployment_submit_task, broker_url, deployment_id)


def deployment_statuses(ids: list[str]) -> dict[str, str]:
    return {str(pk): status for pk, status in Deployment.objects.filter(pk__in=ids).values_list("pk", "status")}


def _completed(ids: list[str]) -> int:
    return Deployment.objects.filter(pk__in=ids, status="completed").count()


def sender_prefund(network: str, address_of: Callable[[User], str], amount: int) -> Callable[[User], None]:
    def prefund(user: User) -> None:
        node = settings.CHAIN_NODES[network]
        fund(family=get_network(network).family, node_url=node["url"], node_token=node.get("token"),
             address=address_of(user), amount=amount)

    return prefund


# --- EVM ----------------------------------------------------------------------------------------

def evm_sender(user: User) -> str:
    return evm_account_ensure(user=user, chain_id=int(get_network("evm-local").chain_id)).address


def evm_baseline(user: User) -> int:
    return pending_nonce(network=get_network("evm-local"), address=evm_sender(user))


def evm_nonce_problems(sender: str, nonce_before: int, confirmed_nonces: list[int]) -> list[str]:
    """The sender's nonce gaps since `nonce_before`, one line each (every one counts as a gap): the
    confirmed transactions of the run hold consecutive nonces from there, the account's nonce moved
    by exactly their number, the product's sequence and the node's pool agree with the chain."""
    network = get_network("evm-local")
    latest = int(rpc(network, "eth_getTransactionCount", [sender, "latest"]), 16)
    pending = pending_nonce(network=network, address=sender)
    nonces = sorted(confirmed_nonces)
    problems = []
    if nonces != list(range(nonce_before, nonce_before + len(nonces))):
        problems.append(f"confirmed nonces {nonces} are not {nonce_before}..")
    if latest - nonce_before != len(nonces):  # the account's nonce counts exactly the confirmed transactions
        problems.append(f"account nonce moved by {latest - nonce_before}, {len(nonces)} transaction(s) confirmed")
    sequence = EvmNonceSequence.objects.filter(chain_id=network.chain_id, address=sender).first()
    if sequence is not None and sequence.next_nonce != pending:
        problems.append(f"nonce sequence at {sequence.next_nonce}, chain at {pending}")
    if pending != latest:
        problems.append(f"{pending - latest} transaction(s) stuck in the pool (latest {latest}, pending {pending})")
    return problems


def evm_verify(user: User, nonce_before: int, ids: list[str]) -> Verdict:
    """Creations = contracts with code at the addresses of every nonce the sender used in the run."""
    network = get_network("evm-local")
    sender = evm_sender(user)
    latest = int(rpc(network, "eth_getTransactionCount", [sender, "latest"]), 16)
    creations = sum(
        1 for nonce in range(nonce_before, latest)
        if rpc(network, "eth_getCode", [evm.contract_address_for(sender=sender, nonce=nonce), "latest"]) not in
        ("0x", "0x0", None))
    confirmed = DeploymentTransaction.objects.filter(deployment_id__in=ids, status=TransactionStatus.CONFIRMED)
    problems = evm_nonce_problems(sender, nonce_before,
                                  [int(n) for n in confirmed.values_list("nonce", flat=True) if n is not None])
    gaps = len(problems)
    for deployment in Deployment.objects.filter(pk__in=ids, status="completed"):
        address = deployment.results.get("contract_address")
        code = rpc(network, "eth_getCode", [address, "latest"]) if address else None
        if code in (None, "0x"):
            problems.append(f"{deployment.pk}: no contract at {address}")
    return Verdict(jobs=len(ids), completed=_completed(ids), on_chain=creations, nonce_gaps=gaps, problems=problems)


register(ChainJobKind(
    name="deployment:erc20-preminted", chain="evm", network="evm-local", node_fixture="anvil_node",
    fault_points=EVM_ONLY_POINTS + PIPELINE_POINTS,
    create=_create("erc20-preminted", {"network": "evm-local", "name": "Fault", "symbol": "FLT", "decimals": 0,
                                       "initial_supply": "7"}),
    enqueue=_enqueue, statuses=deployment_statuses, outcome=unfinished(Deployment), baseline=evm_baseline,
    verify=evm_verify,
    prefund=sender_prefund("evm-local", evm_sender, 10**20),
))


# --- Algorand -----------------------------------------------------------------------------------

def _created_assets(user: User) -> list[dict[str, Any]]:
    """Read with plain algosdk, not the product's code."""
    node = settings.CHAIN_NODES["algorand-localnet"]
    info = AlgodClient(node.get("token", ""), node["url"]).account_info(user.algorand_address)
    return list(info.get("created-assets") or [])


def algorand_baseline(user: User) -> set[int]:
    return {int(asset["index"]) for asset in _created_assets(user)}


def algorand_verify(user: User, before: set[int], ids: list[str]) -> Verdict:
    created = {int(a["index"]): a for a in _created_assets(user) if int(a["index"]) not in before}
    problems = []
    for deployment in Deployment.objects.filter(pk__in=ids, status="completed"):
        if int(deployment.results.get("asset_id") or 0) not in created:
            problems.append(f"{deployment.pk}: asset {deployment.results.get('asset_id')} not created by the run")
    return Verdict(jobs=len(ids), completed=_completed(ids), on_chain=len(created), problems=problems)


register(ChainJobKind(
    name="deployment:asa-ft", chain="algorand", network="algorand-localnet", node_fixture="algod_devnet_node",
    fault_points=PIPELINE_POINTS,
    create=_create("asa-ft", {"network": "algorand-localnet", "name": "Fault ASA", "unit_name": "FLT",
                              "total": "100", "decimals": 0}),
    enqueue=_enqueue, statuses=deployment_statuses, outcome=unfinished(Deployment), baseline=algorand_baseline,
    verify=algorand_verify,
    prefund=sender_prefund("algorand-localnet", lambda user: user.algorand_address, 100_000_000),  # 1,000 assets' worth
))
