"""ARC-3: metadata validated and pinned on the IPFS test server (kubo API), its CID and hash computed
locally, and the ASA created on the devnet with the user's ARC-76 key and read back."""
from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from django.test import override_settings

from biatec.core.errors import ValidationFailed
from devchain.ipfs import raw_cid as devchain_raw_cid
from devchain.ipfs import start_ipfs
from tokens.chains import algorand as algo
from tokens.chains import arc3, ipfs
from tokens.networks import Network
from tokens.tests.test_algorand_client import _user, _validated, run_step

IMAGE_INTEGRITY = "sha256-" + base64.b64encode(hashlib.sha256(b"image").digest()).decode()
ARC3_CASES = {
    "arc3-ft": {"name": "Biatec Loyalty", "unit_name": "BLOY", "total": "1000000000", "decimals": 2,
                "metadata": {"name": "Biatec Loyalty", "description": "Loyalty points — ünïcode",
                             "image": "ipfs://bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy",
                             "image_integrity": IMAGE_INTEGRITY, "image_mimetype": "image/png",
                             "properties": {"tier": "gold", "perks": [1, 2, 3]}}},
    "arc3-nft": {"name": "Biatec Art #7", "unit_name": "BART7",
                 "metadata": {"description": "One of one", "background_color": "ffaa00",
                              "external_url": "https://biatec.io/art/7"}},
    "arc3-fnft": {"name": "Biatec Villa", "unit_name": "BVIL", "decimals": 2,
                  "metadata": {"name": "Biatec Villa", "decimals": 2, "properties": {"m2": 240}}},
}


@pytest.mark.chain
@pytest.mark.django_db
@pytest.mark.parametrize("standard", list(ARC3_CASES))
def test_arc3_pinned_created_and_read_back(algorand_local: Network, ipfs_node, standard: str) -> None:
    user = _user()
    params = _validated(standard, ARC3_CASES[standard])
    document = arc3.arc3_prepare(standard=standard, params=params)
    assert document.cid == devchain_raw_cid(document.content) and document.cid.startswith("bafkrei")
    assert document.url == f"ipfs://{document.cid}#arc3" and len(document.url.encode()) <= 96
    assert arc3.arc3_pin(document=document) == document.cid  # the server's CID equals the local one

    asset_params = arc3.arc3_asset_params(params=params, document=document)
    _, status = run_step(user, algorand_local, standard=standard, step=algo.ASSET_CREATE, params=asset_params,
                         deployment_id=str(uuid.uuid4()))
    onchain = algo.read_asset(network=algorand_local, asset_id=status.asset_id)
    assert onchain["url"] == document.url and onchain["url"].endswith("#arc3")
    assert onchain["name"] == params["name"] and onchain["unit_name"] == params["unit_name"]
    assert onchain["creator"] == user.algorand_address
    expected = {"arc3-ft": (1_000_000_000, 2), "arc3-nft": (1, 0), "arc3-fnft": (100, 2)}[standard]
    assert (onchain["total"], onchain["decimals"]) == expected
    assert onchain["default_frozen"] is False

    # The bytes the IPFS server holds hash to the on-chain metadata hash and match the local CID.
    cid = onchain["url"].removeprefix("ipfs://").removesuffix("#arc3")
    stored = ipfs.ipfs_cat(cid=cid)
    assert stored == document.content
    assert base64.b64decode(onchain["metadata_hash"]) == hashlib.sha256(stored).digest()
    assert ipfs.raw_cid(stored) == cid
    pinned = __import__("json").loads(stored)
    assert pinned["decimals"] == expected[1]
    assert pinned["name"] == params["name"]


def _doc(standard: str = "arc3-ft", **changes) -> arc3.Arc3Document:
    case = ARC3_CASES[standard]
    params = {**case, "total": int(case.get("total", 1)), "decimals": case.get("decimals", 0), **changes}
    if standard == "arc3-fnft":
        params["total"] = 10 ** params["decimals"]
    return arc3.arc3_prepare(standard=standard, params=params)


def test_canonical_bytes_hash_and_cid_are_deterministic() -> None:
    a = _doc(metadata={"b": 1, "a": "é", "name": "Biatec Loyalty", "decimals": 2})
    b = _doc(metadata={"decimals": 2, "name": "Biatec Loyalty", "a": "é", "b": 1})
    assert a.content == b.content == '{"a":"é","b":1,"decimals":2,"name":"Biatec Loyalty"}'.encode()
    assert a.metadata_hash == hashlib.sha256(a.content).digest() and len(a.metadata_hash) == 32
    assert a.cid == b.cid == ipfs.raw_cid(a.content)


@pytest.mark.parametrize(("standard", "changes", "field"), [
    ("arc3-ft", {"metadata": {"decimals": 3}}, "metadata.decimals"),
    ("arc3-ft", {"metadata": {"name": "Something else"}}, "metadata.name"),
    ("arc3-ft", {"metadata": {"image": 5}}, "metadata.image"),
    ("arc3-ft", {"metadata": {"image_integrity": "md5-abc"}}, "metadata.image_integrity"),
    ("arc3-ft", {"metadata": {"background_color": "red"}}, "metadata.background_color"),
    ("arc3-ft", {"metadata": {"properties": []}}, "metadata.properties"),
    ("arc3-ft", {"metadata": {"extra_metadata": "AA=="}}, "metadata.extra_metadata"),
    ("arc3-ft", {"metadata": ["not", "an", "object"]}, "metadata"),
    ("arc3-nft", {"total": 2}, "total"),
    ("arc3-nft", {"decimals": 1}, "total"),
])
def test_metadata_validated_against_arc3_and_the_asset(standard: str, changes: dict, field: str) -> None:
    case = ARC3_CASES[standard]
    params = {**case, "total": int(case.get("total", 1)), "decimals": case.get("decimals", 0), **changes}
    with pytest.raises(ValidationFailed) as err:
        arc3.arc3_prepare(standard=standard, params=params)
    assert err.value.code == "VALIDATION_ERROR"
    assert list(err.value.details["fields"]) == [field]


def test_fnft_shape_and_name_rules() -> None:
    with pytest.raises(ValidationFailed):
        arc3.arc3_prepare(standard="arc3-fnft", params={"name": "V", "unit_name": "V", "total": 1000, "decimals": 2,
                                                        "metadata": {}})
    doc = arc3.arc3_prepare(standard="arc3-fnft", params={"name": "V@arc3", "unit_name": "V", "total": 1000,
                                                          "decimals": 3, "metadata": {"name": "V"}})
    assert doc.metadata == {"name": "V", "decimals": 3}
    long_name = "A metadata name well beyond thirty-two bytes"
    doc = arc3.arc3_prepare(standard="arc3-ft", params={"name": long_name[:32], "unit_name": "L", "total": 5,
                                                        "decimals": 0, "metadata": {"name": long_name}})
    assert doc.metadata["name"] == long_name


@pytest.mark.django_db
def test_ipfs_server_down_is_ipfs_error() -> None:
    server = start_ipfs()
    url = server.url
    server.stop()
    with override_settings(IPFS_API_URL=url, IPFS_API_AUTH=""):
        with pytest.raises(ipfs.IpfsError) as err:
            arc3.arc3_pin(document=_doc())
    assert err.value.code == "IPFS_ERROR" and err.value.retryable
    with override_settings(IPFS_API_URL=""):
        with pytest.raises(ipfs.IpfsError) as err:
            arc3.arc3_pin(document=_doc())
        assert err.value.code == "IPFS_ERROR" and not err.value.retryable


def test_ipfs_wrong_credentials_and_cid_mismatch_are_ipfs_errors(ipfs_node) -> None:
    with override_settings(IPFS_API_AUTH="Bearer wrong"):
        with pytest.raises(ipfs.IpfsError) as err:
            arc3.arc3_pin(document=_doc())
    assert err.value.code == "IPFS_ERROR" and err.value.details["status"] == 401 and not err.value.retryable
    with pytest.raises(ipfs.IpfsError) as err:
        ipfs.ipfs_add(content=b"some bytes", expected_cid=ipfs.raw_cid(b"other bytes"))
    assert err.value.code == "IPFS_ERROR" and not err.value.retryable
    assert err.value.details["answered_cid"] == ipfs.raw_cid(b"some bytes")
    # The API URL may be given with or without /api/v0.
    with override_settings(IPFS_API_URL=ipfs_node.api_url):
        assert ipfs.ipfs_add(content=b"some bytes") == ipfs.raw_cid(b"some bytes")
