"""The main job end to end on the embedded default (SQLite, the embedded broker, local chain nodes).

Run through `make demo` (`python -m biatec.embedded demo`), which starts anvil, the Algorand devnet
and the IPFS test server, the embedded Redis, one Celery worker and beat, exactly as `make run`
does, and exports their URLs; the deployments are carried out by that worker. The demo talks to
the product only through its REST API (in-process WSGI transport: the same views, middleware and
authentication as over a socket): it registers a demo user, deploys
one token of each of the 12 standards, waits for each, and prints one line per deployment. It exits
non-zero unless all 12 are `completed`.
"""
from __future__ import annotations

import json
import os
import sys
import time
import uuid

import httpx

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biatec.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # the demo prints its own summary
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TERMINAL = {"completed", "failed", "cancelled"}
EVM = "evm-local"
ALGO = "algorand-localnet"


def token_requests() -> list[tuple[str, dict]]:
    metadata = {"description": "Biatec demo asset", "image": "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
                "image_mimetype": "image/png", "properties": {"issuer": "Biatec demo"}}
    return [
        ("erc20-mintable", {"network": EVM, "name": "Demo Mintable", "symbol": "DMT", "decimals": 18,
                            "initial_supply": "1000000000000000000000", "cap": "5000000000000000000000"}),
        ("erc20-preminted", {"network": EVM, "name": "Demo Preminted", "symbol": "DPT", "decimals": 6,
                             "initial_supply": "21000000000000"}),
        ("erc20-security", {"network": EVM, "name": "Demo Shares", "symbol": "DSHR", "decimals": 0,
                            "initial_supply": "1000", "cap": "100000"}),
        ("asa-ft", {"network": ALGO, "name": "Demo ASA", "unit_name": "DASA", "total": "1000000000",
                    "decimals": 6, "url": "https://example.com/demo-asa"}),
        ("asa-nft", {"network": ALGO, "name": "Demo NFT", "unit_name": "DNFT", "url": "https://example.com/nft"}),
        ("asa-fnft", {"network": ALGO, "name": "Demo Fractional NFT", "unit_name": "DFNFT", "decimals": 2}),
        ("arc3-ft", {"network": ALGO, "name": "Demo ARC3 FT", "unit_name": "DA3F", "total": "1000000",
                     "decimals": 2, "metadata": {"name": "Demo ARC3 FT", "decimals": 2, **metadata}}),
        ("arc3-nft", {"network": ALGO, "name": "Demo ARC3 NFT", "unit_name": "DA3N",
                      "metadata": {"name": "Demo ARC3 NFT", "decimals": 0, **metadata}}),
        ("arc3-fnft", {"network": ALGO, "name": "Demo ARC3 FNFT", "unit_name": "DA3FN", "decimals": 3,
                       "metadata": {"name": "Demo ARC3 FNFT", "decimals": 3, **metadata}}),
        ("arc200-mintable", {"network": ALGO, "name": "Demo ARC200 Mintable", "symbol": "D2M", "decimals": 6,
                             "initial_supply": "1000000", "cap": "9000000"}),
        ("arc200-preminted", {"network": ALGO, "name": "Demo ARC200 Preminted", "symbol": "D2P", "decimals": 6,
                              "initial_supply": "5000000"}),
        ("arc1400-mintable", {"network": ALGO, "name": "Demo Security Token", "symbol": "DSEC", "decimals": 0,
                              "initial_supply": "1000", "cap": "100000"}),
    ]


def on_chain_id(results: dict) -> str:
    for key in ("contract_address", "asset_id", "app_id"):
        if results.get(key):
            return f"{key}={results[key]}"
    return "-"


def main() -> int:
    from biatec.wsgi import application

    client = httpx.Client(transport=httpx.WSGITransport(app=application), base_url="http://127.0.0.1", timeout=300)
    email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
    registered = client.post("/api/v1/auth/register", json={"email": email, "password": "demo passphrase for biatec"})
    if registered.status_code != 201:
        print("register failed:", registered.status_code, registered.text)
        return 1
    headers = {"Authorization": f"Bearer {registered.json()['tokens']['access']}"}
    profile = client.get("/api/v1/auth/profile", headers=headers).json()
    print(f"Demo user {profile['email']}: Algorand {profile['algorand_address']}, EVM {profile['evm_addresses']}")
    print(f"{'standard':<18} {'network':<18} {'status':<10} {'on chain':<52} {'tx id':<68} seconds")
    ok = True
    requests = token_requests()
    for standard, body in requests:
        started = time.monotonic()
        created = client.post(f"/api/v1/token/{standard}/create", json=body, headers=headers)
        if created.status_code != 202:
            print(f"{standard:<18} {body['network']:<18} REFUSED {created.status_code} {created.text}")
            ok = False
            continue
        deployment_id = created.json()["id"]
        detail = created.json()
        while detail["status"] not in TERMINAL and time.monotonic() - started < 120:
            time.sleep(0.2)
            detail = client.get(f"/api/v1/token/deployments/{deployment_id}", headers=headers).json()
        results = detail.get("results") or {}
        tx_ids = results.get("tx_ids") or ["-"]
        seconds = time.monotonic() - started
        print(f"{standard:<18} {body['network']:<18} {detail['status']:<10} {on_chain_id(results):<52} "
              f"{tx_ids[0]:<68} {seconds:.2f}")
        if detail["status"] != "completed":
            ok = False
            if detail.get("error"):
                print("    error:", json.dumps(detail["error"]))
    print(f"ALL {len(requests)} COMPLETED" if ok else "SOME DEPLOYMENTS DID NOT COMPLETE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
