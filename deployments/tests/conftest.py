"""Fixtures shared by the pipeline tests that play the worker against a node that does not mine."""
import pytest

from deployments import services
from devchain.anvil import rpc


@pytest.fixture
def no_dispatch(monkeypatch):
    """Create deployments without queueing them: the test plays the worker."""
    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)


@pytest.fixture
def sepolia_like(anvil_factory, settings):
    """A second anvil posing as a public network (ethereum-sepolia, chain 11155111): no faucet there,
    and no mining unless the test calls `evm_mine`."""
    node = anvil_factory(chain_id=11155111, extra_args=["--no-mining"])
    settings.CHAIN_NODES = {**settings.CHAIN_NODES, "ethereum-sepolia": {"url": node.url}}
    settings.CHAIN_CONFIRMATIONS = {"ethereum-sepolia": 1}
    return node


def set_balance(node, address: str, wei: int) -> None:
    """anvil's own balance cheat: this node does not mine, so a funding transfer would wait forever."""
    rpc(node.url, "anvil_setBalance", [address, hex(wei)])


def evm_address(body, chain_id=11155111) -> str:
    """The registered user's EVM address on `chain_id`."""
    from accounts.models import User
    from accounts.signing import evm_account_ensure

    return evm_account_ensure(user=User.objects.get(pk=body["id"]), chain_id=chain_id).address
