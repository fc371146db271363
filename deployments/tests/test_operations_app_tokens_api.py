"""ARC-200 and ARC-1400 operations through the API on the devnet (the cells of the matrix the asset
and adapter tests do not cover): preminted transfer and batch; security-token mint (`arc1594_issue`),
transfer and batch to whitelisted holders only, burn (`redeem`). Balances and supply are read from
the app's boxes and global state with algosdk, not through the product."""
import base64

import pytest
from algosdk import account
from algosdk.error import AlgodHTTPError
from algosdk.v2client.algod import AlgodClient

from accounts.models import User
from accounts.signing import chain_key
from deployments.models import Token
from deployments.tests.factories import operation_body
from tokens.chains import algorand as algo
from tokens.networks import get_network

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
ALGO = "algorand-localnet"


@pytest.fixture
def node(algod_devnet_node) -> AlgodClient:  # noqa: ANN001
    return AlgodClient(algod_devnet_node.token, algod_devnet_node.url)


def _balance(node: AlgodClient, app_id: int, address: str) -> int:
    try:
        raw = node.application_box_by_name(app_id, algo.balance_box(address))["value"]
    except AlgodHTTPError as exc:
        assert exc.code == 404
        return 0
    return int.from_bytes(base64.b64decode(raw), "big")


def _supply(node: AlgodClient, app_id: int) -> int:
    for kv in node.application_info(app_id)["params"]["global-state"]:
        if base64.b64decode(kv["key"]) == b"total_supply":
            return int.from_bytes(base64.b64decode(kv["value"]["bytes"]), "big")
    raise AssertionError("no total_supply in the app's global state")


def _deploy(client, standard: str, body: dict) -> Token:  # noqa: ANN001
    response = client.post(f"/api/v1/token/{standard}/create", {"network": ALGO, "decimals": 0, **body},
                           format="json")
    assert response.status_code == 202, response.content
    assert client.get(f"/api/v1/token/deployments/{response.json()['id']}").json()["status"] == "completed"
    return Token.objects.get(deployment_id=response.json()["id"])


def _op(client, token: Token, kind: str, body: dict) -> dict:  # noqa: ANN001
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json")
    assert response.status_code == 202, response.content
    detail = client.get(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return detail


def _whitelist(token: Token, user_id: str, addresses: list[str]) -> None:
    """The issuer puts holders on the contract's whitelist (the holder registry issue will do this
    through an `allowlist_sync` operation; here the chain layer, signed with the issuer's key)."""
    network = get_network(ALGO)
    key = chain_key(user=User.objects.get(pk=user_id), network=network)
    for address in addresses:
        txns = algo.app_operation_group(network=network, sp=algo.suggested_params(network=network),
                                        sender=key.address, app_id=int(token.app_id or 0), standard=token.standard,
                                        kind="whitelist", params={"address": address, "eligible": True},
                                        lease_seed=f"test-whitelist|{address}")
        signed = algo.sign_transactions(signer=key.open, txns=txns, reason="test whitelist")
        algo.broadcast(network=network, raw=signed.raw)
        assert algo.wait_for_confirmation(network=network, txid=signed.txids[-1],
                                          last_valid=signed.last_valid).state == algo.CONFIRMED


def test_arc200_preminted_transfer_and_batch(algod_devnet_node, node, user_factory, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, client = user_factory("apps.api.arc200")
    token = _deploy(client, "arc200-preminted", {"name": "Fixed 200", "symbol": "F200", "initial_supply": "1000"})
    one = account.generate_account()[1]
    _op(client, token, "transfer", {"to": one, "amount": "10"})
    assert _balance(node, token.app_id, one) == 10
    many = [account.generate_account()[1] for _ in range(20)]
    detail = _op(client, token, "batch_transfer", {"transfers": [{"to": a, "amount": "2"} for a in many]})
    assert [_balance(node, token.app_id, a) for a in many] == [2] * 20
    assert {r["part"] for r in detail["recipients"]} == {0, 1}  # 15 calls per group, then 5
    assert _balance(node, token.app_id, token.issuer_address) == 1000 - 10 - 40
    for kind in ("mint", "burn", "pause", "freeze"):
        answer = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", operation_body(kind, address=one),
                             format="json")
        assert answer.status_code == 409 and answer.json()["code"] == "OPERATION_NOT_SUPPORTED"


def test_arc1400_mint_transfer_batch_and_burn_to_whitelisted_holders(algod_devnet_node, node, user_factory,
                                                                      settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("apps.api.arc1400")
    token = _deploy(client, "arc1400-mintable", {"name": "Sec 1400", "symbol": "S14", "initial_supply": "100",
                                                 "cap": "1000"})
    a, b, outsider = (account.generate_account()[1] for _ in range(3))
    refused = client.post(f"/api/v1/tokens/{token.pk}/operations/mint", {"to": a, "amount": "5"}, format="json")
    assert refused.status_code == 422 and refused.json()["code"] == "TRANSFER_NOT_ALLOWED"
    _whitelist(token, body["id"], [a, b])

    _op(client, token, "mint", {"to": a, "amount": "50"})
    assert _balance(node, token.app_id, a) == 50 and _supply(node, token.app_id) == 150
    _op(client, token, "transfer", {"to": b, "amount": "20"})
    assert _balance(node, token.app_id, b) == 20
    _op(client, token, "batch_transfer", {"transfers": [{"to": a, "amount": "1"}, {"to": b, "amount": "2"}]})
    assert (_balance(node, token.app_id, a), _balance(node, token.app_id, b)) == (51, 22)
    _op(client, token, "burn", {"amount": "30"})
    assert _supply(node, token.app_id) == 120 and _balance(node, token.app_id, token.issuer_address) == 47
    capped = client.post(f"/api/v1/tokens/{token.pk}/operations/mint", {"to": a, "amount": "881"}, format="json")
    assert capped.status_code == 422 and capped.json()["code"] == "CAP_EXCEEDED"
    denied = client.post(f"/api/v1/tokens/{token.pk}/operations/transfer", {"to": outsider, "amount": "1"},
                         format="json")
    assert denied.status_code == 422 and denied.json()["details"]["rules"] == ["not_whitelisted"]
