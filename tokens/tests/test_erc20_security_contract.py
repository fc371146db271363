"""The `erc20-security` contract (BiatecTokenSecurity.sol) on a real anvil node, driven with plain web3.py.

No product code between the test and the chain: each test deploys the committed artifact with the
owner's key, sends signed transactions from holders' keys, and reads every outcome back through a
second, independent web3 connection. A refused holder transfer is sent with a fixed gas limit (no
estimate that would refuse it off chain), so it is mined and fails on chain; its receipt status is 0
and the named custom error is decoded from the mined transaction's trace (`debug_traceTransaction`).

Keys are created per run (`Account.create()`) and funded from anvil's dev faucet; none is written
down here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from devchain.anvil import AnvilProcess, fund

pytestmark = pytest.mark.chain

ARTIFACT = (
    Path(__file__).resolve().parents[1] / "contracts" / "evm" / "artifacts" / "BiatecTokenSecurity.json"
)
ABI: list[dict[str, Any]] = json.loads(ARTIFACT.read_text())["abi"]
BYTECODE: str = json.loads(ARTIFACT.read_text())["bytecode"]
CAP = 1_000_000
INITIAL = 100_000
REVERT_GAS = 600_000  # fixed gas for transactions expected to fail, so they are mined (no estimate)

# Restriction codes of detectTransferRestriction (the contract's constants, checked in a test).
OK, PAUSED, SENDER_FROZEN, RECIPIENT_FROZEN = 0, 1, 2, 3
SENDER_NOT_ELIGIBLE, RECIPIENT_NOT_ELIGIBLE, INSUFFICIENT_BALANCE, INSUFFICIENT_UNFROZEN = 4, 5, 6, 7


def _error_selectors() -> dict[str, tuple[str, list[str]]]:
    out = {}
    for item in ABI:
        if item["type"] == "error":
            types = [i["type"] for i in item["inputs"]]
            selector = Web3.keccak(text=f"{item['name']}({','.join(types)})")[:4].to_0x_hex()
            out[selector] = (item["name"], types)
    return out


ERRORS = _error_selectors()


def decode_error(data: str) -> tuple[str, tuple[Any, ...]]:
    """(name, arguments) of revert data of one of the contract's custom errors (OZ's included)."""
    name, types = ERRORS[data[:10].lower()]
    values = abi_decode(types, bytes.fromhex(data[10:]))
    return name, tuple(Web3.to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True))


@dataclass
class Holders:
    owner: LocalAccount
    alice: LocalAccount
    bob: LocalAccount
    carol: LocalAccount  # never made eligible
    dave: LocalAccount  # the new wallet of a recovery
    agent: LocalAccount  # a second agent added by the owner


@pytest.fixture(scope="module")
def holders(anvil_node: AnvilProcess) -> Holders:
    accounts = Holders(*(Account.create() for _ in range(6)))
    for account in vars(accounts).values():
        fund(anvil_node.url, account.address, 10**20)
    return accounts


class Chain:
    """Sends signed transactions on one web3 connection; `read` is a second, independent connection."""

    def __init__(self, url: str) -> None:
        self.w3 = Web3(Web3.HTTPProvider(url))
        self.reader = Web3(Web3.HTTPProvider(url))

    def deploy(self, owner: LocalAccount, *, receiver: str | None = None, initial: int = INITIAL,
               cap: int = CAP) -> str:
        factory = self.w3.eth.contract(abi=ABI, bytecode=BYTECODE)
        tx = factory.constructor("Biatec Security", "BSEC", 2, initial, receiver or owner.address, cap,
                                 owner.address).build_transaction(self._base(owner))
        receipt = self._send(owner, tx)
        assert receipt["status"] == 1
        return receipt["contractAddress"]

    def _base(self, account: LocalAccount) -> dict[str, Any]:
        return {"from": account.address, "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                "chainId": self.w3.eth.chain_id}

    def _send(self, account: LocalAccount, tx: dict[str, Any]) -> Any:
        signed = account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)

    def send(self, token: str, account: LocalAccount, function: str, *args: Any) -> Any:
        """Send a call that must succeed; returns its receipt."""
        contract = self.w3.eth.contract(address=token, abi=ABI)
        tx = getattr(contract.functions, function)(*args).build_transaction(self._base(account))
        receipt = self._send(account, tx)
        assert receipt["status"] == 1, f"{function}{args} reverted"
        return receipt

    def send_failing(self, token: str, account: LocalAccount, function: str, *args: Any) -> tuple[str, tuple]:
        """Send a call with a fixed gas limit so that it is mined; assert it failed on chain and return
        the decoded custom error of the mined transaction."""
        contract = self.w3.eth.contract(address=token, abi=ABI)
        tx = getattr(contract.functions, function)(*args).build_transaction({**self._base(account),
                                                                              "gas": REVERT_GAS})
        receipt = self._send(account, tx)
        assert receipt["status"] == 0, f"{function}{args} succeeded on chain"
        trace = self.w3.provider.make_request("debug_traceTransaction",
                                              [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}])
        return decode_error(trace["result"]["output"])

    def read(self, token: str, function: str, *args: Any) -> Any:
        return getattr(self.reader.eth.contract(address=token, abi=ABI).functions, function)(*args).call()

    def events(self, token: str, receipt: Any, name: str) -> list[dict[str, Any]]:
        event = getattr(self.reader.eth.contract(address=token, abi=ABI).events, name)()
        return [dict(log["args"]) for log in event.process_receipt(receipt, errors=DISCARD)]


@pytest.fixture
def chain(anvil_node: AnvilProcess) -> Chain:
    return Chain(anvil_node.url)


def _token_with_holders(chain: Chain, h: Holders, alice: int = 1_000, bob: int = 0) -> str:
    """A token whose alice and bob are eligible (one `setEligible` each) and hold the given amounts."""
    token = chain.deploy(h.owner)
    chain.send(token, h.owner, "setEligible", h.alice.address, True)
    chain.send(token, h.owner, "setEligible", h.bob.address, True)
    if alice:
        chain.send(token, h.owner, "mint", h.alice.address, alice)
    if bob:
        chain.send(token, h.owner, "mint", h.bob.address, bob)
    return token


def test_deploy_reads_back_constructor_state(chain: Chain, holders: Holders) -> None:
    receiver = holders.alice.address
    token = chain.deploy(holders.owner, receiver=receiver)
    assert chain.read(token, "name") == "Biatec Security"
    assert chain.read(token, "symbol") == "BSEC"
    assert chain.read(token, "decimals") == 2
    assert chain.read(token, "cap") == CAP
    assert chain.read(token, "totalSupply") == INITIAL
    assert chain.read(token, "balanceOf", receiver) == INITIAL
    assert chain.read(token, "owner") == holders.owner.address
    assert chain.read(token, "isAgent", holders.owner.address) is True
    assert chain.read(token, "isAgent", receiver) is False
    # The owner and the receiver of the initial supply are eligible from the start, nobody else.
    assert chain.read(token, "isEligible", holders.owner.address) is True
    assert chain.read(token, "isEligible", receiver) is True
    assert chain.read(token, "isEligible", holders.carol.address) is False
    assert chain.read(token, "paused") is False
    codes = {name: chain.read(token, name) for name in ("TRANSFER_OK", "TRANSFER_PAUSED", "SENDER_FROZEN",
                                                         "RECIPIENT_FROZEN", "SENDER_NOT_ELIGIBLE",
                                                         "RECIPIENT_NOT_ELIGIBLE", "INSUFFICIENT_BALANCE",
                                                         "INSUFFICIENT_UNFROZEN_BALANCE")}
    assert list(codes.values()) == [OK, PAUSED, SENDER_FROZEN, RECIPIENT_FROZEN, SENDER_NOT_ELIGIBLE,
                                    RECIPIENT_NOT_ELIGIBLE, INSUFFICIENT_BALANCE, INSUFFICIENT_UNFROZEN]
    assert chain.read(token, "messageForTransferRestriction", RECIPIENT_NOT_ELIGIBLE) == "Recipient is not eligible"


def test_transfer_between_eligible_holders_and_on_chain_refusal_of_an_unlisted_one(
        chain: Chain, holders: Holders) -> None:
    h = holders
    token = _token_with_holders(chain, h, alice=1_000)
    assert chain.read(token, "isEligible", h.alice.address) is True
    assert chain.read(token, "isEligible", h.bob.address) is True
    assert chain.read(token, "canTransfer", h.alice.address, h.bob.address, 400) is True

    receipt = chain.send(token, h.alice, "transfer", h.bob.address, 400)
    assert chain.events(token, receipt, "Transfer") == [{"from": h.alice.address, "to": h.bob.address,
                                                         "value": 400}]
    assert chain.read(token, "balanceOf", h.alice.address) == 600
    assert chain.read(token, "balanceOf", h.bob.address) == 400

    # To an address not on the list: mined, failed on chain, named error; nothing moved.
    assert chain.read(token, "canTransfer", h.alice.address, h.carol.address, 100) is False
    assert chain.read(token, "detectTransferRestriction", h.alice.address, h.carol.address, 100) == \
        RECIPIENT_NOT_ELIGIBLE
    assert chain.send_failing(token, h.alice, "transfer", h.carol.address, 100) == \
        ("RecipientNotEligible", (h.carol.address,))
    assert chain.read(token, "balanceOf", h.alice.address) == 600
    assert chain.read(token, "balanceOf", h.carol.address) == 0

    # A holder taken off the list can no longer send.
    chain.send(token, h.owner, "setEligible", h.bob.address, False)
    assert chain.read(token, "isEligible", h.bob.address) is False
    assert chain.read(token, "detectTransferRestriction", h.bob.address, h.alice.address, 1) == SENDER_NOT_ELIGIBLE
    assert chain.send_failing(token, h.bob, "transfer", h.alice.address, 1) == ("SenderNotEligible", (h.bob.address,))
    assert chain.read(token, "balanceOf", h.bob.address) == 400

    # transferFrom obeys the same rules (the spender need not be eligible).
    chain.send(token, h.alice, "approve", h.carol.address, 300)
    assert chain.send_failing(token, h.carol, "transferFrom", h.alice.address, h.bob.address, 50) == \
        ("RecipientNotEligible", (h.bob.address,))
    chain.send(token, h.owner, "setEligible", h.bob.address, True)
    chain.send(token, h.carol, "transferFrom", h.alice.address, h.bob.address, 50)
    assert chain.read(token, "balanceOf", h.bob.address) == 450
    assert chain.read(token, "allowance", h.alice.address, h.carol.address) == 250

    # More than the balance is ERC20's own error, and the pre-check says so too.
    assert chain.read(token, "detectTransferRestriction", h.alice.address, h.bob.address, 10**6) == \
        INSUFFICIENT_BALANCE
    assert chain.send_failing(token, h.alice, "transfer", h.bob.address, 10**6) == \
        ("ERC20InsufficientBalance", (h.alice.address, 550, 10**6))


def test_address_freeze_blocks_both_directions_until_lifted(chain: Chain, holders: Holders) -> None:
    h = holders
    token = _token_with_holders(chain, h, alice=1_000, bob=1_000)
    receipt = chain.send(token, h.owner, "setAddressFrozen", h.alice.address, True)
    assert chain.events(token, receipt, "AddressFrozen") == [{"userAddress": h.alice.address, "isFrozen": True,
                                                              "owner": h.owner.address}]
    assert chain.read(token, "isFrozen", h.alice.address) is True
    assert chain.read(token, "isFrozen", h.bob.address) is False

    assert chain.read(token, "detectTransferRestriction", h.alice.address, h.bob.address, 1) == SENDER_FROZEN
    assert chain.send_failing(token, h.alice, "transfer", h.bob.address, 1) == ("SenderFrozen", (h.alice.address,))
    assert chain.read(token, "detectTransferRestriction", h.bob.address, h.alice.address, 1) == RECIPIENT_FROZEN
    assert chain.send_failing(token, h.bob, "transfer", h.alice.address, 1) == ("RecipientFrozen", (h.alice.address,))
    assert chain.read(token, "balanceOf", h.alice.address) == chain.read(token, "balanceOf", h.bob.address) == 1_000

    chain.send(token, h.owner, "setAddressFrozen", h.alice.address, False)
    assert chain.read(token, "isFrozen", h.alice.address) is False
    chain.send(token, h.alice, "transfer", h.bob.address, 1)
    assert chain.read(token, "balanceOf", h.bob.address) == 1_001


def test_partial_freeze_limits_transfers_to_the_unfrozen_balance(chain: Chain, holders: Holders) -> None:
    h = holders
    token = _token_with_holders(chain, h, alice=100)
    receipt = chain.send(token, h.owner, "freezePartialTokens", h.alice.address, 60)
    assert chain.events(token, receipt, "TokensFrozen") == [{"userAddress": h.alice.address, "amount": 60}]
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 60
    assert chain.read(token, "isFrozen", h.alice.address) is False

    assert chain.read(token, "detectTransferRestriction", h.alice.address, h.bob.address, 50) == INSUFFICIENT_UNFROZEN
    assert chain.send_failing(token, h.alice, "transfer", h.bob.address, 50) == \
        ("InsufficientUnfrozenBalance", (h.alice.address, 40, 50))
    chain.send(token, h.alice, "transfer", h.bob.address, 40)
    assert chain.read(token, "balanceOf", h.alice.address) == 60
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 60

    # The frozen total never exceeds the balance; unfreezing never exceeds the frozen amount.
    assert chain.send_failing(token, h.owner, "freezePartialTokens", h.alice.address, 1) == \
        ("FreezeExceedsBalance", (h.alice.address, 60, 61))
    assert chain.send_failing(token, h.owner, "unfreezePartialTokens", h.alice.address, 61) == \
        ("UnfreezeExceedsFrozen", (h.alice.address, 60, 61))
    receipt = chain.send(token, h.owner, "unfreezePartialTokens", h.alice.address, 25)
    assert chain.events(token, receipt, "TokensUnfrozen") == [{"userAddress": h.alice.address, "amount": 25}]
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 35
    chain.send(token, h.alice, "transfer", h.bob.address, 25)
    assert chain.read(token, "balanceOf", h.alice.address) == 35
    assert chain.read(token, "balanceOf", h.bob.address) == 65

    # Only agents freeze.
    assert chain.send_failing(token, h.alice, "freezePartialTokens", h.bob.address, 1) == \
        ("CallerNotAgent", (h.alice.address,))
    assert chain.read(token, "getFrozenTokens", h.bob.address) == 0


def test_forced_transfer_bypasses_freezes_and_pause_but_not_eligibility(chain: Chain, holders: Holders) -> None:
    h = holders
    token = _token_with_holders(chain, h, alice=100)
    chain.send(token, h.owner, "setAddressFrozen", h.alice.address, True)
    chain.send(token, h.owner, "freezePartialTokens", h.alice.address, 70)
    chain.send(token, h.owner, "pause")

    # 50 of a balance of 100 with 30 free: 20 frozen tokens are unfrozen to make up the shortfall.
    receipt = chain.send(token, h.owner, "forcedTransfer", h.alice.address, h.bob.address, 50)
    assert chain.events(token, receipt, "TokensUnfrozen") == [{"userAddress": h.alice.address, "amount": 20}]
    assert chain.events(token, receipt, "Transfer") == [{"from": h.alice.address, "to": h.bob.address, "value": 50}]
    assert chain.read(token, "balanceOf", h.alice.address) == 50
    assert chain.read(token, "balanceOf", h.bob.address) == 50
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 50
    assert chain.read(token, "isFrozen", h.alice.address) is True  # the address freeze stays

    assert chain.send_failing(token, h.owner, "forcedTransfer", h.alice.address, h.carol.address, 1) == \
        ("RecipientNotEligible", (h.carol.address,))
    assert chain.send_failing(token, h.bob, "forcedTransfer", h.alice.address, h.bob.address, 1) == \
        ("CallerNotAgent", (h.bob.address,))
    assert chain.send_failing(token, h.owner, "forcedTransfer", h.alice.address, h.bob.address, 51) == \
        ("ERC20InsufficientBalance", (h.alice.address, 50, 51))
    assert chain.read(token, "balanceOf", h.alice.address) == 50
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 50

    chain.send(token, h.owner, "batchForcedTransfer", [h.alice.address, h.bob.address],
               [h.bob.address, h.owner.address], [10, 5])
    assert chain.read(token, "balanceOf", h.alice.address) == 40
    assert chain.read(token, "balanceOf", h.bob.address) == 55
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 40


def test_recovery_moves_balance_freezes_and_eligibility_to_the_new_wallet(chain: Chain, holders: Holders) -> None:
    h = holders
    token = _token_with_holders(chain, h, alice=100)
    chain.send(token, h.owner, "freezePartialTokens", h.alice.address, 30)
    chain.send(token, h.owner, "setAddressFrozen", h.alice.address, True)
    assert chain.read(token, "isEligible", h.dave.address) is False

    receipt = chain.send(token, h.owner, "recoveryAddress", h.alice.address, h.dave.address)
    assert chain.events(token, receipt, "RecoverySuccess") == [{"lostWallet": h.alice.address,
                                                               "newWallet": h.dave.address,
                                                               "agent": h.owner.address}]
    assert chain.read(token, "balanceOf", h.alice.address) == 0
    assert chain.read(token, "balanceOf", h.dave.address) == 100
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 0
    assert chain.read(token, "getFrozenTokens", h.dave.address) == 30
    assert chain.read(token, "isFrozen", h.dave.address) is True
    assert chain.read(token, "isEligible", h.dave.address) is True
    assert chain.read(token, "isEligible", h.alice.address) is False
    assert chain.read(token, "totalSupply") == INITIAL + 100

    # Nothing left to recover from the lost wallet; a wallet cannot be recovered onto itself.
    assert chain.send_failing(token, h.owner, "recoveryAddress", h.alice.address, h.carol.address) == \
        ("NothingToRecover", (h.alice.address,))
    assert chain.send_failing(token, h.owner, "recoveryAddress", h.dave.address, h.dave.address) == \
        ("SameWallet", (h.dave.address,))
    assert chain.send_failing(token, h.alice, "recoveryAddress", h.dave.address, h.alice.address) == \
        ("CallerNotAgent", (h.alice.address,))

    # The recovered position obeys the rules it had: frozen address, 30 frozen tokens.
    chain.send(token, h.owner, "setAddressFrozen", h.dave.address, False)
    assert chain.send_failing(token, h.dave, "transfer", h.bob.address, 71) == \
        ("InsufficientUnfrozenBalance", (h.dave.address, 70, 71))
    chain.send(token, h.dave, "transfer", h.bob.address, 70)
    assert chain.read(token, "balanceOf", h.bob.address) == 70


def test_pause_stops_holder_transfers_only(chain: Chain, holders: Holders) -> None:
    h = holders
    token = _token_with_holders(chain, h, alice=100)
    assert chain.send_failing(token, h.alice, "pause") == ("CallerNotAgent", (h.alice.address,))
    receipt = chain.send(token, h.owner, "pause")
    assert chain.events(token, receipt, "Paused") == [{"account": h.owner.address}]
    assert chain.read(token, "paused") is True

    assert chain.read(token, "canTransfer", h.alice.address, h.bob.address, 1) is False
    assert chain.read(token, "detectTransferRestriction", h.alice.address, h.bob.address, 1) == PAUSED
    assert chain.send_failing(token, h.alice, "transfer", h.bob.address, 1) == ("EnforcedPause", ())
    assert chain.send_failing(token, h.alice, "batchTransfer", [h.bob.address], [1]) == ("EnforcedPause", ())
    # Agent operations go on during a pause (as in T-REX).
    chain.send(token, h.owner, "mint", h.bob.address, 5)
    chain.send(token, h.owner, "burn", h.alice.address, 10)
    assert chain.read(token, "balanceOf", h.bob.address) == 5
    assert chain.read(token, "balanceOf", h.alice.address) == 90
    assert chain.send_failing(token, h.owner, "pause") == ("EnforcedPause", ())

    chain.send(token, h.owner, "unpause")
    assert chain.read(token, "paused") is False
    chain.send(token, h.alice, "transfer", h.bob.address, 1)
    assert chain.read(token, "balanceOf", h.bob.address) == 6


def test_batch_add_mint_transfer_freeze_and_remove(chain: Chain, holders: Holders) -> None:
    h = holders
    token = _token_with_holders(chain, h, alice=1_000)
    investors = [Account.create().address for _ in range(20)]
    receipt = chain.send(token, h.owner, "batchAddEligible", investors)
    assert len(chain.events(token, receipt, "EligibilitySet")) == 20
    assert all(chain.read(token, "isEligible", a) for a in investors)

    chain.send(token, h.owner, "batchMint", investors[:10], list(range(1, 11)))
    assert [chain.read(token, "balanceOf", a) for a in investors[:10]] == list(range(1, 11))
    assert chain.read(token, "totalSupply") == INITIAL + 1_000 + 55

    chain.send(token, h.alice, "batchTransfer", investors[10:13], [100, 200, 300])
    assert [chain.read(token, "balanceOf", a) for a in investors[10:13]] == [100, 200, 300]
    assert chain.read(token, "balanceOf", h.alice.address) == 400

    # A batch is all or nothing: one unlisted recipient and no one is paid.
    assert chain.send_failing(token, h.alice, "batchTransfer", [investors[13], h.carol.address], [1, 1]) == \
        ("RecipientNotEligible", (h.carol.address,))
    assert chain.read(token, "balanceOf", investors[13]) == 0
    assert chain.read(token, "balanceOf", h.alice.address) == 400
    assert chain.send_failing(token, h.owner, "batchMint", investors[:2], [1]) == ("ArrayLengthMismatch", (2, 1))

    chain.send(token, h.owner, "batchSetAddressFrozen", investors[:3], [True, False, True])
    assert [chain.read(token, "isFrozen", a) for a in investors[:3]] == [True, False, True]
    chain.send(token, h.owner, "batchFreezePartialTokens", investors[3:5], [2, 3])
    assert [chain.read(token, "getFrozenTokens", a) for a in investors[3:5]] == [2, 3]
    chain.send(token, h.owner, "batchUnfreezePartialTokens", investors[3:5], [1, 3])
    assert [chain.read(token, "getFrozenTokens", a) for a in investors[3:5]] == [1, 0]

    chain.send(token, h.owner, "batchSetEligible", investors[15:17], [False, True])
    assert [chain.read(token, "isEligible", a) for a in investors[15:17]] == [False, True]
    chain.send(token, h.owner, "batchRemoveEligible", investors[17:])
    assert [chain.read(token, "isEligible", a) for a in investors[17:]] == [False, False, False]
    assert chain.read(token, "isEligible", investors[14]) is True

    chain.send(token, h.owner, "batchBurn", investors[10:12], [50, 200])
    assert [chain.read(token, "balanceOf", a) for a in investors[10:12]] == [50, 0]
    assert chain.send_failing(token, h.alice, "batchAddEligible", [h.carol.address]) == \
        ("CallerNotAgent", (h.alice.address,))
    assert chain.read(token, "isEligible", h.carol.address) is False


def test_mint_needs_an_eligible_recipient_and_respects_the_cap(chain: Chain, holders: Holders) -> None:
    h = holders
    token = chain.deploy(h.owner, initial=0, cap=1_000)
    assert chain.send_failing(token, h.owner, "mint", h.carol.address, 1) == \
        ("RecipientNotEligible", (h.carol.address,))
    chain.send(token, h.owner, "setEligible", h.alice.address, True)
    chain.send(token, h.owner, "mint", h.alice.address, 1_000)
    assert chain.read(token, "totalSupply") == chain.read(token, "cap") == 1_000
    assert chain.send_failing(token, h.owner, "mint", h.alice.address, 1) == ("ERC20ExceededCap", (1_001, 1_000))
    assert chain.send_failing(token, h.alice, "mint", h.alice.address, 1) == ("CallerNotAgent", (h.alice.address,))

    # An agent burn takes frozen tokens too, unfreezing only the shortfall.
    chain.send(token, h.owner, "freezePartialTokens", h.alice.address, 900)
    receipt = chain.send(token, h.owner, "burn", h.alice.address, 300)
    assert chain.events(token, receipt, "TokensUnfrozen") == [{"userAddress": h.alice.address, "amount": 200}]
    assert chain.read(token, "balanceOf", h.alice.address) == 700
    assert chain.read(token, "getFrozenTokens", h.alice.address) == 700
    assert chain.read(token, "totalSupply") == 700
    assert chain.send_failing(token, h.owner, "setEligible", "0x" + "00" * 20, True) == ("ZeroAddress", ())


def test_owner_adds_and_removes_agents(chain: Chain, holders: Holders) -> None:
    h = holders
    token = chain.deploy(h.owner)
    assert chain.send_failing(token, h.agent, "setEligible", h.alice.address, True) == \
        ("CallerNotAgent", (h.agent.address,))
    assert chain.send_failing(token, h.alice, "addAgent", h.agent.address) == \
        ("OwnableUnauthorizedAccount", (h.alice.address,))

    receipt = chain.send(token, h.owner, "addAgent", h.agent.address)
    assert chain.events(token, receipt, "AgentAdded") == [{"agent": h.agent.address}]
    assert chain.read(token, "isAgent", h.agent.address) is True
    assert chain.send_failing(token, h.owner, "addAgent", h.agent.address) == \
        ("AgentAlreadyAdded", (h.agent.address,))
    receipt = chain.send(token, h.agent, "setEligible", h.alice.address, True)
    assert chain.events(token, receipt, "EligibilitySet") == [{"account": h.alice.address, "eligible": True,
                                                              "agent": h.agent.address}]
    assert chain.read(token, "isEligible", h.alice.address) is True

    chain.send(token, h.owner, "removeAgent", h.agent.address)
    assert chain.read(token, "isAgent", h.agent.address) is False
    assert chain.send_failing(token, h.agent, "setAddressFrozen", h.alice.address, True) == \
        ("CallerNotAgent", (h.agent.address,))
    assert chain.send_failing(token, h.owner, "removeAgent", h.agent.address) == ("AgentNotFound", (h.agent.address,))
    assert chain.read(token, "isFrozen", h.alice.address) is False
