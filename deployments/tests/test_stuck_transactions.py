"""Stuck EVM transactions on a real anvil that does not mine on its own: the base fee is raised above
the stored transaction's maxFeePerGas, so it can never be included; the pipeline replaces it (same
nonce, fees bumped), the history shows both, and exactly one lands. Over EVM_MAX_TOTAL_FEE_WEI the
deployment fails with FEE_CAP_EXCEEDED (retryable), and a retry resumes the stored transaction."""
import pytest
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes

from deployments.models import Deployment, DeploymentTransaction
from deployments.pipeline import deployment_advance
from devchain.anvil import rpc

from .conftest import evm_address, set_balance

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
PREMINTED = {"name": "Stuck Token", "symbol": "STK", "decimals": 0, "initial_supply": "5"}
GWEI = 10**9


@pytest.fixture
def stuck_settings(settings):
    settings.EVM_STUCK_TX_SECONDS = 3600  # until the test says the transaction has waited long enough
    settings.EVM_REPLACEMENT_FEE_BUMP_PERCENT = 12
    settings.EVM_MAX_TOTAL_FEE_WEI = 10**21
    return settings


def _pending_deployment(node, user_factory) -> tuple[str, str, object]:
    body, client = user_factory("stuck.tx")
    address = evm_address(body)
    set_balance(node, address, 10**21)
    response = client.post("/api/v1/token/erc20-preminted/create", {"network": "ethereum-sepolia", **PREMINTED},
                           format="json")
    assert response.status_code == 202, response.content
    deployment_id = response.json()["id"]
    deployment_advance(deployment_id=deployment_id)  # signed, stored, broadcast: nothing mines it
    assert Deployment.objects.get(pk=deployment_id).status == "pending"
    assert DeploymentTransaction.objects.filter(deployment_id=deployment_id).count() == 1
    return deployment_id, address, client


def _price_out(node, tx: DeploymentTransaction, settings) -> None:
    """Mine one block whose base fee is far above what the stored transaction may pay: it stays out;
    from now on it counts as stuck (EVM_STUCK_TX_SECONDS 0)."""
    settings.EVM_STUCK_TX_SECONDS = 0
    max_fee = TypedTransaction.from_bytes(HexBytes(bytes(tx.signed_bytes))).as_dict()["maxFeePerGas"]
    rpc(node.url, "anvil_setNextBlockBaseFeePerGas", [hex(max_fee * 20)])
    rpc(node.url, "evm_mine", [])
    assert rpc(node.url, "eth_getTransactionReceipt", [tx.tx_id]) is None


def _nonce(node, address: str) -> int:
    return int(rpc(node.url, "eth_getTransactionCount", [address, "latest"]), 16)


def test_stuck_transaction_is_replaced_and_exactly_one_lands(sepolia_like, stuck_settings, user_factory,
                                                             no_dispatch):
    deployment_id, address, client = _pending_deployment(sepolia_like, user_factory)
    original = DeploymentTransaction.objects.get(deployment_id=deployment_id)
    _price_out(sepolia_like, original, stuck_settings)

    deployment_advance(deployment_id=deployment_id)  # still pending, and stuck: replaced and broadcast
    rows = list(DeploymentTransaction.objects.filter(deployment_id=deployment_id).order_by("created_at"))
    assert len(rows) == 2, (list(Deployment.objects.get(pk=deployment_id).events.values_list("to_status", "reason")),
                            [(r.status, r.last_error) for r in rows])
    replacement = rows[1]
    assert replacement.nonce == original.nonce and replacement.details["replaces"] == original.tx_id
    old_fees = TypedTransaction.from_bytes(HexBytes(bytes(original.signed_bytes))).as_dict()
    new_fees = TypedTransaction.from_bytes(HexBytes(bytes(replacement.signed_bytes))).as_dict()
    assert new_fees["maxFeePerGas"] * 100 >= old_fees["maxFeePerGas"] * 112
    assert new_fees["maxPriorityFeePerGas"] * 100 >= old_fees["maxPriorityFeePerGas"] * 112
    assert new_fees["data"] == old_fees["data"] and new_fees["gas"] == old_fees["gas"]

    for _ in range(4):  # mine, then let the worker see the receipt, the confirmations and the read-back
        rpc(sepolia_like.url, "evm_mine", [])
        deployment_advance(deployment_id=deployment_id)
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["status"] == "completed", detail

    receipt = rpc(sepolia_like.url, "eth_getTransactionReceipt", [replacement.tx_id])
    assert receipt is not None and int(receipt["status"], 16) == 1
    assert rpc(sepolia_like.url, "eth_getTransactionReceipt", [original.tx_id]) is None
    assert receipt["contractAddress"].lower() == detail["results"]["contract_address"].lower()
    assert rpc(sepolia_like.url, "eth_getCode", [receipt["contractAddress"], "latest"]) not in ("0x", "")
    assert _nonce(sepolia_like, address) == original.nonce + 1  # one transaction landed, no gap

    shown = client.get(f"/api/v1/token/deployments/{deployment_id}/history").json()["transactions"]
    assert [(t["tx_id"], t["status"], t["nonce"], t["replaces"]) for t in shown] == [
        (original.tx_id, "superseded", original.nonce, None),
        (replacement.tx_id, "confirmed", original.nonce, original.tx_id),
    ]


def test_replacement_over_the_fee_cap_fails_retryable_and_a_retry_resumes(sepolia_like, stuck_settings,
                                                                          user_factory, no_dispatch):
    deployment_id, address, client = _pending_deployment(sepolia_like, user_factory)
    original = DeploymentTransaction.objects.get(deployment_id=deployment_id)
    max_fee = TypedTransaction.from_bytes(HexBytes(bytes(original.signed_bytes))).as_dict()["maxFeePerGas"]
    stuck_settings.EVM_MAX_TOTAL_FEE_WEI = original_total = 3_000_000 * max_fee  # the original fits, x20 does not
    _price_out(sepolia_like, original, stuck_settings)

    deployment_advance(deployment_id=deployment_id)
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["status"] == "failed"
    assert detail["error"]["code"] == "FEE_CAP_EXCEEDED" and detail["error"]["retryable"] is True
    assert detail["error"]["details"]["cap_wei"] == str(original_total)
    assert DeploymentTransaction.objects.filter(deployment_id=deployment_id).count() == 1  # nothing signed anew

    # Fees fall again; the customer retries: the stored transaction is resumed, never a second nonce.
    rpc(sepolia_like.url, "anvil_setNextBlockBaseFeePerGas", [hex(GWEI // 10)])
    rpc(sepolia_like.url, "evm_mine", [])
    stuck_settings.EVM_STUCK_TX_SECONDS = 3600  # it can be mined now: no reason to replace it
    assert client.post(f"/api/v1/token/deployments/{deployment_id}/retry").status_code == 202
    for _ in range(4):
        deployment_advance(deployment_id=deployment_id)
        rpc(sepolia_like.url, "evm_mine", [])
    deployment_advance(deployment_id=deployment_id)
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["status"] == "completed", detail
    assert list(DeploymentTransaction.objects.filter(deployment_id=deployment_id).values_list("tx_id", "status")) == [
        (original.tx_id, "confirmed")]
    assert _nonce(sepolia_like, address) == original.nonce + 1
