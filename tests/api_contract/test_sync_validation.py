"""Everything knowable at POST is refused at POST: one test per rule, each proving that the refused
request left nothing behind (no deployment row, no idempotency record that would replay it)."""
from __future__ import annotations

from typing import Any

import pytest

from deployments.models import Deployment, IdempotencyRecord
from devchain.anvil import rpc
from tokens.chains.arc3 import arc3_prepare

pytestmark = pytest.mark.django_db
CLOSED = "http://127.0.0.1:1"  # a node that does not answer (a real closed port, not a mock)
ARC3 = {"network": "algorand-localnet", "name": "Gold", "unit_name": "GLD", "total": "1000", "decimals": 2,
        "metadata": {"name": "Gold", "decimals": 2, "description": "One gram"}}
ERC20 = {"network": "evm-local", "name": "Acme", "symbol": "ACME", "decimals": 18, "initial_supply": "1000",
         "cap": "5000"}


@pytest.fixture
def unreachable_nodes(settings) -> None:
    """Rules that need no chain: a request refused by them never gets to ask the node."""
    settings.CHAIN_NODES = {"evm-local": {"url": CLOSED}, "algorand-localnet": {"url": CLOSED, "token": "x"}}


@pytest.fixture
def alice(user_factory) -> Any:
    return user_factory("sync.alice")[1]


def refused(client: Any, standard: str, body: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/token/{standard}/create", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["code"] == code, answer
    assert not Deployment.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    return answer


def field_errors(answer: dict[str, Any]) -> dict[str, Any]:
    return answer["details"]["fields"]


# ---- ARC-3 metadata consistency -------------------------------------------------------------------
@pytest.mark.usefixtures("unreachable_nodes")
def test_arc3_metadata_name_must_match_the_asset(alice) -> None:
    body = {**ARC3, "metadata": {**ARC3["metadata"], "name": "Silver"}}
    assert "metadata.name" in field_errors(refused(alice, "arc3-ft", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
def test_arc3_metadata_decimals_must_match_the_asset(alice) -> None:
    body = {**ARC3, "metadata": {**ARC3["metadata"], "decimals": 6}}
    assert "metadata.decimals" in field_errors(refused(alice, "arc3-ft", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
def test_arc3_metadata_unit_name_must_match_the_asset(alice) -> None:
    body = {**ARC3, "metadata": {**ARC3["metadata"], "unitName": "SLV"}}
    assert "metadata.unitName" in field_errors(refused(alice, "arc3-ft", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
def test_arc3_url_must_end_with_the_arc3_suffix(alice) -> None:
    body = {**ARC3, "url": "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}
    assert "url" in field_errors(refused(alice, "arc3-ft", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
def test_arc3_url_must_be_the_pinned_document(alice) -> None:
    body = {**ARC3, "url": "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy#arc3"}
    assert "url" in field_errors(refused(alice, "arc3-ft", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
def test_arc3_metadata_hash_when_supplied_must_be_the_computed_one(alice) -> None:
    body = {**ARC3, "metadata_hash": "ab" * 32}
    assert "metadata_hash" in field_errors(refused(alice, "arc3-ft", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
def test_arc3_with_the_computed_url_and_hash_gets_past_validation(alice) -> None:
    """The positive side of the three rules above: the request goes on to the node question."""
    document = arc3_prepare(standard="arc3-ft", params=ARC3)
    body = {**ARC3, "url": document.url, "metadata_hash": document.metadata_hash.hex()}
    refused(alice, "arc3-ft", body, 503, "NETWORK_UNAVAILABLE")


# ---- amounts and decimals -----------------------------------------------------------------------
@pytest.mark.usefixtures("unreachable_nodes")
def test_asa_total_must_fit_uint64(alice) -> None:
    body = {"network": "algorand-localnet", "name": "Big", "unit_name": "BIG", "total": str(2**64)}
    assert "total" in field_errors(refused(alice, "asa-ft", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
def test_erc20_amounts_must_fit_uint256(alice) -> None:
    body = {**ERC20, "initial_supply": str(2**256), "cap": str(2**256)}
    errors = field_errors(refused(alice, "erc20-mintable", body, 400, "VALIDATION_ERROR"))
    assert {"initial_supply", "cap"} <= set(errors)


@pytest.mark.usefixtures("unreachable_nodes")
def test_initial_supply_must_not_exceed_the_cap(alice) -> None:
    assert "cap" in field_errors(refused(alice, "erc20-mintable", {**ERC20, "initial_supply": "5001"}, 400,
                                         "VALIDATION_ERROR"))
    body = {"network": "algorand-localnet", "name": "A", "symbol": "A", "initial_supply": "10", "cap": "9"}
    assert "cap" in field_errors(refused(alice, "arc200-mintable", body, 400, "VALIDATION_ERROR"))


@pytest.mark.usefixtures("unreachable_nodes")
@pytest.mark.parametrize(("standard", "body"), [
    ("erc20-preminted", {"network": "evm-local", "name": "A", "symbol": "A", "decimals": 19, "initial_supply": "1"}),
    ("asa-ft", {"network": "algorand-localnet", "name": "A", "unit_name": "A", "total": "1", "decimals": 20}),
    ("arc200-preminted", {"network": "algorand-localnet", "name": "A", "symbol": "A", "decimals": 256,
                          "initial_supply": "1"}),
])
def test_decimals_within_the_family_bounds(alice, standard: str, body: dict[str, Any]) -> None:
    assert "decimals" in field_errors(refused(alice, standard, body, 400, "VALIDATION_ERROR"))


# ---- the network ----------------------------------------------------------------------------------
@pytest.mark.usefixtures("unreachable_nodes")
def test_the_network_must_accept_the_standard(alice) -> None:
    answer = refused(alice, "asa-ft", {"network": "evm-local", "name": "A", "unit_name": "A", "total": "1"}, 400,
                     "INVALID_NETWORK")
    assert "algorand-localnet" in answer["details"]["accepted_networks"]


@pytest.mark.usefixtures("unreachable_nodes")
def test_a_node_that_does_not_answer_is_network_unavailable(alice) -> None:
    answer = refused(alice, "erc20-mintable", ERC20, 503, "NETWORK_UNAVAILABLE")
    assert answer["details"]["network"] == "evm-local"


# ---- the deployer's balance ----------------------------------------------------------------------
@pytest.fixture
def public_evm(anvil_factory, settings) -> Any:
    """A second anvil posing as a public network (no faucet there)."""
    node = anvil_factory(chain_id=11155111)
    settings.CHAIN_NODES = {**settings.CHAIN_NODES, "ethereum-sepolia": {"url": node.url}}
    return node


def test_an_evm_deployer_that_cannot_pay_is_insufficient_funds(user_factory, public_evm, settings,
                                                                 django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # sign-up derives the EVM keys
        body, client = user_factory("sync.poor")
    address = next(n["address"] for n in client.get("/api/v1/auth/profile").json()["evm_networks"]
                   if n["network"] == "ethereum-sepolia")
    rpc(public_evm.url, "anvil_setBalance", [address, hex(1000)])
    body = {"network": "ethereum-sepolia", "name": "P", "symbol": "P", "initial_supply": "1"}
    answer = refused(client, "erc20-preminted", body, 402, "INSUFFICIENT_FUNDS")
    assert answer["details"]["available"] == "1000" and int(answer["details"]["needed"]) > 1000
    assert answer["details"]["address"] == address


def test_an_algorand_deployer_that_cannot_pay_is_insufficient_funds(alice, algod_devnet_node, settings) -> None:
    settings.CHAIN_NODES = {**settings.CHAIN_NODES, "algorand-testnet": {"url": algod_devnet_node.url,
                                                                         "token": algod_devnet_node.token}}
    body = {"network": "algorand-testnet", "name": "Poor", "unit_name": "POOR", "total": "10"}
    answer = refused(alice, "asa-ft", body, 402, "INSUFFICIENT_FUNDS")
    assert answer["details"]["available"] == "0" and int(answer["details"]["needed"]) >= 200_000


def test_a_local_network_faucet_funds_the_deployer_so_it_is_accepted(alice, anvil_node) -> None:
    response = alice.post("/api/v1/token/erc20-mintable/create", ERC20, format="json")
    assert response.status_code == 202, response.content
    assert Deployment.objects.count() == 1


def test_a_refused_key_can_be_used_again_once_the_request_is_fixed(alice, anvil_node) -> None:
    refused(alice, "erc20-mintable", {**ERC20, "initial_supply": "5001"}, 400, "VALIDATION_ERROR")
    response = alice.post("/api/v1/token/erc20-mintable/create", ERC20, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 202 and "Idempotent-Replayed" not in response
