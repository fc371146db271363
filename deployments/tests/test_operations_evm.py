"""Token operations on ERC-20 tokens through the API and the one pipeline, on a real anvil node;
every effect is read back with plain web3.py, independently of the product's own read-back."""
import pytest
from eth_account import Account
from web3 import Web3

from deployments.models import Operation, OperationTransaction, Token
from deployments.tests.factories import operation_body
from tokens.chains.evm_artifacts import load_artifact

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def _contract(node_url: str, address: str, standard: str):  # noqa: ANN202
    w3 = Web3(Web3.HTTPProvider(node_url))
    return w3.eth.contract(address=address, abi=load_artifact(standard).abi)


def _deploy(client, standard: str = "erc20-mintable", **extra) -> Token:  # noqa: ANN001
    request = {"network": "evm-local", "name": "Ops", "symbol": "OPS", "decimals": 0, "initial_supply": "1000",
               **({"cap": "5000"} if standard == "erc20-mintable" else {}), **extra}
    response = client.post(f"/api/v1/token/{standard}/create", request, format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _op(client, token: Token, kind: str, body: dict, **headers) -> dict:  # noqa: ANN001
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json", **headers)
    assert response.status_code == 202, response.content
    assert response["Location"].endswith(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}")
    detail = client.get(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return detail


def test_registry_row_and_live_state(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.registry")
    token = _deploy(client)
    listed = client.get("/api/v1/tokens").json()["results"]
    assert [t["id"] for t in listed] == [str(token.pk)]
    detail = client.get(f"/api/v1/tokens/{token.pk}").json()
    assert detail["contract_address"] == token.contract_address and detail["symbol"] == "OPS"
    assert detail["chain_state"] == {"total_supply": "1000", "circulating_supply": "0", "issuer_balance": "1000",
                                     "paused": False, "cap": "5000", "deleted": False,
                                     "roles": {"owner": token.issuer_address}}
    assert set(detail["operations"]) == {"mint", "burn", "transfer", "batch_transfer", "pause", "unpause",
                                         "transfer_ownership"}
    found = client.get("/api/v1/tokens", {"chain_id": token.contract_address.lower()}).json()["results"]
    assert [t["id"] for t in found] == [str(token.pk)]
    holder = client.get(f"/api/v1/tokens/{token.pk}/holders/{token.issuer_address}").json()
    assert holder == {"address": token.issuer_address, "balance": "1000", "frozen": False, "opted_in": True}


def test_every_erc20_mintable_operation_on_chain(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.mintable")
    user_factory("ops.bob")
    token = _deploy(client)
    chain = _contract(anvil_node.url, token.contract_address, "erc20-mintable")
    outsider = Account.create().address

    minted = _op(client, token, "mint", {"to": outsider, "amount": "500", "reason": "series A"})
    assert chain.functions.balanceOf(outsider).call() == 500 and chain.functions.totalSupply().call() == 1500
    assert [h["to_status"] for h in minted["history"]] == ["queued", "submitted", "pending", "confirmed",
                                                           "indexed", "completed"]
    assert minted["transactions"][0]["status"] == "confirmed"

    sent = _op(client, token, "transfer", {"to": {"email": "ops.bob@example.com"}, "amount": "40"})
    bob_address = sent["request"]["to"]
    assert chain.functions.balanceOf(bob_address).call() == 40
    assert sent["recipients"] == [{"to": bob_address, "amount": "40", "email": "ops.bob@example.com", "part": 0,
                                   "status": "confirmed", "tx_id": sent["transactions"][0]["tx_id"]}]

    _op(client, token, "burn", {"amount": "60"})
    assert chain.functions.totalSupply().call() == 1440
    assert chain.functions.balanceOf(token.issuer_address).call() == 900

    _op(client, token, "pause", {})
    assert chain.functions.paused().call() is True
    refused = client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", {"to": outsider, "amount": "1"},
                          format="json")
    assert refused.status_code == 422 and refused.json()["code"] == "TOKEN_PAUSED"
    _op(client, token, "unpause", {})
    assert chain.functions.paused().call() is False
    assert Token.objects.get(pk=token.pk).paused is False

    new_owner = Account.create().address
    _op(client, token, "transfer_ownership", {"new_owner": new_owner})
    assert chain.functions.owner().call() == new_owner
    assert Token.objects.get(pk=token.pk).roles["owner"] == new_owner


def test_batch_of_100_transfers_one_nonce_each(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.batch")
    token = _deploy(client, "erc20-preminted", initial_supply="100000")
    chain = _contract(anvil_node.url, token.contract_address, "erc20-preminted")
    recipients = [Account.create().address for _ in range(100)]
    detail = _op(client, token, "batch_transfer",
                 {"transfers": [{"to": a, "amount": str(i + 1)} for i, a in enumerate(recipients)]})
    assert [chain.functions.balanceOf(a).call() for a in recipients] == list(range(1, 101))
    assert {r["status"] for r in detail["recipients"]} == {"confirmed"}
    txs = OperationTransaction.objects.filter(operation_id=detail["id"]).order_by("part")
    nonces = [tx.nonce for tx in txs]
    assert [tx.part for tx in txs] == list(range(100)) and nonces == list(range(nonces[0], nonces[0] + 100))


def test_refusals_queue_and_sign_nothing(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.refusals")
    token = _deploy(client)
    preminted = _deploy(client, "erc20-preminted")
    someone = Account.create().address

    def refused(target: Token, kind: str, body: dict) -> dict:
        response = client.post(f"/api/v1/tokens/{target.pk}/operations/{kind}", body, format="json")
        assert response.status_code in (400, 409, 422), response.content
        return {"status": response.status_code, **response.json()}

    assert refused(token, "mint", {"to": someone, "amount": "4001"})["code"] == "CAP_EXCEEDED"
    assert refused(token, "transfer", {"to": someone, "amount": "1001"})["code"] == "INSUFFICIENT_BALANCE"
    assert refused(token, "burn", {"amount": "1001"})["code"] == "INSUFFICIENT_BALANCE"
    assert refused(token, "transfer", {"to": someone, "amount": "0"})["code"] == "VALIDATION_ERROR"
    assert refused(token, "transfer", {"to": "0xnot-an-address", "amount": "1"})["code"] == "VALIDATION_ERROR"
    assert refused(token, "transfer", {"to": {"email": "nobody@example.com"}, "amount": "1"})["code"] == \
        "RECIPIENT_NOT_FOUND"
    duplicate = refused(token, "batch_transfer", {"transfers": [{"to": someone, "amount": "1"},
                                                                {"to": someone.lower(), "amount": "2"}]})
    assert duplicate["code"] == "DUPLICATE_RECIPIENT"
    for kind in ("freeze", "unfreeze", "forced_transfer", "set_roles", "destroy"):
        answer = refused(token, kind, operation_body(kind, address=someone))
        assert answer["status"] == 409 and answer["code"] == "OPERATION_NOT_SUPPORTED", answer
        assert "mint" in answer["details"]["supported"]
    for kind in ("mint", "pause", "unpause", "transfer_ownership", "freeze", "forced_transfer", "destroy"):
        answer = refused(preminted, kind, operation_body(kind, address=someone))
        assert answer["status"] == 409 and answer["code"] == "OPERATION_NOT_SUPPORTED", answer
        assert answer["details"]["supported"] == ["burn", "transfer", "batch_transfer"]
    assert Operation.objects.count() == 0 and OperationTransaction.objects.count() == 0


def test_idempotent_replay_and_other_organization(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.idem")
    _, other = user_factory("ops.other")
    token = _deploy(client)
    someone = Account.create().address
    body = {"to": someone, "amount": "5"}
    first = client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", body, format="json",
                        HTTP_IDEMPOTENCY_KEY="op-1")
    again = client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", body, format="json",
                        HTTP_IDEMPOTENCY_KEY="op-1")
    assert first.status_code == again.status_code == 202 and first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Operation.objects.count() == 1
    chain = _contract(anvil_node.url, token.contract_address, "erc20-mintable")
    assert chain.functions.balanceOf(someone).call() == 5
    operation_id = first.json()["id"]
    for path in (f"/api/v1/tokens/{token.pk}", f"/api/v1/tokens/{token.pk}/operations",
                 f"/api/v1/tokens/{token.pk}/operations/{operation_id}",
                 f"/api/v1/tokens/{token.pk}/holders/{someone}"):
        assert other.get(path).status_code == 404, path
    for path, payload in ((f"/api/v1/tokens/{token.pk}/operations/transfer", body),
                          (f"/api/v1/tokens/{token.pk}/operations/{operation_id}/cancel", {"reason": "x"}),
                          (f"/api/v1/tokens/{token.pk}/operations/{operation_id}/retry", None)):
        assert other.post(path, payload, format="json").status_code == 404, path
    assert other.get("/api/v1/tokens").json()["results"] == []


def test_admin_shows_live_state_and_finds_tokens_by_address_operation_and_correlation_id(
        anvil_node, user_factory, settings, admin_client):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.admin")
    token = _deploy(client)
    detail = _op(client, token, "mint", {"to": Account.create().address, "amount": "7"})
    page = admin_client.get(f"/admin/deployments/token/{token.pk}/change/")
    assert page.status_code == 200 and b"&quot;total_supply&quot;: &quot;1007&quot;" in page.content
    for term in (token.contract_address.lower(), detail["id"], detail["correlation_id"]):
        listing = admin_client.get("/admin/deployments/token/", {"q": term})
        assert listing.status_code == 200 and str(token.pk).encode() in listing.content, term
    operation_page = admin_client.get(f"/admin/deployments/operation/{detail['id']}/change/")
    assert operation_page.status_code == 200
    assert detail["transactions"][0]["tx_id"].encode() in operation_page.content
    assert b"signed_bytes" not in operation_page.content


def test_policy_requiring_a_reason_refuses_a_mint_without_one_and_records_it(anvil_node, user_factory, settings):
    from accounts.models import Membership
    from compliance.models import ComplianceDecision
    from compliance.services import issuance_policy_set

    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("ops.policy")
    token = _deploy(client)
    organization = Membership.objects.get(user_id=body["id"]).organization
    issuance_policy_set(organization=organization, actor="test", require_operation_reason=True)
    someone = Account.create().address
    refused = client.post(f"/api/v1/tokens/{token.pk}/operations/mint", {"to": someone, "amount": "1"},
                          format="json")
    assert refused.status_code == 422 and refused.json()["code"] == "COMPLIANCE_VIOLATION"
    assert refused.json()["details"]["failing_rules"] == ["policy.operation_reason_required"]
    assert Operation.objects.count() == 0
    decision = ComplianceDecision.objects.get(organization=organization, source="operation")
    assert decision.allowed is False and decision.failing_rules == ["policy.operation_reason_required"]
    minted = _op(client, token, "mint", {"to": someone, "amount": "1", "reason": "employee plan"})
    assert minted["history"][0]["reason"] == "employee plan"
    transfer = client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", {"to": someone, "amount": "1"},
                           format="json")
    assert transfer.status_code == 202  # transfers need no reason


def test_erc20_preminted_transfer_and_burn(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.preminted")
    token = _deploy(client, "erc20-preminted")
    chain = _contract(anvil_node.url, token.contract_address, "erc20-preminted")
    someone = Account.create().address
    _op(client, token, "transfer", {"to": someone, "amount": "300"})
    _op(client, token, "burn", {"amount": "200"})
    assert chain.functions.balanceOf(someone).call() == 300
    assert chain.functions.totalSupply().call() == 800
    assert chain.functions.balanceOf(token.issuer_address).call() == 500


def test_csv_upload_creates_the_same_batch(anvil_node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("ops.csv")
    user_factory("ops.csv.carol")
    token = _deploy(client, "erc20-preminted")
    chain = _contract(anvil_node.url, token.contract_address, "erc20-preminted")
    a, b = Account.create().address, Account.create().address
    body = f"address,email,amount\n{a},,5\n{b},,6\n,ops.csv.carol@example.com,7\n"
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/batch_transfer", body, content_type="text/csv")
    assert response.status_code == 202, response.content
    detail = client.get(response["Location"]).json()
    assert detail["status"] == "completed"
    carol = detail["recipients"][2]["to"]
    assert [chain.functions.balanceOf(x).call() for x in (a, b, carol)] == [5, 6, 7]
    bad = client.post(f"/api/v1/tokens/{token.pk}/operations/batch_transfer", f"address,amount\n{a},x\n,3\n",
                      content_type="text/csv")
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    assert Operation.objects.count() == 1
