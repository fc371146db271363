"""Issue 19 item 5-6: the allow list enforced by the chain itself, kept in sync through the one
operations pipeline (`allowlist_sync`), and the drift report and resync. Every effect is read back
from the chain with plain web3.py / algosdk, and every transfer that must fail is sent directly,
not through the API (which would refuse it before the chain could)."""
from typing import Any

import pytest
from algosdk import account, transaction
from algosdk.error import AlgodHTTPError
from algosdk.v2client.algod import AlgodClient
from eth_account import Account

from accounts import arc76
from accounts.models import User
from accounts.signing import chain_key
from conftest import DEFAULT_PASSWORD
from deployments.models import Operation, Token
from deployments.tests.test_operations_erc20_security import _contract, _deploy, _issuer_send, _op, _send
from devchain.anvil import fund
from tokens.chains import algorand as algo
from tokens.networks import get_network

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore:Use sign_transaction_with_signer:DeprecationWarning")]
ALGO = "algorand-localnet"


def _entries(client: Any, token: Token, rows: list[dict]) -> list[dict]:
    response = client.post(f"/api/v1/tokens/{token.pk}/allowlist/bulk", {"entries": rows}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()["results"]


def _patch(client: Any, token: Token, entry_id: str, values: dict) -> dict:
    response = client.patch(f"/api/v1/tokens/{token.pk}/allowlist/{entry_id}", values, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _synced(client: Any, token: Token, entry: dict) -> None:
    """The entry's sync operation completed (eager workers), as its own representation says."""
    fresh = client.get(f"/api/v1/tokens/{token.pk}/allowlist/{entry['id']}").json()
    assert fresh["sync"] is not None and fresh["sync"]["status"] == "completed", fresh
    operation = Operation.objects.get(pk=fresh["sync"]["operation_id"])
    assert operation.kind == "allowlist_sync" and operation.status == "completed", operation.error


# ------------------------------------------------------------------------------- erc20-security
def test_erc20_security_allow_list_is_enforced_by_the_contract(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("sync.sec")
    token = _deploy(client)
    chain = _contract(anvil_node.url, token.contract_address)
    alice, bob, outsider = Account.create(), Account.create(), Account.create()
    fund(anvil_node.url, alice.address, 10**17)

    alice_row, bob_row = _entries(client, token, [{"address": alice.address, "jurisdiction": "DE"},
                                                  {"address": bob.address, "jurisdiction": "FR"}])
    _synced(client, token, alice_row)
    _synced(client, token, bob_row)
    assert chain.functions.isEligible(alice.address).call() is True
    assert chain.functions.isEligible(bob.address).call() is True
    assert chain.functions.isEligible(outsider.address).call() is False
    assert Operation.objects.filter(token=token, kind="allowlist_sync").count() == 1  # one job for the bulk

    _op(client, token, "transfer", {"to": alice.address, "amount": "100"})
    _send(anvil_node.url, alice, token.contract_address, "transfer", bob.address, 10)  # both listed: allowed
    _send(anvil_node.url, alice, token.contract_address, "transfer", outsider.address, 1, must_fail=True)
    assert [chain.functions.balanceOf(a).call() for a in (alice.address, bob.address, outsider.address)] == [90, 10, 0]

    # Suspending bob removes his eligibility on chain: the same direct transfer now fails.
    _synced(client, token, _patch(client, token, bob_row["id"], {"status": "suspended", "reason": "KYC review"}))
    assert chain.functions.isEligible(bob.address).call() is False
    _send(anvil_node.url, alice, token.contract_address, "transfer", bob.address, 1, must_fail=True)
    assert chain.functions.balanceOf(bob.address).call() == 10

    # Drift: the issuer's key makes bob eligible behind the registry's back; the report shows it.
    assert client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()["in_sync"] is True
    _issuer_send(anvil_node.url, token, "setEligible", bob.address, True)
    drift = client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()
    assert drift["checked"] == 2 and drift["in_sync"] is False
    assert [(d["address"], d["status"], d["expected"], d["on_chain"]["eligible"], d["fix"])
            for d in drift["differences"]] == [(bob.address, "suspended", {"allowed": False}, True, "resync")]
    resync = client.post(f"/api/v1/tokens/{token.pk}/allowlist/resync")
    assert resync.status_code == 202, resync.content
    assert Operation.objects.get(pk=resync.json()["operation"]["id"]).status == "completed"
    assert chain.functions.isEligible(bob.address).call() is False
    assert client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()["in_sync"] is True
    again = client.post(f"/api/v1/tokens/{token.pk}/allowlist/resync")
    assert again.status_code == 200 and again.json()["operation"] is None

    # Removing an active entry takes the address off the chain's registry too.
    assert client.delete(f"/api/v1/tokens/{token.pk}/allowlist/{alice_row['id']}").status_code == 204
    assert chain.functions.isEligible(alice.address).call() is False


def test_a_bulk_of_1000_entries_reaches_the_contract_in_two_transactions(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("sync.sec.bulk")
    token = _deploy(client)
    chain = _contract(anvil_node.url, token.contract_address)
    addresses = [Account.create().address for _ in range(1000)]
    rows = _entries(client, token, [{"address": a} for a in addresses])
    _synced(client, token, rows[0])
    operation = Operation.objects.get(token=token, kind="allowlist_sync")
    assert operation.transactions.filter(status="confirmed").count() == 2  # 500 addresses per batchSetEligible
    assert all(chain.functions.isEligible(a).call() for a in addresses[::97] + addresses[-1:])


def test_a_real_worker_carries_the_sync_and_a_suspension_after_it(anvil_node, user_factory, settings, monkeypatch):
    """Not eager: the registry's writes only queue; a Celery worker process (its own broker) signs,
    sends and reads back each allowlist_sync, in the order they were queued here."""
    from deployments import operation_services
    from deployments.tasks import operation_submit_task
    from tests.celery_worker import WorkerProcess, fresh_broker_url, publish, wait_for

    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("sync.sec.worker")
    token = _deploy(client)
    chain = _contract(anvil_node.url, token.contract_address)
    monkeypatch.setattr(operation_services, "job_enqueue_on_commit", lambda job_type, job_id: None)
    holder = Account.create().address
    row = _entries(client, token, [{"address": holder}])[0]
    first = Operation.objects.get(token=token, kind="allowlist_sync")
    assert first.status == "queued" and row["sync"] == {"operation_id": str(first.pk), "status": "queued"}

    broker = fresh_broker_url()
    worker = WorkerProcess(broker)
    try:
        publish(operation_submit_task, broker, str(first.pk))
        assert wait_for(lambda: Operation.objects.get(pk=first.pk).status == "completed", timeout=60), worker.output()
        assert chain.functions.isEligible(holder).call() is True
        _patch(client, token, row["id"], {"status": "suspended"})
        second = Operation.objects.filter(token=token, kind="allowlist_sync").exclude(pk=first.pk).get()
        publish(operation_submit_task, broker, str(second.pk))
        assert wait_for(lambda: Operation.objects.get(pk=second.pk).status == "completed", timeout=60), \
            worker.output()
    finally:
        worker.stop()
    assert chain.functions.isEligible(holder).call() is False
    fresh = client.get(f"/api/v1/tokens/{token.pk}/allowlist/{row['id']}").json()
    assert fresh["status"] == "suspended" and fresh["sync"] == {"operation_id": str(second.pk), "status": "completed"}
    assert client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()["in_sync"] is True


def test_the_beat_job_records_drift_of_on_chain_tokens_only(anvil_node, user_factory, settings):
    from biatec.celery import app
    from compliance.models import AllowListDriftReport
    from compliance.tasks import allowlist_drift_sweep_task

    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert app.conf.beat_schedule["allowlist-drift"]["task"] == "compliance.tasks.allowlist_drift_sweep_task"
    _, client = user_factory("sync.sec.beat")
    token = _deploy(client)
    plain = client.post("/api/v1/token/erc20-mintable/create", {"network": "evm-local", "name": "Plain", "symbol": "PL",
                                                                "decimals": 0, "initial_supply": "1", "cap": "9"},
                        format="json")
    assert plain.status_code == 202, plain.content
    plain_token = Token.objects.get(deployment_id=plain.json()["id"])
    holder = Account.create().address
    _synced(client, token, _entries(client, token, [{"address": holder}])[0])
    _entries(client, plain_token, [{"address": holder}])
    _issuer_send(anvil_node.url, token, "setEligible", holder, False)  # behind the registry's back

    assert allowlist_drift_sweep_task() >= 1  # every on-chain token with entries, this test's among them
    [report] = AllowListDriftReport.objects.filter(token=token)
    assert (report.checked, report.difference_count, report.error) == (1, 1, "")
    assert report.differences[0]["address"] == holder and report.differences[0]["on_chain"]["eligible"] is False
    assert not AllowListDriftReport.objects.filter(token=plain_token).exists()

    settings.CHAIN_NODES = {**settings.CHAIN_NODES, "evm-local": {"url": "http://127.0.0.1:9"}}  # nothing answers
    allowlist_drift_sweep_task()
    unread = AllowListDriftReport.objects.filter(token=token).order_by("-created_at").first()
    assert unread is not None and unread.pk != report.pk and unread.error and unread.checked == 0


def test_an_off_chain_token_gets_no_sync(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("sync.offchain")
    created = client.post("/api/v1/token/erc20-mintable/create", {"network": "evm-local", "name": "Plain",
                                                                  "symbol": "PLN", "decimals": 0,
                                                                  "initial_supply": "10", "cap": "100"}, format="json")
    assert created.status_code == 202, created.content
    token = Token.objects.get(deployment_id=created.json()["id"])
    assert client.get(f"/api/v1/tokens/{token.pk}").json()["enforcement"] == "off-chain"
    row = _entries(client, token, [{"address": Account.create().address}])[0]
    assert row["sync"] is None and not Operation.objects.filter(token=token, kind="allowlist_sync").exists()
    answer = client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift")
    assert answer.status_code == 409 and answer.json()["code"] == "ALLOWLIST_SYNC_NOT_POSSIBLE"


# ------------------------------------------------------------------------------------ ARC-1400
def _issuer_key(email: str) -> str:
    return arc76.algorand_private_key(arc76.arc76_seed(email, DEFAULT_PASSWORD))


def _algo_deploy(client: Any, standard: str, body: dict) -> Token:
    response = client.post(f"/api/v1/token/{standard}/create", {"network": ALGO, "decimals": 0, **body},
                           format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _app_send(token: Token, key_holder: User, method_kind: str, params: dict) -> None:
    """A direct call to the contract signed with the issuer's key through the chain layer (not the API)."""
    network = get_network(ALGO)
    key = chain_key(user=key_holder, network=network)
    txns = algo.app_operation_group(network=network, sp=algo.suggested_params(network=network), sender=key.address,
                                    app_id=int(token.app_id or 0), standard=token.standard, kind=method_kind,
                                    params=params, lease_seed=f"direct|{method_kind}|{params}")
    signed = algo.sign_transactions(signer=key.open, txns=txns, reason="test: direct call")
    algo.broadcast(network=network, raw=signed.raw)
    assert algo.wait_for_confirmation(network=network, txid=signed.txids[-1],
                                      last_valid=signed.last_valid).state == algo.CONFIRMED


def _app_transfer_refused(token: Token, key_holder: User, to: str) -> None:
    with pytest.raises(Exception) as refused:  # the node refuses the group: the contract's assert
        _app_send(token, key_holder, "transfer", {"to": to, "amount": 1})
    assert "rejected" in str(refused.value).lower() or "assert" in str(refused.value).lower() \
        or "logic" in str(refused.value).lower(), refused.value


def test_arc1400_whitelist_follows_the_allow_list(algod_devnet_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("sync.arc1400")
    issuer = User.objects.get(pk=body["id"])
    token = _algo_deploy(client, "arc1400-mintable", {"name": "Security", "symbol": "SEC", "initial_supply": "1000",
                                                      "cap": "5000"})
    holder = account.generate_account()[1]
    assert not algo.arc1400_is_whitelisted(network=ALGO, app_id=int(token.app_id or 0), address=holder)

    row = _entries(client, token, [{"address": holder, "jurisdiction": "DE"}])[0]
    _synced(client, token, row)
    assert algo.arc1400_is_whitelisted(network=ALGO, app_id=int(token.app_id or 0), address=holder)
    _app_send(token, issuer, "transfer", {"to": holder, "amount": 5})  # direct, on chain: allowed
    assert algo.arc200_balance_of(network=ALGO, app_id=int(token.app_id or 0), address=holder) == 5

    _synced(client, token, _patch(client, token, row["id"], {"status": "suspended"}))
    assert not algo.arc1400_is_whitelisted(network=ALGO, app_id=int(token.app_id or 0), address=holder)
    _app_transfer_refused(token, issuer, holder)
    assert algo.arc200_balance_of(network=ALGO, app_id=int(token.app_id or 0), address=holder) == 5

    # Drift: a direct whitelist_set with the owner key, behind the registry's back.
    _app_send(token, issuer, "whitelist", {"address": holder, "eligible": True})
    drift = client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()
    assert [(d["address"], d["on_chain"], d["fix"]) for d in drift["differences"]] == [
        (holder, {"whitelisted": True}, "resync")]
    resync = client.post(f"/api/v1/tokens/{token.pk}/allowlist/resync")
    assert resync.status_code == 202, resync.content
    assert Operation.objects.get(pk=resync.json()["operation"]["id"]).status == "completed"
    assert not algo.arc1400_is_whitelisted(network=ALGO, app_id=int(token.app_id or 0), address=holder)
    assert client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()["in_sync"] is True


# ------------------------------------------------------------------------------ regulated ASA
def _submit(node: AlgodClient, signed: transaction.SignedTransaction) -> None:
    transaction.wait_for_confirmation(node, node.send_transaction(signed), 10)


def test_a_regulated_asset_unfreezes_active_holders_and_freezes_suspended_ones(algod_devnet_node, user_factory,
                                                                              settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    node = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    body, client = user_factory("sync.asa")
    issuer, issuer_key = body["algorand_address"], _issuer_key("sync.asa@example.com")
    token = _algo_deploy(client, "asa-ft", {"name": "Regulated", "unit_name": "REG", "total": "1000",
                                            "regulated": True})
    asset = int(token.asset_id or 0)

    holder_key, holder = account.generate_account()  # an outside investor with its own wallet
    algo.ensure_funded(network=get_network(ALGO), address=holder, needed_microalgos=400_000)
    _submit(node, transaction.AssetOptInTxn(holder, node.suggested_params(), asset).sign(holder_key))
    assert node.account_asset_info(holder, asset)["asset-holding"]["is-frozen"] is True

    row = _entries(client, token, [{"address": holder}])[0]
    _synced(client, token, row)
    assert node.account_asset_info(holder, asset)["asset-holding"]["is-frozen"] is False
    _submit(node, transaction.AssetTransferTxn(issuer, node.suggested_params(), holder, 5, asset).sign(issuer_key))
    assert node.account_asset_info(holder, asset)["asset-holding"]["amount"] == 5

    _synced(client, token, _patch(client, token, row["id"], {"status": "revoked"}))
    assert node.account_asset_info(holder, asset)["asset-holding"]["is-frozen"] is True
    with pytest.raises(AlgodHTTPError) as refused:
        node.send_transaction(transaction.AssetTransferTxn(holder, node.suggested_params(), issuer, 1,
                                                           asset).sign(holder_key))
    assert "frozen" in str(refused.value)

    # A platform user named by e-mail is opted in and unfrozen by the same sync.
    member_body, _ = user_factory("sync.asa.member")
    from accounts.models import Membership
    Membership.objects.create(user_id=member_body["id"], organization=token.organization, role="viewer")
    member = _entries(client, token, [{"email": "sync.asa.member@example.com"}])[0]
    _synced(client, token, member)
    holding = node.account_asset_info(member_body["algorand_address"], asset)["asset-holding"]
    assert holding["is-frozen"] is False

    # An outside address activated before it opted in waits: the drift says it must opt in first.
    late_key, late = account.generate_account()
    late_row = _entries(client, token, [{"address": late}])[0]
    assert late_row["sync"] is None
    drift = client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()
    assert [(d["address"], d["fix"]) for d in drift["differences"]] == [(late, "opt_in")]
    algo.ensure_funded(network=get_network(ALGO), address=late, needed_microalgos=400_000)
    _submit(node, transaction.AssetOptInTxn(late, node.suggested_params(), asset).sign(late_key))
    resync = client.post(f"/api/v1/tokens/{token.pk}/allowlist/resync")
    assert resync.status_code == 202, resync.content
    assert node.account_asset_info(late, asset)["asset-holding"]["is-frozen"] is False
    assert client.get(f"/api/v1/tokens/{token.pk}/allowlist/drift").json()["in_sync"] is True
