"""Token operations on Algorand through the API (devnet): a transfer to the e-mail of a registered
user opts their account in first and pays them; freeze, clawback, role changes and destroy; refusals
that need the chain's state. Every effect is read back with algosdk's own client."""
import pytest
from algosdk import account
from algosdk.v2client.algod import AlgodClient

from deployments.models import Operation, OperationTransaction, Token
from deployments.tests.factories import operation_body

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
ALGO = "algorand-localnet"


@pytest.fixture
def node(algod_devnet_node) -> AlgodClient:  # noqa: ANN001
    return AlgodClient(algod_devnet_node.token, algod_devnet_node.url)


def _deploy(client, body: dict) -> Token:  # noqa: ANN001
    response = client.post("/api/v1/token/asa-ft/create", {"network": ALGO, "decimals": 0, **body}, format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _op(client, token: Token, kind: str, body: dict) -> dict:  # noqa: ANN001
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json")
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return detail


def _holding(node: AlgodClient, address: str, asset_id: int) -> dict | None:
    try:
        return node.account_asset_info(address, asset_id)["asset-holding"]
    except Exception:  # noqa: BLE001 - 404: not opted in
        return None


def test_send_shares_to_an_email_with_no_wallet_anywhere(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    issuer_body, client = user_factory("algo.api.issuer")
    alice_body, _ = user_factory("algo.api.alice")
    token = _deploy(client, {"name": "Shares", "unit_name": "SHR", "total": "1000"})
    alice = alice_body["algorand_address"]
    assert _holding(node, alice, token.asset_id) is None
    detail = _op(client, token, "transfer", {"to": {"email": "algo.api.alice@example.com"}, "amount": "100"})
    assert _holding(node, alice, token.asset_id)["amount"] == 100
    steps = [(t["step"], t["status"]) for t in detail["transactions"]]
    assert steps == [("opt_in", "confirmed"), ("transfer", "confirmed")]  # the opt-in is its own recorded step
    assert detail["recipients"][0]["email"] == "algo.api.alice@example.com"
    assert "opt_in_users" not in detail["request"]
    holder = client.get(f"/api/v1/tokens/{token.pk}/holders/{alice}").json()
    assert holder == {"address": alice, "balance": "100", "frozen": False, "opted_in": True}
    state = client.get(f"/api/v1/tokens/{token.pk}").json()["chain_state"]
    assert state["circulating_supply"] == "100" and state["issuer_balance"] == "900"
    assert issuer_body["algorand_address"] == token.issuer_address


def test_external_recipient_not_opted_in_is_refused_before_signing(algod_devnet_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("algo.api.refusal")
    token = _deploy(client, {"name": "Closed", "unit_name": "CLS", "total": "10"})
    outsider = account.generate_account()[1]
    answer = client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", {"to": outsider, "amount": "1"},
                         format="json")
    assert answer.status_code == 422 and answer.json()["code"] == "RECIPIENT_NOT_OPTED_IN"
    assert answer.json()["details"]["recipients"] == [outsider]
    assert client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", {"to": "NOT-AN-ADDRESS", "amount": "1"},
                       format="json").json()["code"] == "VALIDATION_ERROR"
    too_much = client.post(f"/api/v1/tokens/{token.pk}/operations/transfer",
                           {"to": outsider, "amount": str(2**64)}, format="json")
    assert too_much.status_code == 400  # beyond uint64
    # No freeze or clawback address: those operations are not supported by this asset.
    for kind in ("freeze", "forced_transfer", "mint", "burn", "pause"):
        answer = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", operation_body(kind, address=outsider),
                             format="json")
        assert answer.status_code == 409 and answer.json()["code"] == "OPERATION_NOT_SUPPORTED", kind
    assert Operation.objects.count() == 0 and OperationTransaction.objects.count() == 0


def test_freeze_clawback_roles_and_destroy(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    issuer_body, client = user_factory("algo.api.regulated")
    user_factory("algo.api.bob")
    issuer = issuer_body["algorand_address"]
    token = _deploy(client, {"name": "Regulated", "unit_name": "REG", "total": "500", "freeze": issuer,
                             "clawback": issuer})
    sent = _op(client, token, "transfer", {"to": {"email": "algo.api.bob@example.com"}, "amount": "50"})
    bob = sent["request"]["to"]

    _op(client, token, "freeze", {"address": bob})
    assert _holding(node, bob, token.asset_id)["is-frozen"] is True
    assert client.get(f"/api/v1/tokens/{token.pk}/holders/{bob}").json()["frozen"] is True
    _op(client, token, "unfreeze", {"address": {"email": "algo.api.bob@example.com"}})
    assert _holding(node, bob, token.asset_id)["is-frozen"] is False

    _op(client, token, "forced_transfer", {"from": bob, "to": issuer, "amount": "50", "reason": "court order 7"})
    assert _holding(node, bob, token.asset_id)["amount"] == 0
    assert _holding(node, issuer, token.asset_id)["amount"] == 500

    _op(client, token, "set_roles", {"clawback": ""})
    params = node.asset_info(token.asset_id)["params"]
    assert "clawback" not in params or params["clawback"] in ("", None)
    assert params["freeze"] == issuer and params["manager"] == issuer
    after = client.post(f"/api/v1/tokens/{token.pk}/operations/forced_transfer",
                        {"from": bob, "to": issuer, "amount": "1", "reason": "x"}, format="json")
    assert after.status_code == 409 and after.json()["code"] == "OPERATION_NOT_SUPPORTED"

    _op(client, token, "destroy", {})
    with pytest.raises(Exception):  # noqa: B017, PT011 - algod answers 404 for a destroyed asset
        node.asset_info(token.asset_id)
    assert Token.objects.get(pk=token.pk).destroyed is True
    assert client.get(f"/api/v1/tokens/{token.pk}").json()["operations"] == []


def test_batch_of_100_transfers_in_atomic_groups_of_16(algod_devnet_node, node, user_factory, settings):
    from algosdk import transaction

    from tokens.chains import algorand as algo
    from tokens.networks import get_network

    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("algo.api.batch")
    token = _deploy(client, {"name": "Hundred", "unit_name": "HND", "total": "100000"})
    network = get_network(ALGO)
    funder_key, funder = account.generate_account()
    keys = [account.generate_account() for _ in range(100)]
    algo.ensure_funded(network=network, address=funder, needed_microalgos=100 * 210_000)
    for start in range(0, 100, 8):  # outside accounts opting in by themselves, 8 per group
        sp = algo.suggested_params(network=network)
        txns = []
        for _, address in keys[start:start + 8]:
            txns += [transaction.PaymentTxn(funder, sp, address, 202_000),
                     transaction.AssetOptInTxn(address, sp, token.asset_id)]
        grouped = transaction.assign_group_id(txns)
        secrets = {funder: funder_key, **dict((a, k) for k, a in keys[start:start + 8])}
        signed = [t.sign(secrets[t.sender]) for t in grouped]
        txid = node.send_transactions(signed)
        transaction.wait_for_confirmation(node, txid, 10)
    detail = _op(client, token, "batch_transfer",
                 {"transfers": [{"to": a, "amount": str(i + 1)} for i, (_, a) in enumerate(keys)]})
    assert [_holding(node, a, token.asset_id)["amount"] for _, a in keys] == list(range(1, 101))
    assert sorted({t["part"] for t in detail["transactions"]}) == list(range(7))  # ceil(100 / 16) groups
    assert _holding(node, token.issuer_address, token.asset_id)["amount"] == 100000 - 5050
