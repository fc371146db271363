"""Algorand deployments (ASA, ARC-3, ARC-200, ARC-1400) through the API and the pipeline, on the
devnet; each token is then read from the chain with plain algosdk calls, not the product's code."""
import base64
import hashlib

import httpx
import pytest
from algosdk.v2client.algod import AlgodClient

from deployments.models import DeploymentTransaction

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]

ALGO = "algorand-localnet"
META = {"description": "pipeline test", "image": "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}
CASES = [
    ("asa-ft", {"name": "Pipe ASA", "unit_name": "PASA", "total": "1000000", "decimals": 2,
                "url": "https://example.com/a"}),
    ("asa-nft", {"name": "Pipe NFT", "unit_name": "PNFT"}),
    ("asa-fnft", {"name": "Pipe FNFT", "unit_name": "PFNFT", "decimals": 3}),
    ("arc3-ft", {"name": "Pipe ARC3", "unit_name": "PA3", "total": "500", "decimals": 1,
                 "metadata": {"name": "Pipe ARC3", "decimals": 1, **META}}),
    ("arc3-nft", {"name": "Pipe ARC3 NFT", "unit_name": "PA3N", "metadata": {"name": "Pipe ARC3 NFT", **META}}),
    ("arc3-fnft", {"name": "Pipe ARC3 FNFT", "unit_name": "PA3F", "decimals": 2,
                   "metadata": {"name": "Pipe ARC3 FNFT", "decimals": 2, **META}}),
    ("arc200-mintable", {"name": "Pipe 200M", "symbol": "P2M", "decimals": 4, "initial_supply": "1000",
                         "cap": "9000"}),
    ("arc200-preminted", {"name": "Pipe 200P", "symbol": "P2P", "decimals": 0, "initial_supply": "77"}),
    ("arc1400-mintable", {"name": "Pipe Security", "symbol": "PSEC", "decimals": 0, "initial_supply": "10",
                          "cap": "100"}),
]


def _global_state(algod: AlgodClient, app_id: int) -> dict:
    state = algod.application_info(app_id)["params"].get("global-state", [])
    out = {}
    for kv in state:
        key = base64.b64decode(kv["key"]).decode()
        value = kv["value"]
        out[key] = base64.b64decode(value["bytes"]) if value["type"] == 1 else value["uint"]
    return out


@pytest.mark.parametrize(("standard", "fields"), CASES, ids=[c[0] for c in CASES])
def test_algorand_standard_from_create_to_completed(algod_devnet_node, ipfs_node, user_factory, settings,
                                                    standard, fields):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, client = user_factory("pipe.algo")
    response = client.post(f"/api/v1/token/{standard}/create", {"network": ALGO, **fields}, format="json")
    assert response.status_code == 202, response.content
    deployment_id = response.json()["id"]
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["status"] == "completed", detail
    history = [h["to_status"] for h in client.get(f"/api/v1/token/deployments/{deployment_id}/history").json()[
        "results"]]
    assert history == ["queued", "submitted", "pending", "confirmed", "indexed", "completed"]

    algod = AlgodClient(algod_devnet_node.token, algod_devnet_node.url)
    results = detail["results"]
    if standard.startswith(("asa", "arc3")):
        params = algod.asset_info(results["asset_id"])["params"]
        assert params["name"] == fields["name"] and params["unit-name"] == fields["unit_name"]
        assert params["creator"] == body["algorand_address"]
        if standard.endswith("-nft"):
            assert (params["total"], params["decimals"]) == (1, 0)
        if standard.endswith("-fnft"):
            assert (params["total"], params["decimals"]) == (10 ** fields["decimals"], fields["decimals"])
        if standard.startswith("arc3"):
            assert params["url"].startswith("ipfs://") and params["url"].endswith("#arc3")
            cid = params["url"][len("ipfs://"):-len("#arc3")]
            stored = httpx.post(f"{ipfs_node.url.rstrip('/')}/api/v0/cat", params={"arg": cid},
                                headers={"Authorization": settings.IPFS_API_AUTH}).content
            assert base64.b64encode(hashlib.sha256(stored).digest()).decode() == params["metadata-hash"]
        assert DeploymentTransaction.objects.filter(deployment_id=deployment_id).count() == 1
    else:
        state = _global_state(algod, results["app_id"])
        assert state["token_name"].rstrip(b"\x00").decode() == fields["name"]
        assert state["token_symbol"].rstrip(b"\x00").decode() == fields["symbol"]
        assert int.from_bytes(state["total_supply"], "big") == int(fields["initial_supply"])
        assert state["decimals"] == fields["decimals"]
        steps = list(DeploymentTransaction.objects.filter(deployment_id=deployment_id).values_list("step", "status"))
        assert steps == [("app_create", "confirmed"), ("bootstrap", "confirmed")]
        # The bootstrap group is its own transaction in the history, confirmed on chain (a later
        # round than the app creation) before the deployment says `confirmed`.
        page = client.get(f"/api/v1/token/deployments/{deployment_id}/history").json()
        shown = {t["step"]: t for t in page["transactions"]}
        assert [t["step"] for t in page["transactions"]] == ["app_create", "bootstrap"]
        assert all(t["status"] == "confirmed" for t in shown.values())
        for step in ("app_create", "bootstrap"):
            info = algod.pending_transaction_info(shown[step]["tx_id"])
            assert info["confirmed-round"] == shown[step]["confirmed_in"] > 0
        assert shown["bootstrap"]["confirmed_in"] >= shown["app_create"]["confirmed_in"]
        confirmed = next(e for e in page["results"] if e["to_status"] == "confirmed")
        assert confirmed["facts"]["steps"] == {step: shown[step]["tx_id"] for step in shown}
        before = [e["to_status"] for e in page["results"][:page["results"].index(confirmed)]]
        assert "confirmed" not in before
