"""Network registry: slug -> family, chain id or genesis, node URL, policy
(docs/architecture.md, "Networks and local chains").

Node URLs come from settings (`CHAIN_NODES`, filled from `EVM_RPC_<SLUG>` / `ALGOD_URL_<SLUG>`
environment variables); a network without one is listed as unavailable.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from biatec.core.errors import ApplicationError

EVM = "evm"
ALGORAND = "algorand"


@dataclass(frozen=True)
class Network:
    slug: str
    family: str
    name: str
    chain_id: int | None = None
    genesis_id: str | None = None
    genesis_hash: str | None = None
    confirmations: int = 1
    is_local: bool = False
    explorer_tx_url: str | None = None
    explorer_address_url: str | None = None
    max_fee_per_gas_gwei: int = 500

    @property
    def node(self) -> dict:
        return dict(settings.CHAIN_NODES.get(self.slug) or {})

    @property
    def node_url(self) -> str | None:
        return self.node.get("url") or None

    @property
    def node_token(self) -> str:
        return self.node.get("token") or ""

    @property
    def available(self) -> bool:
        return bool(self.node_url)

    @property
    def is_test(self) -> bool:
        """A local devnet or a public test network (no real value): what the Free plan allows."""
        return self.is_local or self.slug.endswith(("-testnet", "-sepolia"))

    @property
    def required_confirmations(self) -> int:
        override = (settings.CHAIN_CONFIRMATIONS or {}).get(self.slug)
        return int(override) if override is not None else self.confirmations


_NETWORKS: tuple[Network, ...] = (
    Network("algorand-mainnet", ALGORAND, "Algorand MainNet", genesis_id="mainnet-v1.0",
            genesis_hash="wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8=",
            explorer_tx_url="https://allo.info/tx/{}", explorer_address_url="https://allo.info/account/{}"),
    Network("algorand-testnet", ALGORAND, "Algorand TestNet", genesis_id="testnet-v1.0",
            genesis_hash="SGO1GKSzyE7IEPItTxCByw9x8FmnrCDexi9/cOUJOiI=",
            explorer_tx_url="https://testnet.allo.info/tx/{}",
            explorer_address_url="https://testnet.allo.info/account/{}"),
    Network("voi-mainnet", ALGORAND, "Voi MainNet", genesis_id="voimain-v1.0",
            genesis_hash="r20fSQI8gWe/kFZziNonSPCXLwcQmH/nxROvnnueWOk=",
            explorer_tx_url="https://block.voi.network/explorer/transaction/{}"),
    Network("aramid-mainnet", ALGORAND, "Aramid MainNet", genesis_id="aramidmain-v1.0",
            genesis_hash="PgeQVJJgx/LYKJfIEz7dbfNPuXmDyJ+O7FwQ4XL9tE8="),
    Network("algorand-localnet", ALGORAND, "Algorand local devnet", genesis_id="localnet-v1", is_local=True),
    Network("ethereum-mainnet", EVM, "Ethereum", chain_id=1, confirmations=12,
            explorer_tx_url="https://etherscan.io/tx/{}", explorer_address_url="https://etherscan.io/address/{}"),
    Network("ethereum-sepolia", EVM, "Ethereum Sepolia", chain_id=11155111, confirmations=3,
            explorer_tx_url="https://sepolia.etherscan.io/tx/{}",
            explorer_address_url="https://sepolia.etherscan.io/address/{}"),
    Network("base-mainnet", EVM, "Base", chain_id=8453, confirmations=6,
            explorer_tx_url="https://basescan.org/tx/{}", explorer_address_url="https://basescan.org/address/{}"),
    Network("base-sepolia", EVM, "Base Sepolia", chain_id=84532, confirmations=3,
            explorer_tx_url="https://sepolia.basescan.org/tx/{}",
            explorer_address_url="https://sepolia.basescan.org/address/{}"),
    Network("arbitrum-one", EVM, "Arbitrum One", chain_id=42161, confirmations=6,
            explorer_tx_url="https://arbiscan.io/tx/{}", explorer_address_url="https://arbiscan.io/address/{}"),
    Network("arbitrum-sepolia", EVM, "Arbitrum Sepolia", chain_id=421614, confirmations=3,
            explorer_tx_url="https://sepolia.arbiscan.io/tx/{}",
            explorer_address_url="https://sepolia.arbiscan.io/address/{}"),
    Network("evm-local", EVM, "Local EVM (anvil)", chain_id=31337, confirmations=1, is_local=True),
)
NETWORKS: dict[str, Network] = {n.slug: n for n in _NETWORKS}


class InvalidNetwork(ApplicationError):
    code = "INVALID_NETWORK"
    http_status = 400
    default_message = "Unknown network."


class NetworkUnavailable(ApplicationError):
    code = "NETWORK_UNAVAILABLE"
    http_status = 400
    default_message = "This network has no node configured on this platform."


def all_networks() -> list[Network]:
    return list(_NETWORKS)


def get_network(slug: str) -> Network:
    try:
        return NETWORKS[slug]
    except KeyError:
        raise InvalidNetwork(f"Unknown network '{slug}'.", details={"network": slug}) from None


def get_available_network(slug: str) -> Network:
    network = get_network(slug)
    if not network.available:
        raise NetworkUnavailable(details={"network": slug})
    return network


def available_evm_networks() -> list[Network]:
    return [n for n in _NETWORKS if n.family == EVM and n.available]
