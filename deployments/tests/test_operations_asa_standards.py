"""The asa-* / arc3-* column of the operations matrix beyond asa-ft (test_operations_algorand_api.py):
every other ASA standard (unique NFT, fractional NFT, the ARC-3 ones with their IPFS metadata)
deployed through the API with a freeze and a clawback address, then transfer to a registered user's
e-mail, batch_transfer, freeze, unfreeze, forced_transfer, set_roles and destroy through the
operations endpoints, each effect read back with algosdk's own client (not the product's read)."""
import pytest
from algosdk.v2client.algod import AlgodClient

from deployments.models import Token

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ALGO = "algorand-localnet"
META = {"description": "operations test", "image": "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}
# standard, create body, units the holders get (the NFT's whole supply is 1 unit)
CASES = [
    ("asa-nft", {"name": "Ops NFT", "unit_name": "ONFT"}, 1),
    ("asa-fnft", {"name": "Ops FNFT", "unit_name": "OFNFT", "decimals": 2}, 30),
    ("arc3-ft", {"name": "Ops ARC3", "unit_name": "OA3", "total": "500", "decimals": 1,
                 "metadata": {"name": "Ops ARC3", "decimals": 1, **META}}, 30),
    ("arc3-nft", {"name": "Ops ARC3 NFT", "unit_name": "OA3N", "metadata": {"name": "Ops ARC3 NFT", **META}}, 1),
    ("arc3-fnft", {"name": "Ops ARC3 FNFT", "unit_name": "OA3F", "decimals": 2,
                   "metadata": {"name": "Ops ARC3 FNFT", "decimals": 2, **META}}, 30),
]


def _op(client, token: Token, kind: str, body: dict) -> dict:  # noqa: ANN001
    response = client.post(f"/api/v1/tokens/{token.pk}/operations/{kind}", body, format="json")
    assert response.status_code == 202, (kind, response.content)
    detail = client.get(f"/api/v1/tokens/{token.pk}/operations/{response.json()['id']}").json()
    assert detail["status"] == "completed", detail
    return detail


def _holding(node: AlgodClient, address: str, asset_id: int) -> dict:
    return node.account_asset_info(address, asset_id)["asset-holding"]


@pytest.mark.parametrize(("standard", "body", "units"), CASES, ids=[c[0] for c in CASES])
def test_every_asa_standard_runs_its_operations_on_chain(algod_devnet_node, ipfs_node, user_factory, settings,
                                                         standard, body, units):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    node = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    name = standard.replace("-", ".")
    issuer_body, client = user_factory(f"ops.{name}.issuer")
    alice_body, _ = user_factory(f"ops.{name}.alice")
    bob_body, _ = user_factory(f"ops.{name}.bob")
    issuer, alice, bob = (b["algorand_address"] for b in (issuer_body, alice_body, bob_body))
    created = client.post(f"/api/v1/token/{standard}/create",
                          {"network": ALGO, **body, "freeze": issuer, "clawback": issuer}, format="json")
    assert created.status_code == 202, created.content
    token = Token.objects.get(deployment_id=created.json()["id"])
    total = node.asset_info(token.asset_id)["params"]["total"]
    detail = client.get(f"/api/v1/tokens/{token.pk}").json()
    assert set(detail["operations"]) == {"transfer", "batch_transfer", "freeze", "unfreeze", "forced_transfer",
                                         "set_roles", "destroy"}

    # An NFT's single unit goes to Alice by e-mail; a divisible one is split between Alice and Bob.
    _op(client, token, "transfer", {"to": {"email": f"ops.{name}.alice@example.com"}, "amount": str(units)})
    assert _holding(node, alice, token.asset_id)["amount"] == units
    if units > 1:
        _op(client, token, "batch_transfer", {"transfers": [
            {"to": {"email": f"ops.{name}.bob@example.com"}, "amount": "5"},
            {"to": {"email": f"ops.{name}.alice@example.com"}, "amount": "1"}]})
        assert _holding(node, bob, token.asset_id)["amount"] == 5
        assert _holding(node, alice, token.asset_id)["amount"] == units + 1

    _op(client, token, "freeze", {"address": alice})
    assert _holding(node, alice, token.asset_id)["is-frozen"] is True
    _op(client, token, "unfreeze", {"address": {"email": f"ops.{name}.alice@example.com"}})
    assert _holding(node, alice, token.asset_id)["is-frozen"] is False

    # Everything back to the issuer by clawback: then the issuer holds the whole supply and may destroy.
    for holder in (alice, bob) if units > 1 else (alice,):
        held = _holding(node, holder, token.asset_id)["amount"]
        _op(client, token, "forced_transfer", {"from": holder, "to": issuer, "amount": str(held), "reason": "redeem"})
        assert _holding(node, holder, token.asset_id)["amount"] == 0
    assert _holding(node, issuer, token.asset_id)["amount"] == total

    _op(client, token, "set_roles", {"freeze": ""})
    params = node.asset_info(token.asset_id)["params"]
    assert params.get("freeze") in (None, "") and params["clawback"] == issuer and params["manager"] == issuer

    _op(client, token, "destroy", {})
    with pytest.raises(Exception):  # noqa: B017, PT011 - algod answers 404 for a destroyed asset
        node.asset_info(token.asset_id)
    assert Token.objects.get(pk=token.pk).destroyed is True
