"""Biatec Tokens ARC-200 fungible token (Algorand Python, compiled with puyapy for AVM v10).

One contract serves both deployment slugs ``arc200-mintable`` and ``arc200-preminted``:
``bootstrap`` decides from its ``cap`` argument whether the owner may mint later.

Lifecycle
---------
1. Create the application with a bare NoOp create call (no arguments). The creator becomes the
   owner (global ``owner``); update and delete are rejected, the program is immutable.
2. Fund the application account (see *Minimum balance* below), then call ``bootstrap`` once,
   as the creator -- usually in one atomic group: ``[pay(creator -> app address), bootstrap]``.
   ``bootstrap`` mints ``total_supply`` to ``receiver`` and stores the cap:

   * ``cap == 0`` or ``cap == total_supply`` -> preminted: ``mintable`` is 0, cap = supply;
   * ``cap > total_supply``                  -> mintable: the owner may ``mint`` up to ``cap``;
   * ``0 < cap < total_supply``              -> rejected.
3. Holders use the ARC-200 methods; every balance change logs an ARC-28 ``arc200_Transfer``
   event (mints come *from* the zero address), every allowance change an ``arc200_Approval``.

ABI methods (ARC-4)
-------------------
* ``bootstrap(string,string,uint8,uint256,address,uint256)bool`` -- name (<= 32 bytes UTF-8),
  symbol (<= 8 bytes), decimals, total_supply, receiver, cap. Creator only, once.
* ``arc200_name()byte[32]``, ``arc200_symbol()byte[8]`` (right-padded with zero bytes),
  ``arc200_decimals()uint8``, ``arc200_totalSupply()uint256``,
  ``arc200_balanceOf(address)uint256``, ``arc200_allowance(address,address)uint256`` (read-only)
* ``arc200_transfer(address,uint256)bool``, ``arc200_transferFrom(address,address,uint256)bool``,
  ``arc200_approve(address,uint256)bool``
* ``mint(address,uint256)bool`` -- owner only, mintable tokens only, total supply <= cap.
* ``cap()uint256``, ``is_mintable()bool``, ``owner_address()address`` (read-only)

A transfer of more than the sender's balance (or a ``transferFrom`` above the allowance)
fails with an AVM assert; the whole transaction group is rejected.

Events (ARC-28, log = 4-byte selector of the signature + ARC-4 tuple)
----------------------------------------------------------------------
* ``arc200_Transfer(address,address,uint256)`` -- from, to, amount
* ``arc200_Approval(address,address,uint256)`` -- owner, spender, new allowance

Global state (schema: 3 uint64, 5 byte slices)
-----------------------------------------------
``owner`` (32-byte address), ``token_name`` (32 bytes, zero-padded), ``token_symbol`` (8 bytes),
``total_supply`` (32-byte uint256), ``token_cap`` (32-byte uint256); uint64s ``decimals``,
``bootstrapped`` (0/1), ``mintable`` (0/1).

Box layout
----------
========================  ============================================  ==========  ==============
box                       key                                           value       MBR (microAlgo)
========================  ============================================  ==========  ==============
balance of ``addr``       ``b"b"`` + 32-byte public key (33 bytes)      uint256 32  28_500
allowance owner->spender  ``b"a"`` + sha256(owner pk + spender pk) (33)  uint256 32  28_500
========================  ============================================  ==========  ==============

Box MBR = 2_500 + 400 * (key bytes + value bytes) per box. A balance box is created the first
time an address receives tokens (also for a zero amount) and never deleted; an allowance box on
the first ``approve`` for that pair.

Minimum balance
---------------
The application account needs 100_000 (account minimum) + 28_500 (receiver balance box) =
**128_500 microAlgo** for ``bootstrap`` to succeed, plus 28_500 for every further new holder
and for every new (owner, spender) allowance pair. Whoever causes a new box is expected to top
up the application account (a payment in the same group), otherwise the call fails with the
ledger's minimum-balance error. Every call must carry box references for the boxes it touches.
"""

import typing

from algopy import (
    ARC4Contract,
    BigUInt,
    BoxMap,
    Bytes,
    Global,
    Txn,
    UInt64,
    arc4,
    op,
    subroutine,
)

Bytes32: typing.TypeAlias = arc4.StaticArray[arc4.Byte, typing.Literal[32]]
Bytes8: typing.TypeAlias = arc4.StaticArray[arc4.Byte, typing.Literal[8]]

NAME_BYTES = 32
SYMBOL_BYTES = 8


class arc200_Transfer(arc4.Struct):  # noqa: N801 - the ARC-28 event name is the class name
    """ARC-200 transfer event; mints log ``from_`` = zero address, burns ``to`` = zero."""

    from_: arc4.Address
    to: arc4.Address
    value: arc4.UInt256


class arc200_Approval(arc4.Struct):  # noqa: N801
    """ARC-200 approval event: ``owner`` lets ``spender`` move up to ``value``."""

    owner: arc4.Address
    spender: arc4.Address
    value: arc4.UInt256


class Arc200Token(ARC4Contract):
    """ARC-200 token with uint256 amounts, balances and allowances in boxes, optional cap mint."""

    def __init__(self) -> None:
        """Initialise global state on application creation; the creator becomes the owner."""
        self.owner = arc4.Address(Txn.sender)
        # Fixed-size, zero-filled until bootstrap (never an empty byte slice in global state).
        self.token_name = op.bzero(NAME_BYTES)
        self.token_symbol = op.bzero(SYMBOL_BYTES)
        self.decimals = UInt64(0)
        self.total_supply = arc4.UInt256(0)
        self.token_cap = arc4.UInt256(0)
        self.bootstrapped = UInt64(0)
        self.mintable = UInt64(0)
        self.balances = BoxMap(arc4.Address, arc4.UInt256, key_prefix=b"b")
        self.allowances = BoxMap(Bytes, arc4.UInt256, key_prefix=b"a")

    # ------------------------------------------------------------------ setup

    @arc4.abimethod
    def bootstrap(
        self,
        name: arc4.String,
        symbol: arc4.String,
        decimals: arc4.UInt8,
        total_supply: arc4.UInt256,
        receiver: arc4.Address,
        cap: arc4.UInt256,
    ) -> arc4.Bool:
        """Set the token metadata, mint ``total_supply`` to ``receiver`` and store the cap.

        Callable once, by the application creator. ``cap`` 0 (or equal to the supply) makes a
        preminted token; a larger cap makes it mintable by the owner up to the cap.
        """
        assert Txn.sender == Global.creator_address, "only the creator can bootstrap"
        assert self.bootstrapped == 0, "already bootstrapped"
        name_bytes = name.native.bytes
        symbol_bytes = symbol.native.bytes
        assert name_bytes.length <= NAME_BYTES, "name longer than 32 bytes"
        assert symbol_bytes.length <= SYMBOL_BYTES, "symbol longer than 8 bytes"
        supply = total_supply.as_biguint()
        effective_cap = cap.as_biguint()
        if effective_cap == 0:
            effective_cap = supply
        assert effective_cap >= supply, "cap below total supply"

        self.token_name = name_bytes + op.bzero(NAME_BYTES - name_bytes.length)
        self.token_symbol = symbol_bytes + op.bzero(SYMBOL_BYTES - symbol_bytes.length)
        self.decimals = decimals.as_uint64()
        self.total_supply = total_supply
        self.token_cap = arc4.UInt256(effective_cap)
        self.mintable = UInt64(1) if effective_cap > supply else UInt64(0)
        self.bootstrapped = UInt64(1)

        self._on_bootstrap(receiver)
        self.balances[receiver] = arc4.UInt256(self._balance(receiver) + supply)
        arc4.emit(arc200_Transfer(arc4.Address(Global.zero_address), receiver, total_supply))
        return arc4.Bool(True)

    @arc4.abimethod
    def mint(self, to: arc4.Address, amount: arc4.UInt256) -> arc4.Bool:
        """Mint ``amount`` to ``to`` (owner only, mintable tokens only, up to the cap)."""
        self._only_owner()
        self._issue(to, amount)
        return arc4.Bool(True)

    # --------------------------------------------------------------- ARC-200

    @arc4.abimethod(readonly=True)
    def arc200_name(self) -> Bytes32:
        """Token name, UTF-8, right-padded with zero bytes to 32 bytes."""
        return Bytes32.from_bytes(self.token_name)

    @arc4.abimethod(readonly=True)
    def arc200_symbol(self) -> Bytes8:
        """Token symbol, UTF-8, right-padded with zero bytes to 8 bytes."""
        return Bytes8.from_bytes(self.token_symbol)

    @arc4.abimethod(readonly=True)
    def arc200_decimals(self) -> arc4.UInt8:
        """Number of decimals."""
        return arc4.UInt8(self.decimals)

    @arc4.abimethod(readonly=True)
    def arc200_totalSupply(self) -> arc4.UInt256:  # noqa: N802
        """Current total supply."""
        return self.total_supply

    @arc4.abimethod(readonly=True)
    def arc200_balanceOf(self, owner: arc4.Address) -> arc4.UInt256:  # noqa: N802
        """Balance of ``owner`` (0 for an address that never held tokens)."""
        return arc4.UInt256(self._balance(owner))

    @arc4.abimethod(readonly=True)
    def arc200_allowance(self, owner: arc4.Address, spender: arc4.Address) -> arc4.UInt256:
        """Amount ``spender`` may still move out of ``owner``'s balance."""
        return arc4.UInt256(self._allowance(owner, spender))

    @arc4.abimethod
    def arc200_transfer(self, to: arc4.Address, value: arc4.UInt256) -> arc4.Bool:
        """Move ``value`` from the caller to ``to``; fails if the balance is too small."""
        sender = arc4.Address(Txn.sender)
        self._check_transfer(sender, to)
        self._move(sender, to, value)
        return arc4.Bool(True)

    @arc4.abimethod
    def arc200_transferFrom(  # noqa: N802
        self, from_: arc4.Address, to: arc4.Address, value: arc4.UInt256
    ) -> arc4.Bool:
        """Move ``value`` from ``from_`` to ``to`` using the caller's allowance."""
        spender = arc4.Address(Txn.sender)
        remaining = self._allowance(from_, spender)
        assert remaining >= value.as_biguint(), "allowance exceeded"
        self._set_allowance(from_, spender, remaining - value.as_biguint())
        self._check_transfer(from_, to)
        self._move(from_, to, value)
        return arc4.Bool(True)

    @arc4.abimethod
    def arc200_approve(self, spender: arc4.Address, value: arc4.UInt256) -> arc4.Bool:
        """Allow ``spender`` to move up to ``value`` of the caller's tokens (replaces)."""
        self._set_allowance(arc4.Address(Txn.sender), spender, value.as_biguint())
        return arc4.Bool(True)

    # ------------------------------------------------------------ read-only

    @arc4.abimethod(readonly=True)
    def cap(self) -> arc4.UInt256:
        """Maximum total supply (equals the supply for a preminted token)."""
        return self.token_cap

    @arc4.abimethod(readonly=True)
    def is_mintable(self) -> arc4.Bool:
        """Whether the owner may still mint (cap above the supply at bootstrap)."""
        return arc4.Bool(self.mintable == 1)

    @arc4.abimethod(readonly=True)
    def owner_address(self) -> arc4.Address:
        """Current owner (the creator unless ownership was transferred)."""
        return self.owner

    # ------------------------------------------------------------- internals

    @subroutine
    def _only_owner(self) -> None:
        """Fail unless the caller is the owner."""
        assert arc4.Address(Txn.sender) == self.owner, "only the owner"

    @subroutine
    def _balance(self, account: arc4.Address) -> BigUInt:
        """Balance of ``account`` as a BigUInt, 0 if it has no balance box."""
        return self.balances.get(account, default=arc4.UInt256(0)).as_biguint()

    @subroutine
    def _allowance_key(self, owner: arc4.Address, spender: arc4.Address) -> Bytes:
        """Allowance box key suffix: sha256(owner public key + spender public key)."""
        return op.sha256(owner.bytes + spender.bytes)

    @subroutine
    def _allowance(self, owner: arc4.Address, spender: arc4.Address) -> BigUInt:
        """Allowance of ``spender`` over ``owner``'s tokens, 0 if none."""
        key = self._allowance_key(owner, spender)
        return self.allowances.get(key, default=arc4.UInt256(0)).as_biguint()

    @subroutine
    def _set_allowance(self, owner: arc4.Address, spender: arc4.Address, value: BigUInt) -> None:
        """Store an allowance and emit ``arc200_Approval``."""
        amount = arc4.UInt256(value)
        self.allowances[self._allowance_key(owner, spender)] = amount
        arc4.emit(arc200_Approval(owner, spender, amount))

    @subroutine
    def _move(self, sender: arc4.Address, receiver: arc4.Address, value: arc4.UInt256) -> None:
        """Move ``value`` between balances (asserting the sender's balance) and log it."""
        assert self.bootstrapped == 1, "not bootstrapped"
        amount = value.as_biguint()
        sender_balance = self._balance(sender)
        assert sender_balance >= amount, "insufficient balance"
        self.balances[sender] = arc4.UInt256(sender_balance - amount)
        self.balances[receiver] = arc4.UInt256(self._balance(receiver) + amount)
        arc4.emit(arc200_Transfer(sender, receiver, value))

    @subroutine
    def _issue(self, to: arc4.Address, value: arc4.UInt256) -> None:
        """Create ``value`` new tokens for ``to`` within the cap and log the mint."""
        assert self.bootstrapped == 1, "not bootstrapped"
        assert self.mintable == 1, "token is not mintable"
        new_supply = self.total_supply.as_biguint() + value.as_biguint()
        assert new_supply <= self.token_cap.as_biguint(), "cap exceeded"
        self._check_receive(to)
        self.total_supply = arc4.UInt256(new_supply)
        self.balances[to] = arc4.UInt256(self._balance(to) + value.as_biguint())
        arc4.emit(arc200_Transfer(arc4.Address(Global.zero_address), to, value))

    @subroutine
    def _burn(self, holder: arc4.Address, value: arc4.UInt256) -> None:
        """Destroy ``value`` of ``holder``'s tokens (asserting the balance) and log it."""
        assert self.bootstrapped == 1, "not bootstrapped"
        amount = value.as_biguint()
        holder_balance = self._balance(holder)
        assert holder_balance >= amount, "insufficient balance"
        self.balances[holder] = arc4.UInt256(holder_balance - amount)
        self.total_supply = arc4.UInt256(self.total_supply.as_biguint() - amount)
        arc4.emit(arc200_Transfer(holder, arc4.Address(Global.zero_address), value))

    # ----------------------------------------------- hooks for subclasses

    @subroutine
    def _on_bootstrap(self, receiver: arc4.Address) -> None:
        """Hook run by ``bootstrap`` before the supply is minted (no-op for plain ARC-200)."""

    @subroutine
    def _check_transfer(self, sender: arc4.Address, receiver: arc4.Address) -> None:
        """Hook asserting a holder-initiated transfer is allowed (no-op for plain ARC-200)."""

    @subroutine
    def _check_receive(self, receiver: arc4.Address) -> None:
        """Hook asserting ``receiver`` may receive newly issued tokens (no-op here)."""
