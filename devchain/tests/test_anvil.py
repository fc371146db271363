"""The anvil launcher and the committed ERC-20 artifacts, against a real anvil node.

Why these tests: the product deploys the committed bytecode, so the artifacts themselves are
exercised here (constructor arguments, cap, ownership, pause, missing ``mint``), and the
launcher promises used by later tests (free port, chain id, PID, stop, restart with the chain
intact, dev faucet) are checked on a real process rather than assumed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from devchain.anvil import (
    DEV_FAUCET_ADDRESS,
    DEV_FAUCET_PRIVATE_KEY,
    REPO_ROOT,
    AnvilError,
    AnvilProcess,
    fund,
    rpc,
    start_anvil,
)

ARTIFACTS = REPO_ROOT / "tokens" / "contracts" / "evm" / "artifacts"
ONE_ETH = 10**18


@pytest.fixture(scope="module")
def anvil_node() -> Iterator[AnvilProcess]:
    """One anvil (chain id 31337, free port) shared by this module's read-only chain tests.

    Tests that stop or restart a node start their own so they cannot disturb the others.
    """
    with start_anvil(chain_id=31337) as node:
        yield node


def load_artifact(name: str) -> dict[str, Any]:
    """Read a committed artifact (the exact bytes the product deploys)."""
    return json.loads((ARTIFACTS / f"{name}.json").read_text())


def selector(signature: str) -> str:
    """4-byte selector as 0x hex, to recognise custom-error reverts."""
    return "0x" + Web3.keccak(text=signature)[:4].hex()


def funded_account(url: str, wei: int = ONE_ETH) -> LocalAccount:
    """A brand-new key funded by the dev faucet, like a user's derived key on evm-local."""
    account: LocalAccount = Account.create()
    fund(url, account.address, wei)
    return account


def send(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> dict[str, Any]:
    """Sign locally, broadcast raw bytes, return the receipt (server-side signing path)."""
    tx = dict(tx)
    tx.setdefault("chainId", w3.eth.chain_id)
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05))


def deploy(w3: Web3, account: LocalAccount, name: str, *args: Any) -> tuple[Contract, int]:
    """Deploy a committed artifact; return the contract and the gas the deployment used."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx = factory.constructor(*args).build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
        }
    )
    receipt = send(w3, account, tx)
    assert receipt["status"] == 1, receipt
    # Runtime code differs from the artifact's only where immutables (decimals, cap) are set.
    deployed = w3.eth.get_code(receipt["contractAddress"])
    assert len(deployed) * 2 + 2 == len(artifact["deployed_bytecode"])
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"]), int(receipt["gasUsed"])


def test_faucet_key_is_anvil_account_zero() -> None:
    """The constant must be the prefunded account 0 of anvil's default mnemonic."""
    assert Account.from_key(DEV_FAUCET_PRIVATE_KEY).address == DEV_FAUCET_ADDRESS


def test_fund_refuses_non_loopback_url() -> None:
    """The well-known faucet key must never sign for a public node."""
    with pytest.raises(AnvilError, match="loopback"):
        fund("https://mainnet.example.org", DEV_FAUCET_ADDRESS, 1)


@pytest.mark.chain
def test_start_two_chains_on_free_ports() -> None:
    """Two nodes with different chain ids side by side, as used to simulate several chains."""
    with start_anvil(chain_id=31337) as a, start_anvil(chain_id=84532) as b:
        assert a.port != b.port
        assert int(rpc(a.url, "eth_chainId"), 16) == 31337
        assert int(rpc(b.url, "eth_chainId"), 16) == 84532
        assert a.url == f"http://127.0.0.1:{a.port}"
        os.kill(a.pid, 0)  # the PID is a live process we own
        assert a.startup_seconds < 5
        print(f"anvil startup: {a.startup_seconds:.3f}s / {b.startup_seconds:.3f}s")


@pytest.mark.chain
def test_explicit_port_in_use_is_refused(anvil_node: AnvilProcess) -> None:
    """A port another node already serves must not be mistaken for our node being ready."""
    with pytest.raises(AnvilError, match="in use"):
        start_anvil(chain_id=31337, port=anvil_node.port)


@pytest.mark.chain
def test_fund_sends_a_real_transfer(anvil_node: AnvilProcess) -> None:
    """Funding is a mined, signed transaction from the faucet, not a balance cheat."""
    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    account = Account.create()
    faucet_nonce = w3.eth.get_transaction_count(DEV_FAUCET_ADDRESS)
    receipt = fund(anvil_node.url, account.address, 123 * 10**15)
    assert receipt["status"] == 1
    assert receipt["from"] == DEV_FAUCET_ADDRESS
    assert w3.eth.get_balance(account.address) == 123 * 10**15
    assert w3.eth.get_transaction_count(DEV_FAUCET_ADDRESS) == faucet_nonce + 1


@pytest.mark.chain
def test_mintable_deploy_read_back_mint_to_cap(anvil_node: AnvilProcess) -> None:
    """BiatecTokenMintable: constructor fields, owner mints up to the cap, one more reverts."""
    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    deployer = funded_account(anvil_node.url)
    owner = funded_account(anvil_node.url)
    receiver = Account.create().address
    decimals, initial, cap = 6, 1_000 * 10**6, 5_000 * 10**6

    token, gas = deploy(
        w3, deployer, "BiatecTokenMintable",
        "Biatec Mintable", "BTM", decimals, initial, receiver, cap, owner.address,
    )  # fmt: skip
    print(f"BiatecTokenMintable deployment gas used: {gas}")

    assert token.functions.name().call() == "Biatec Mintable"
    assert token.functions.symbol().call() == "BTM"
    assert token.functions.decimals().call() == decimals
    assert token.functions.totalSupply().call() == initial
    assert token.functions.cap().call() == cap
    assert token.functions.owner().call() == owner.address
    assert token.functions.balanceOf(receiver).call() == initial
    assert token.functions.paused().call() is False

    # The deployer is not the owner: it may not mint.
    with pytest.raises(ContractLogicError) as not_owner:
        token.functions.mint(receiver, 1).call({"from": deployer.address})
    assert selector("OwnableUnauthorizedAccount(address)") in str(not_owner.value.data)

    receipt = send(
        w3,
        owner,
        token.functions.mint(receiver, cap - initial).build_transaction({"from": owner.address}),
    )
    assert receipt["status"] == 1
    assert token.functions.totalSupply().call() == cap
    assert token.functions.balanceOf(receiver).call() == cap

    # One base unit over the cap: rejected in simulation and reverted on chain.
    with pytest.raises(ContractLogicError) as over_cap:
        token.functions.mint(receiver, 1).call({"from": owner.address})
    assert selector("ERC20ExceededCap(uint256,uint256)") in str(over_cap.value.data)
    tx = token.functions.mint(receiver, 1).build_transaction(
        # Explicit gas skips the estimate, which would fail on the revert.
        {"from": owner.address, "gas": 200_000}
    )
    assert send(w3, owner, tx)["status"] == 0
    assert token.functions.totalSupply().call() == cap


@pytest.mark.chain
def test_mintable_pause_and_burn(anvil_node: AnvilProcess) -> None:
    """Owner pause blocks transfers; holders burn their own tokens once unpaused."""
    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    owner = funded_account(anvil_node.url)
    holder = funded_account(anvil_node.url)
    token, _ = deploy(
        w3,
        owner,
        "BiatecTokenMintable",
        "P",
        "P",
        0,
        100,
        holder.address,
        1_000,
        owner.address,
    )
    send(w3, owner, token.functions.pause().build_transaction({"from": owner.address}))
    assert token.functions.paused().call() is True
    with pytest.raises(ContractLogicError) as paused:
        token.functions.transfer(owner.address, 1).call({"from": holder.address})
    assert selector("EnforcedPause()") in str(paused.value.data)
    with pytest.raises(ContractLogicError):
        token.functions.unpause().call({"from": holder.address})  # only the owner
    send(w3, owner, token.functions.unpause().build_transaction({"from": owner.address}))
    send(w3, holder, token.functions.burn(40).build_transaction({"from": holder.address}))
    assert token.functions.balanceOf(holder.address).call() == 60
    assert token.functions.totalSupply().call() == 60


@pytest.mark.chain
def test_preminted_deploy_read_back_no_mint(anvil_node: AnvilProcess) -> None:
    """BiatecTokenPreminted: whole supply to the receiver, and no way to mint more."""
    artifact = load_artifact("BiatecTokenPreminted")
    names = {entry.get("name") for entry in artifact["abi"]}
    assert "mint" not in names
    assert "cap" not in names and "owner" not in names

    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    deployer = funded_account(anvil_node.url)
    receiver = Account.create().address
    supply = 21_000_000 * 10**18
    token, gas = deploy(
        w3,
        deployer,
        "BiatecTokenPreminted",
        "Biatec Fixed",
        "BTF",
        18,
        supply,
        receiver,
    )
    print(f"BiatecTokenPreminted deployment gas used: {gas}")
    assert token.functions.name().call() == "Biatec Fixed"
    assert token.functions.symbol().call() == "BTF"
    assert token.functions.decimals().call() == 18
    assert token.functions.totalSupply().call() == supply
    assert token.functions.balanceOf(receiver).call() == supply
    assert token.functions.balanceOf(deployer.address).call() == 0

    # Calling the mintable's mint(address,uint256) selector on it reverts (no fallback).
    data = selector("mint(address,uint256)") + "00" * 64
    with pytest.raises(ContractLogicError):
        w3.eth.call({"from": deployer.address, "to": token.address, "data": data})


@pytest.mark.chain
def test_stop_and_restart_keep_the_chain() -> None:
    """Stop (SIGTERM dumps --state), node is down, restart on the same port: chain intact."""
    with start_anvil(chain_id=31337) as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        deployer = funded_account(node.url)
        token, _ = deploy(
            w3,
            deployer,
            "BiatecTokenPreminted",
            "Keep",
            "KEEP",
            2,
            777,
            deployer.address,
        )
        block = w3.eth.block_number
        first_pid, port = node.pid, node.port

        node.stop()
        assert not node.is_running()
        with pytest.raises(OSError):
            rpc(node.url, "eth_chainId", timeout=1.0)
        with pytest.raises(ProcessLookupError):
            os.kill(first_pid, 0)

        node.restart()
        assert node.port == port and node.pid != first_pid
        assert w3.eth.block_number == block
        assert token.functions.totalSupply().call() == 777
        assert token.functions.balanceOf(deployer.address).call() == 777
        # Nonces survive too, so a new deployment continues the sequence.
        assert w3.eth.get_transaction_count(deployer.address) == 1
        _, _ = deploy(w3, deployer, "BiatecTokenPreminted", "Next", "NXT", 0, 1, deployer.address)
        state_dir = node.state_path.parent
    assert not state_dir.exists()  # temporary state removed by the context manager


@pytest.mark.chain
def test_cli_prints_url_and_pid_and_stops_anvil_on_sigterm() -> None:
    """``python -m devchain.anvil`` is what ``make run`` uses: lines to parse, clean stop."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "devchain.anvil", "--chain-id", "31338"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: dict[str, str] = {}
        while "PID" not in lines:
            line = proc.stdout.readline()
            assert line, "launcher exited before printing PID"
            key, _, value = line.strip().partition("=")
            lines[key] = value
        assert int(rpc(lines["URL"], "eth_chainId"), 16) == 31338
        anvil_pid = int(lines["PID"])
        os.kill(anvil_pid, 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(anvil_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"anvil PID {anvil_pid} still alive after the launcher stopped")


def test_anvil_binary_resolves_and_env_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ANVIL_BIN`` wins; a wrong value fails loudly instead of falling back silently."""
    from devchain.anvil import find_anvil_binary

    default = find_anvil_binary()
    assert default.is_file()
    monkeypatch.setenv("ANVIL_BIN", str(default))
    assert find_anvil_binary() == Path(str(default))
    monkeypatch.setenv("ANVIL_BIN", "/nonexistent/anvil")
    with pytest.raises(AnvilError, match="ANVIL_BIN"):
        find_anvil_binary()
