"""GET /api/v1/networks: every registry network, availability, and no non-local node URL."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tokens.networks import all_networks

SECRET_URL = "https://eth-mainnet.example.com/v3/SECRET-PROVIDER-KEY"


@pytest.fixture
def nodes(settings) -> dict:
    settings.CHAIN_NODES = {
        "ethereum-mainnet": {"url": SECRET_URL},
        "algorand-testnet": {"url": "https://testnet-api.example.com/?apikey=SECRET-ALGOD", "token": "SECRET-TOKEN"},
        "evm-local": {"url": "http://127.0.0.1:8545"},
    }
    return settings.CHAIN_NODES


@pytest.mark.django_db
def test_lists_every_network_with_availability_and_hides_public_node_urls(nodes: dict) -> None:
    response = APIClient().get("/api/v1/networks")  # anonymous: the list is public

    assert response.status_code == 200, response.content
    results = {n["slug"]: n for n in response.json()["results"]}
    assert len(results) == 12
    assert list(results) == [n.slug for n in all_networks()]
    assert {slug for slug, n in results.items() if n["available"]} == set(nodes)

    assert results["evm-local"]["node_url"] == "http://127.0.0.1:8545"
    assert all(n["node_url"] is None for slug, n in results.items() if slug != "evm-local")
    body = response.content.decode()
    for secret in ("SECRET-PROVIDER-KEY", "SECRET-ALGOD", "SECRET-TOKEN", "eth-mainnet.example.com"):
        assert secret not in body

    mainnet = results["ethereum-mainnet"]
    assert mainnet == {**mainnet, "family": "evm", "chain_id": 1, "confirmations": 12, "is_local": False,
                       "genesis_id": None, "genesis_hash": None}
    algorand = results["algorand-mainnet"]
    assert algorand == {**algorand, "family": "algorand", "chain_id": None, "genesis_id": "mainnet-v1.0",
                        "genesis_hash": "wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8=", "available": False}
    assert response.headers.get("X-Correlation-ID")


@pytest.mark.django_db
def test_confirmations_follow_the_configured_override(nodes: dict, settings) -> None:
    settings.CHAIN_CONFIRMATIONS = {"ethereum-mainnet": 20}
    results = {n["slug"]: n for n in APIClient().get("/api/v1/networks").json()["results"]}
    assert results["ethereum-mainnet"]["confirmations"] == 20
    assert results["base-mainnet"]["confirmations"] == 6
