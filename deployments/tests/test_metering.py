"""Metering (issue 21 item 2): one usage record per accepted job, idempotent; refunds when nothing
reached a chain; the chain fees recorded equal what the chain's receipts say (read with web3 /
algod directly); the usage API's totals."""
import pytest
from algosdk.v2client.algod import AlgodClient
from web3 import Web3

from accounts.models import Membership, UsageFee, UsageRecord
from deployments.models import Deployment, DeploymentTransaction, OperationTransaction, Token
from deployments.services import deployment_retry, deployment_transition

ERC20 = {"network": "evm-local", "name": "Meter", "symbol": "MTR", "decimals": 0, "initial_supply": "1000"}


def _create(client, **headers):
    return client.post("/api/v1/token/erc20-preminted/create", ERC20, format="json", **headers)


def _usage(client, month=None):
    response = client.get("/api/v1/account/usage", {"month": month} if month else {})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.chain
@pytest.mark.django_db
def test_idempotent_replay_counts_once(user_factory, no_dispatch, anvil_node):
    _, client = user_factory("meter.replay")
    first = _create(client, HTTP_IDEMPOTENCY_KEY="meter-1")
    again = _create(client, HTTP_IDEMPOTENCY_KEY="meter-1")
    assert first.status_code == again.status_code == 202 and first.json()["id"] == again.json()["id"]
    assert UsageRecord.objects.filter(kind="deployment").count() == 1
    assert _usage(client)["totals"] == [{"kind": "deployment", "accepted": 1, "refunded": 0, "billable": 1}]


@pytest.mark.chain
@pytest.mark.django_db
def test_cancel_before_broadcast_refunds(user_factory, no_dispatch, anvil_node):
    _, client = user_factory("meter.cancel")
    deployment_id = _create(client).json()["id"]
    cancelled = client.post(f"/api/v1/token/deployments/{deployment_id}/cancel", {"reason": "oops"}, format="json")
    assert cancelled.status_code == 200
    record = UsageRecord.objects.get(subject_id=deployment_id)
    assert record.refunded_at is not None and record.refund_reason.startswith("cancelled")
    usage = _usage(client)
    assert usage["totals"] == [{"kind": "deployment", "accepted": 1, "refunded": 1, "billable": 0}]
    assert usage["by_network"] == [{"kind": "deployment", "network": "evm-local", "accepted": 1, "refunded": 1,
                                    "billable": 0}]
    assert usage["quotas"]["deployments_per_month"]["used"] == 0
    assert [h.refunded_at is None for h in record.history.order_by("history_date")] == [True, False]


@pytest.mark.chain
@pytest.mark.django_db
def test_failure_before_reaching_a_chain_refunds_and_a_retry_counts_again(user_factory, no_dispatch, anvil_node):
    _, client = user_factory("meter.fail")
    deployment_id = _create(client).json()["id"]
    deployment_transition(deployment_id=deployment_id, to="failed", reason="node down", actor="t",
                          error={"code": "CHAIN_UNAVAILABLE", "retryable": True})
    assert UsageRecord.objects.get(subject_id=deployment_id).refunded_at is not None
    deployment_retry(deployment=Deployment.objects.get(pk=deployment_id), user=None)
    record = UsageRecord.objects.get(subject_id=deployment_id)
    assert record.refunded_at is None
    assert UsageRecord.objects.count() == 1  # the retry never makes a second record


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_evm_fees_match_the_receipts_and_a_landed_failure_is_not_refunded(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("meter.evm")
    response = client.post("/api/v1/token/erc20-mintable/create", {**ERC20, "cap": "5000"}, format="json")
    deployment_id = response.json()["id"]
    assert client.get(f"/api/v1/token/deployments/{deployment_id}").json()["status"] == "completed"
    token = Token.objects.get(deployment_id=deployment_id)
    mint = client.post(f"/api/v1/tokens/{token.pk}/operations/mint", {"to": token.issuer_address, "amount": "5"},
                       format="json")
    assert mint.status_code == 202, mint.content

    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    deploy_tx = DeploymentTransaction.objects.get(deployment_id=deployment_id)
    op_tx = OperationTransaction.objects.get(operation_id=mint.json()["id"])
    expected = {}
    for tx in (deploy_tx, op_tx):
        receipt = w3.eth.get_transaction_receipt(tx.tx_id)
        expected[tx.tx_id] = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert expected[tx.tx_id] > 0
    fees = {f.tx_id: (int(f.amount), f.unit, f.record.kind) for f in UsageFee.objects.select_related("record")}
    assert fees == {deploy_tx.tx_id: (expected[deploy_tx.tx_id], "wei", "deployment"),
                    op_tx.tx_id: (expected[op_tx.tx_id], "wei", "operation")}
    usage = _usage(client)
    assert usage["fees"] == [{"network": "evm-local", "unit": "wei", "amount": str(sum(expected.values())),
                              "transactions": 2}]
    assert {(t["kind"], t["billable"]) for t in usage["totals"]} == {("deployment", 1), ("operation", 1)}
    # Once something landed a failure is no refund: the chain was used.
    deployment = Deployment.objects.get(pk=deployment_id)
    Deployment.objects.filter(pk=deployment.pk).update(status="indexed")
    deployment_transition(deployment_id=deployment.pk, to="failed", reason="read-back mismatch", actor="t")
    assert UsageRecord.objects.get(subject_id=deployment_id).refunded_at is None


@pytest.mark.chain
@pytest.mark.django_db(transaction=True)
def test_algorand_fee_is_the_confirmed_transactions_fee(algod_devnet_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("meter.algo")
    response = client.post("/api/v1/token/asa-ft/create",
                           {"network": "algorand-localnet", "name": "Meter", "unit_name": "MTR", "total": "10",
                            "decimals": 0}, format="json")
    assert response.status_code == 202, response.content
    deployment_id = response.json()["id"]
    assert client.get(f"/api/v1/token/deployments/{deployment_id}").json()["status"] == "completed"
    tx = DeploymentTransaction.objects.get(deployment_id=deployment_id)
    algod = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    on_chain = sum(int(algod.pending_transaction_info(txid)["txn"]["txn"].get("fee", 0))
                   for txid in (tx.group_tx_ids or [tx.tx_id]))
    fee = UsageFee.objects.get(tx_id=tx.tx_id)
    assert (int(fee.amount), fee.unit) == (on_chain, "microalgo") and on_chain > 0


@pytest.mark.django_db
def test_usage_month_validation_and_role(user_factory):
    owner_body, client = user_factory("meter.role")
    assert client.get("/api/v1/account/usage", {"month": "2026-13"}).json()["code"] == "VALIDATION_ERROR"
    assert client.get("/api/v1/account/usage", {"month": "26-1"}).status_code == 400
    past = _usage(client, "2025-01")
    assert past["month"] == "2025-01" and past["totals"] == [] and past["quotas"]["deployments_per_month"][
        "resets_at"] is None
    membership = Membership.objects.get(user_id=owner_body["id"])
    membership.role = "admin"
    membership.save()
    assert client.get("/api/v1/account/usage").status_code == 403
