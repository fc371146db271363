"""The IPFS test server computes kubo's CIDs and round-trips blobs."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from multiformats import CID, multihash

from devchain.ipfs import IpfsProcess, add_block, raw_cid

# Published kubo results: `ipfs add --cid-version 1 --raw-leaves` of "hello world",
# of the empty file, and plain `ipfs add` (CIDv0) of "hello world\n".
HELLO_RAW_V1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
EMPTY_RAW_V1 = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
HELLO_NL_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
EMPTY_V0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"


def _post(server: IpfsProcess, path: str, body: bytes = b"", content_type: str | None = None,
          auth: str | None = "default") -> urllib.request.Request:
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if auth == "default":
        headers["Authorization"] = f"Bearer {server.bearer_token}"
    elif auth:
        headers["Authorization"] = auth
    return urllib.request.Request(server.url + path, data=body, headers=headers, method="POST")


def _multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    chunks = []
    for name, data in files:
        chunks.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def add(server: IpfsProcess, files: list[tuple[str, bytes]], query: str = "cid-version=1&raw-leaves=true",
        auth: str | None = "default") -> list[dict]:
    body, ctype = _multipart(files)
    with urllib.request.urlopen(_post(server, f"/api/v0/add?{query}", body, ctype, auth)) as resp:
        return [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]


def cat(server: IpfsProcess, cid: str) -> bytes:
    with urllib.request.urlopen(_post(server, f"/api/v0/cat?arg={cid}")) as resp:
        return resp.read()


def test_known_vectors_offline() -> None:
    assert raw_cid(b"hello world") == HELLO_RAW_V1
    assert raw_cid(b"") == EMPTY_RAW_V1
    assert add_block(b"hello world\n").cid == HELLO_NL_V0
    assert add_block(b"hello world\n").size == 20
    assert add_block(b"").cid == EMPTY_V0


def test_add_then_cat_round_trip(ipfs_server: IpfsProcess) -> None:
    data = json.dumps({"name": "Biatec", "decimals": 6}, sort_keys=True).encode()
    [entry] = add(ipfs_server, [("metadata.json", data)])
    assert entry["Name"] == "metadata.json"
    assert entry["Size"] == str(len(data))
    assert entry["Hash"].startswith("bafkrei")
    assert cat(ipfs_server, entry["Hash"]) == data


def test_cid_matches_independent_computation(ipfs_server: IpfsProcess) -> None:
    data = b"\x00\x01binary arc-3 image bytes\xff" * 100
    [entry] = add(ipfs_server, [("image.bin", data)])
    expected = CID("base32", 1, "raw", multihash.digest(data, "sha2-256"))
    assert entry["Hash"] == str(expected)


def test_known_vector_through_http(ipfs_server: IpfsProcess) -> None:
    [entry] = add(ipfs_server, [("hello.txt", b"hello world")])
    assert entry["Hash"] == HELLO_RAW_V1
    [v0] = add(ipfs_server, [("hello.txt", b"hello world\n")], query="")
    assert v0["Hash"] == HELLO_NL_V0
    assert cat(ipfs_server, HELLO_NL_V0) == b"hello world\n"
    assert cat(ipfs_server, f"/ipfs/{HELLO_RAW_V1}") == b"hello world"


def test_several_files_answer_one_line_each(ipfs_server: IpfsProcess) -> None:
    entries = add(ipfs_server, [("a", b"first"), ("b", b"second")])
    assert [e["Hash"] for e in entries] == [raw_cid(b"first"), raw_cid(b"second")]


def test_pin_add(ipfs_server: IpfsProcess) -> None:
    [entry] = add(ipfs_server, [("p", b"pin me")], query="cid-version=1&raw-leaves=true&pin=false")
    with urllib.request.urlopen(_post(ipfs_server, f"/api/v0/pin/add?arg={entry['Hash']}")) as resp:
        assert json.load(resp) == {"Pins": [entry["Hash"]]}


def test_unknown_cid_is_an_error(ipfs_server: IpfsProcess) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        cat(ipfs_server, raw_cid(b"never added"))
    assert err.value.code == 500
    assert json.loads(err.value.read())["Type"] == "error"


def test_auth_is_enforced(ipfs_server: IpfsProcess) -> None:
    for auth in (None, "Bearer wrong"):
        with pytest.raises(urllib.error.HTTPError) as err:
            add(ipfs_server, [("x", b"x")], auth=auth)
        assert err.value.code == 401


def test_oversized_file_is_refused(ipfs_server: IpfsProcess) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        add(ipfs_server, [("big", b"x" * (262_144 + 1))])
    assert err.value.code == 400
    assert "262144" in json.loads(err.value.read())["Message"]


def test_get_on_api_is_refused_like_kubo(ipfs_server: IpfsProcess) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(ipfs_server.url + "/api/v0/add")
    assert err.value.code == 405
