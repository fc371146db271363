"""The EVM client against a real anvil node: deploy, read back, mint to the cap, re-broadcast,
concurrent nonces, node failures and their classification."""
from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import User
from accounts.services import user_register
from accounts.signing import chain_key, evm_account_ensure
from biatec.core.errors import ChainUnavailable, InsufficientFunds, TransactionFailed, ValidationFailed
from conftest import DEFAULT_PASSWORD
from devchain.anvil import fund
from tokens.chains import evm
from tokens.chains.evm import NonceAlreadyUsed, SignedEvmTransaction
from tokens.chains.evm_nonces import nonce_reserve, nonce_sequence_ensure
from tokens.models import EvmNonceSequence
from tokens.networks import EVM, Network, NetworkUnavailable

pytestmark = pytest.mark.chain

MINTABLE = {"name": "Biatec Mintable", "symbol": "BMT", "decimals": 6, "initial_supply": 1_000_000,
            "cap": 5_000_000}
PREMINTED = {"name": "Biatec Preminted", "symbol": "BPT", "decimals": 18, "total_supply": 21 * 10**24}


def _key(user: User, network: Network) -> dict:
    """Sender and signer of the user's account on `network`, as chain code takes them."""
    key = chain_key(user=user, network=network)
    return {"sender": key.address, "signer": key.open}


def _user(email: str = "evm-deployer@example.com") -> User:
    user, _ = user_register(email=email, password=DEFAULT_PASSWORD)
    return user


def _deploy(user: User, network: Network, standard: str, params: dict) -> tuple[SignedEvmTransaction, dict]:
    signed = evm.deploy_transaction_prepare(**_key(user, network), network=network, standard=standard, params=params,
                                            reason="test deployment")
    assert evm.broadcast(network=network, raw=signed.raw) == signed.tx_hash
    receipt = evm.wait_for_receipt(network=network, tx_hash=signed.tx_hash)
    return signed, receipt


def _send_call(user: User, network: Network, *, contract: str, function: str, args: list) -> dict:
    sender = evm_account_ensure(user=user, chain_id=network.chain_id).address
    nonce_sequence_ensure(network=network, address=sender)
    nonce = nonce_reserve(chain_id=network.chain_id, address=sender)
    tx = evm.build_call_transaction(network=network, standard="erc20-mintable", contract_address=contract,
                                    function=function, args=args, sender=sender, nonce=nonce)
    signed = evm.sign_transaction(signer=_key(user, network)["signer"], network=network, tx=tx, reason="test call")
    evm.broadcast(network=network, raw=signed.raw)
    return evm.wait_for_receipt(network=network, tx_hash=signed.tx_hash)


def _network_at(*, slug: str, is_local: bool = True, chain_id: int = 31337, **kwargs) -> Network:
    """A registry-shaped network for a node other than the session's (registered by the caller)."""
    return Network(slug, EVM, f"Test chain {slug}", chain_id=chain_id, is_local=is_local, **kwargs)


@pytest.mark.django_db
def test_deploy_mintable_reads_back_every_field_and_mints_up_to_the_cap(evm_local: Network) -> None:
    user = _user()
    receiver = "0x000000000000000000000000000000000000bEEF"
    started = time.perf_counter()
    signed, receipt = _deploy(user, evm_local, "erc20-mintable", {**MINTABLE, "receiver": receiver})
    deploy_seconds = time.perf_counter() - started

    assert receipt["status"] == 1
    assert receipt["contract_address"] == signed.contract_address  # computed from sender + nonce
    assert signed.sender == evm_account_ensure(user=user, chain_id=31337).address
    assert signed.chain_id == 31337
    assert evm.confirmations(network=evm_local, receipt=receipt) >= evm_local.required_confirmations
    token = evm.read_erc20(network=evm_local, address=signed.contract_address, receiver=receiver)
    assert token == {"name": "Biatec Mintable", "symbol": "BMT", "decimals": 6, "total_supply": 1_000_000,
                     "cap": 5_000_000, "owner": signed.sender, "receiver_balance": 1_000_000}

    # The owner (the user) mints exactly up to the cap ...
    mint = _send_call(user, evm_local, contract=signed.contract_address, function="mint",
                      args=[receiver, 4_000_000])
    assert mint["status"] == 1
    after = evm.read_erc20(network=evm_local, address=signed.contract_address, receiver=receiver)
    assert after["total_supply"] == after["cap"] == after["receiver_balance"] == 5_000_000
    # ... and one base unit more reverts with the contract's reason.
    with pytest.raises(TransactionFailed) as excinfo:
        _send_call(user, evm_local, contract=signed.contract_address, function="mint", args=[receiver, 1])
    assert excinfo.value.code == "TRANSACTION_FAILED"
    assert excinfo.value.retryable is False
    assert "ERC20ExceededCap" in excinfo.value.message
    print(f"\nerc20-mintable deploy (prepare+broadcast+receipt): {deploy_seconds * 1000:.0f} ms")


@pytest.mark.django_db
def test_deploy_preminted_reads_back_and_has_no_mint(evm_local: Network) -> None:
    user = _user()
    receiver = "0x00000000000000000000000000000000000C0FFE"
    started = time.perf_counter()
    signed, receipt = _deploy(user, evm_local, "erc20-preminted", {**PREMINTED, "receiver": receiver})
    deploy_seconds = time.perf_counter() - started

    assert receipt["status"] == 1 and receipt["contract_address"] == signed.contract_address
    token = evm.read_erc20(network=evm_local, address=signed.contract_address, receiver=receiver)
    assert token == {"name": "Biatec Preminted", "symbol": "BPT", "decimals": 18, "total_supply": 21 * 10**24,
                     "cap": None, "owner": None, "receiver_balance": 21 * 10**24}
    artifact = evm.load_artifact("erc20-preminted")
    assert "mint" not in artifact.function_names()
    with pytest.raises(ValidationFailed):
        evm.encode_function_call(standard="erc20-preminted", function="mint", args=[receiver, 1])
    print(f"\nerc20-preminted deploy (prepare+broadcast+receipt): {deploy_seconds * 1000:.0f} ms")


@pytest.mark.django_db
def test_rebroadcast_of_mined_bytes_is_success_and_creates_no_second_contract(evm_local: Network) -> None:
    user = _user()
    signed, receipt = _deploy(user, evm_local, "erc20-preminted", PREMINTED)
    pending_after_first = evm.pending_nonce(network=evm_local, address=signed.sender)
    block_after_first = evm.block_number(network=evm_local)

    for _ in range(2):  # "nonce too low" for this very, mined, transaction counts as success
        assert evm.broadcast(network=evm_local, raw=signed.raw) == signed.tx_hash

    assert evm.pending_nonce(network=evm_local, address=signed.sender) == pending_after_first
    assert evm.block_number(network=evm_local) == block_after_first  # nothing new was mined
    assert evm.get_receipt(network=evm_local, tx_hash=signed.tx_hash) == receipt
    # The next contract of this sender would live at nonce+1, and nothing is there.
    next_address = evm.contract_address_for(sender=signed.sender, nonce=signed.nonce + 1)
    assert evm.rpc(evm_local, "eth_getCode", [next_address, "latest"]) in ("0x", "0x0")


@pytest.mark.django_db
def test_rebroadcast_while_pending_is_success(evm_local: Network) -> None:
    user = _user()
    signed = evm.deploy_transaction_prepare(**_key(user, evm_local), network=evm_local, standard="erc20-preminted",
                                            params=PREMINTED, reason="test")
    evm.rpc(evm_local, "evm_setAutomine", [False])
    try:
        assert evm.broadcast(network=evm_local, raw=signed.raw) == signed.tx_hash
        assert evm.broadcast(network=evm_local, raw=signed.raw) == signed.tx_hash  # "already imported"
        assert evm.get_receipt(network=evm_local, tx_hash=signed.tx_hash) is None
    finally:
        evm.rpc(evm_local, "evm_setAutomine", [True])
        evm.rpc(evm_local, "evm_mine", [])
    assert evm.wait_for_receipt(network=evm_local, tx_hash=signed.tx_hash)["status"] == 1


@pytest.mark.django_db
def test_other_bytes_for_a_used_nonce_raise_nonce_already_used(evm_local: Network) -> None:
    user = _user()
    signed, _ = _deploy(user, evm_local, "erc20-preminted", PREMINTED)
    # Same nonce, different contract: these bytes can never be included.
    tx = evm.build_deploy_transaction(network=evm_local, standard="erc20-preminted",
                                      params={**PREMINTED, "symbol": "OTHER"}, sender=signed.sender,
                                      nonce=signed.nonce)
    other = evm.sign_transaction(signer=_key(user, evm_local)["signer"], network=evm_local, tx=tx, reason="test")
    with pytest.raises(NonceAlreadyUsed) as excinfo:
        evm.broadcast(network=evm_local, raw=other.raw)
    assert excinfo.value.code == "TRANSACTION_EXPIRED"
    assert excinfo.value.details["nonce"] == signed.nonce


@pytest.mark.django_db
def test_get_receipts_answers_many_hashes_in_one_batch(evm_local: Network) -> None:
    user = _user()
    first, _ = _deploy(user, evm_local, "erc20-preminted", PREMINTED)
    second, _ = _deploy(user, evm_local, "erc20-preminted", PREMINTED)
    unknown = "0x" + "ab" * 32
    receipts = evm.get_receipts(network=evm_local, tx_hashes=[first.tx_hash, unknown, second.tx_hash])
    assert list(receipts) == [first.tx_hash, unknown, second.tx_hash]
    assert receipts[unknown] is None
    assert receipts[first.tx_hash]["contract_address"] == first.contract_address
    assert receipts[second.tx_hash]["contract_address"] == second.contract_address
    head = evm.block_number(network=evm_local)
    assert evm.confirmations(network=evm_local, receipt=receipts[first.tx_hash], head=head) == (
        head - receipts[first.tx_hash]["block_number"] + 1)
    assert evm.confirmations(network=evm_local, receipt=None) == 0


@pytest.mark.django_db
def test_transaction_shape_and_fee_cap(evm_local: Network) -> None:
    sender = "0x000000000000000000000000000000000000dEaD"  # never funded: estimation needs no balance
    tx = evm.build_deploy_transaction(network=evm_local, standard="erc20-mintable", params=MINTABLE,
                                      sender=sender, nonce=7)
    assert tx["type"] == 2 and tx["chainId"] == 31337 and tx["nonce"] == 7 and "to" not in tx
    assert tx["maxPriorityFeePerGas"] <= tx["maxFeePerGas"] <= evm_local.max_fee_per_gas_gwei * 10**9
    estimate = int(evm.rpc(evm_local, "eth_estimateGas", [{"from": sender, "data": tx["data"]}]), 16)
    assert tx["gas"] == estimate * 6 // 5

    capped = Network("evm-local", EVM, "capped", chain_id=31337, is_local=True, max_fee_per_gas_gwei=0)
    with pytest.raises(ChainUnavailable) as excinfo:
        evm.fee_quote(network=capped)
    assert excinfo.value.retryable and excinfo.value.details["reason"] == "fee_cap"


def test_parameter_validation() -> None:
    sender = "0x000000000000000000000000000000000000dEaD"
    with pytest.raises(ValidationFailed) as excinfo:
        evm.constructor_args(standard="erc20-mintable", params={**MINTABLE, "initial_supply": 6_000_000},
                             sender=sender)
    assert "initial_supply" in excinfo.value.details["fields"]
    with pytest.raises(ValidationFailed):
        evm.constructor_args(standard="erc20-mintable", params={**MINTABLE, "decimals": 256}, sender=sender)
    with pytest.raises(ValidationFailed):
        evm.constructor_args(standard="erc20-preminted", params={**PREMINTED, "receiver": "0x12"}, sender=sender)
    with pytest.raises(ValidationFailed) as excinfo:
        evm.load_artifact("asa-ft")
    assert excinfo.value.code == "UNSUPPORTED_STANDARD"
    args = evm.constructor_args(standard="erc20-mintable", params=MINTABLE, sender=sender)
    assert args[4] == args[6] == sender  # receiver and owner default to the sender


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_deployments_get_consecutive_nonces_and_all_mine(evm_local: Network) -> None:
    user = _user("evm-burst@example.com")
    sender = evm_account_ensure(user=user, chain_id=31337).address
    fund(evm_local.node_url, sender, 10 * 10**18)  # one top-up for the whole burst
    start = evm.pending_nonce(network=evm_local, address=sender)
    barrier = threading.Barrier(10)

    def deploy(i: int) -> SignedEvmTransaction:
        try:
            if i < 10:
                barrier.wait(timeout=30)  # the first ten threads reserve at the same instant
            signed = evm.deploy_transaction_prepare(
                **_key(user, evm_local), network=evm_local, standard="erc20-preminted",
                params={**PREMINTED, "symbol": f"B{i}"}, reason="burst")
            evm.broadcast(network=evm_local, raw=signed.raw)
            return signed
        finally:
            connection.close()  # each thread had its own connection

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        signed_all = list(pool.map(deploy, range(50)))
    receipts = {}
    deadline = time.monotonic() + 60
    while len(receipts) < 50 and time.monotonic() < deadline:
        waiting = [s.tx_hash for s in signed_all if s.tx_hash not in receipts]
        receipts.update({h: r for h, r in evm.get_receipts(network=evm_local, tx_hashes=waiting).items() if r})
        time.sleep(0.05)
    elapsed = time.perf_counter() - started

    assert sorted(s.nonce for s in signed_all) == list(range(start, start + 50))  # no gap, no duplicate
    assert len(receipts) == 50 and all(r["status"] == 1 for r in receipts.values())
    assert len({r["contract_address"] for r in receipts.values()}) == 50
    assert {s.contract_address for s in signed_all} == {r["contract_address"] for r in receipts.values()}
    assert evm.pending_nonce(network=evm_local, address=sender) == start + 50
    assert EvmNonceSequence.objects.get(chain_id=31337, address=sender).next_nonce == start + 50
    print(f"\n50 concurrent deployments (10 threads) prepared, broadcast and mined: {elapsed:.2f} s")


# --- failures -------------------------------------------------------------------------------------------


@pytest.fixture
def register_node(monkeypatch: pytest.MonkeyPatch, settings):
    def register(slug: str, url: str) -> None:
        monkeypatch.setitem(settings.CHAIN_NODES, slug, {"url": url})

    return register


@pytest.mark.django_db
def test_node_down_is_retryable_chain_unavailable_and_the_same_call_succeeds_after_restart(
    anvil_factory, register_node
) -> None:
    node = anvil_factory(31337)
    register_node("evm-flaky", node.url)
    network = _network_at(slug="evm-flaky")
    user = _user()
    signed = evm.deploy_transaction_prepare(**_key(user, network), network=network, standard="erc20-preminted",
                                            params=PREMINTED, reason="test")
    node.stop()

    for call in (lambda: evm.broadcast(network=network, raw=signed.raw),
                 lambda: evm.block_number(network=network),
                 lambda: evm.get_receipts(network=network, tx_hashes=[signed.tx_hash])):
        with pytest.raises(ChainUnavailable) as excinfo:
            call()
        assert excinfo.value.code == "CHAIN_UNAVAILABLE" and excinfo.value.retryable is True
        assert excinfo.value.details["reason"] == "connection"
        assert node.url not in excinfo.value.message and "127.0.0.1" not in excinfo.value.message

    node.restart()
    assert evm.broadcast(network=network, raw=signed.raw) == signed.tx_hash
    receipt = evm.wait_for_receipt(network=network, tx_hash=signed.tx_hash)
    assert receipt["contract_address"] == signed.contract_address


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    status = 429

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"no")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_status_server() -> Iterator:
    servers = []

    def start(status: int) -> str:
        handler = type("Handler", (_StatusHandler,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v3/SECRET-API-KEY"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (502, True), (503, True), (401, False)])
def test_http_errors_are_classified(http_status_server, register_node, status: int, retryable: bool) -> None:
    url = http_status_server(status)
    register_node("evm-http", url)
    network = _network_at(slug="evm-http", is_local=False)
    with pytest.raises(ChainUnavailable) as excinfo:
        evm.block_number(network=network)
    assert excinfo.value.retryable is retryable
    assert excinfo.value.details["http_status"] == status
    assert "SECRET-API-KEY" not in excinfo.value.message and "SECRET-API-KEY" not in str(excinfo.value.details)


def test_timeout_is_retryable_chain_unavailable(register_node, settings) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        register_node("evm-silent", url)
        settings.EVM_RPC_TIMEOUT_SECONDS = 0.3
        network = _network_at(slug="evm-silent")
        with pytest.raises(ChainUnavailable) as excinfo:
            evm.block_number(network=network)
        assert excinfo.value.retryable and excinfo.value.details["reason"] == "timeout"
    finally:
        silent.close()


@pytest.mark.django_db
def test_insufficient_funds_off_local_networks(anvil_node, register_node) -> None:
    """The same anvil posing as a public network: no faucet, a shortfall is INSUFFICIENT_FUNDS."""
    register_node("evm-public-sim", anvil_node.url)
    network = _network_at(slug="evm-public-sim", is_local=False)
    user = _user("evm-pauper@example.com")
    sender = evm_account_ensure(user=user, chain_id=31337).address
    balance = evm.get_balance(network=network, address=sender)
    needed = balance + 10**18

    with pytest.raises(InsufficientFunds) as excinfo:
        evm.ensure_funded(network=network, address=sender, needed_wei=needed)
    assert excinfo.value.code == "INSUFFICIENT_FUNDS" and excinfo.value.http_status == 402
    assert excinfo.value.details["needed_wei"] == str(needed)
    assert excinfo.value.details["balance_wei"] == str(balance)
    assert excinfo.value.details["address"] == sender

    # A signed transaction the sender cannot afford is refused at broadcast with the same details.
    nonce_sequence_ensure(network=network, address=sender)
    tx = evm.build_deploy_transaction(network=network, standard="erc20-preminted", params=PREMINTED,
                                      sender=sender, nonce=evm.pending_nonce(network=network, address=sender))
    tx["value"] = needed  # more than it holds
    signed = evm.sign_transaction(signer=_key(user, network)["signer"], network=network, tx=tx, reason="test")
    with pytest.raises(InsufficientFunds) as excinfo:
        evm.broadcast(network=network, raw=signed.raw)
    assert excinfo.value.details["needed_wei"] == str(signed.max_cost_wei)
    assert excinfo.value.details["address"] == sender


@pytest.mark.django_db
def test_local_network_is_topped_up_by_the_faucet(evm_local: Network) -> None:
    address = "0x00000000000000000000000000000000000f00d5"
    before = evm.get_balance(network=evm_local, address=address)
    balance = evm.ensure_funded(network=evm_local, address=address, needed_wei=before + 5 * 10**17)
    assert balance >= before + 5 * 10**17


def test_network_without_node_is_network_unavailable() -> None:
    network = _network_at(slug="evm-nowhere")
    with pytest.raises(NetworkUnavailable) as excinfo:
        evm.block_number(network=network)
    assert excinfo.value.code == "NETWORK_UNAVAILABLE"
