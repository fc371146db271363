"""Biatec Tokens ARC-1400 security token (Algorand Python, compiled with puyapy for AVM v10).

The project's own security token in the spirit of the ARC-1400 draft family, deployed for the
``arc1400-mintable`` slug. It is the ARC-200 token of ``arc200_token.py`` (same methods, same
``bootstrap``, same balance/allowance boxes and events) plus:

* **ARC-88 ownership**: ``arc88_owner()address``, ``arc88_is_owner(address)bool``,
  ``arc88_transfer_ownership(address)void`` (owner only, not to the zero address; logs
  ``arc88_OwnershipTransferred(address,address)``). The owner is the creator at creation.
* **Whitelist** (on-chain eligibility, owner managed): ``whitelist_set(address,bool)void``
  (logs ``WhitelistChanged(address,bool)``), ``is_whitelisted(address)bool``.
  ``bootstrap`` whitelists the receiver of the initial supply.
* **Halt switch**: ``set_halt(bool)void`` (owner only, logs ``TransfersHalted(bool)``),
  ``is_halted()bool``.
* **Transfer restrictions**: ``arc200_transfer`` and ``arc200_transferFrom`` fail unless
  transfers are not halted and both sender (the holder whose tokens move) and recipient are
  whitelisted. ``arc1594_can_transfer(address,address,uint256,byte[])uint64`` (read-only)
  returns the restriction code a transfer would hit:

  ====  ==================================================
  code  meaning
  ====  ==================================================
  0     transfer would succeed
  10    sender not eligible (not whitelisted)
  11    recipient not eligible (not whitelisted)
  13    insufficient balance
  14    transfers halted
  ====  ==================================================

  Checked in the order 14, 10, 11, 13.
* **ARC-1594 issuance/redemption** (owner only): ``arc1594_issue(address,uint256,byte[])void``
  mints to a whitelisted holder within the cap (the token must be mintable, i.e. bootstrapped
  with ``cap > total_supply``) and logs ``arc1594_Issue(address,uint256,byte[])``;
  ``arc1594_redeemFrom(address,uint256,byte[])void`` burns from a holder and logs
  ``arc1594_Redeem(address,uint256,byte[])``. ``mint`` (inherited) also requires a whitelisted
  recipient. Both also log ``arc200_Transfer`` from/to the zero address.
* **ARC-1644 controller operations** (owner = controller):
  ``arc1644_controller_transfer(address,address,uint256,byte[])void`` (from, to, amount,
  justification) forces a transfer regardless of whitelist and halt (the balance still has to
  cover it) and logs ``arc1644_ControllerTransfer(address,address,address,uint256,byte[])``
  (controller, from, to, amount, justification);
  ``arc1644_controller_redeem(address,uint256,byte[])void`` burns from a holder and logs
  ``arc1644_ControllerRedemption(address,address,uint256,byte[])``. The justification must
  not be empty. ``arc1644_is_controllable()bool`` returns true.

Global state (schema: 4 uint64, 5 byte slices)
-----------------------------------------------
The ARC-200 keys (``owner``, ``token_name``, ``token_symbol``, ``total_supply``,
``token_cap``; uint64s ``decimals``, ``bootstrapped``, ``mintable``) plus uint64 ``halted``.

Box layout
----------
===========================  ==========================================  ==========  ===========
box                          key                                         value       MBR (uAlgo)
===========================  ==========================================  ==========  ===========
balance of ``addr``          ``b"b"`` + 32-byte public key (33 bytes)    uint256 32  28_500
allowance owner->spender     ``b"a"`` + sha256(owner pk + spender pk)    uint256 32  28_500
whitelist entry of ``addr``  ``b"w"`` + 32-byte public key (33 bytes)    uint8 1     16_100
===========================  ==========================================  ==========  ===========

Box MBR = 2_500 + 400 * (key bytes + value bytes). Removing an address from the whitelist
deletes its box (freeing 16_100 in the application account).

Minimum balance
---------------
``bootstrap`` creates the receiver's balance box and whitelist box, so the application account
needs 100_000 + 28_500 + 16_100 = **144_600 microAlgo** for it, plus 16_100 per further
whitelisted address, 28_500 per further holder and per new allowance pair. Calls must carry
box references for every box they touch (a plain transfer touches the two balance boxes and
the two whitelist boxes).
"""

from algopy import BoxMap, Txn, UInt64, arc4, subroutine
from arc200_token import Arc200Token

CODE_OK = 0
CODE_SENDER_NOT_ELIGIBLE = 10
CODE_RECIPIENT_NOT_ELIGIBLE = 11
CODE_INSUFFICIENT_BALANCE = 13
CODE_TRANSFERS_HALTED = 14


class arc88_OwnershipTransferred(arc4.Struct):  # noqa: N801
    """ARC-88 ownership transfer event."""

    previous_owner: arc4.Address
    new_owner: arc4.Address


class WhitelistChanged(arc4.Struct):
    """An address was added to (``eligible`` true) or removed from the whitelist."""

    account: arc4.Address
    eligible: arc4.Bool


class TransfersHalted(arc4.Struct):
    """The halt switch changed."""

    halted: arc4.Bool


class arc1594_Issue(arc4.Struct):  # noqa: N801
    """ARC-1594 issuance event."""

    to: arc4.Address
    value: arc4.UInt256
    data: arc4.DynamicBytes


class arc1594_Redeem(arc4.Struct):  # noqa: N801
    """ARC-1594 redemption event."""

    from_: arc4.Address
    value: arc4.UInt256
    data: arc4.DynamicBytes


class arc1644_ControllerTransfer(arc4.Struct):  # noqa: N801
    """ARC-1644 forced transfer by the controller, with its justification."""

    controller: arc4.Address
    from_: arc4.Address
    to: arc4.Address
    value: arc4.UInt256
    justification: arc4.DynamicBytes


class arc1644_ControllerRedemption(arc4.Struct):  # noqa: N801
    """ARC-1644 forced redemption by the controller, with its justification."""

    controller: arc4.Address
    from_: arc4.Address
    value: arc4.UInt256
    justification: arc4.DynamicBytes


class Arc1400SecurityToken(Arc200Token):
    """ARC-200 token with ARC-88 ownership, whitelist, halt, ARC-1594 and ARC-1644."""

    def __init__(self) -> None:
        """Initialise the ARC-200 state plus the halt flag and the whitelist box map."""
        super().__init__()
        self.halted = UInt64(0)
        self.whitelist = BoxMap(arc4.Address, arc4.UInt8, key_prefix=b"w")

    # ----------------------------------------------------------------- ARC-88

    @arc4.abimethod(readonly=True)
    def arc88_owner(self) -> arc4.Address:
        """Current owner."""
        return self.owner

    @arc4.abimethod(readonly=True)
    def arc88_is_owner(self, query: arc4.Address) -> arc4.Bool:
        """Whether ``query`` is the current owner."""
        return arc4.Bool(query == self.owner)

    @arc4.abimethod
    def arc88_transfer_ownership(self, new_owner: arc4.Address) -> None:
        """Hand ownership (and the controller role) to ``new_owner`` (owner only)."""
        self._only_owner()
        assert new_owner != arc4.Address(), "zero address not allowed"
        previous = self.owner
        self.owner = new_owner
        arc4.emit(arc88_OwnershipTransferred(previous, new_owner))

    # ---------------------------------------------------- whitelist and halt

    @arc4.abimethod
    def whitelist_set(self, account: arc4.Address, eligible: arc4.Bool) -> None:
        """Add ``account`` to (true) or remove it from (false) the whitelist (owner only)."""
        self._only_owner()
        if eligible.native:
            self.whitelist[account] = arc4.UInt8(1)
        elif account in self.whitelist:
            del self.whitelist[account]
        arc4.emit(WhitelistChanged(account, eligible))

    @arc4.abimethod(readonly=True)
    def is_whitelisted(self, account: arc4.Address) -> arc4.Bool:
        """Whether ``account`` is whitelisted."""
        return arc4.Bool(self._eligible(account))

    @arc4.abimethod
    def set_halt(self, halted: arc4.Bool) -> None:
        """Stop (true) or resume (false) holder transfers (owner only)."""
        self._only_owner()
        self.halted = UInt64(1) if halted.native else UInt64(0)
        arc4.emit(TransfersHalted(halted))

    @arc4.abimethod(readonly=True)
    def is_halted(self) -> arc4.Bool:
        """Whether holder transfers are halted."""
        return arc4.Bool(self.halted == 1)

    # ---------------------------------------------------------------- ARC-1594

    @arc4.abimethod(readonly=True)
    def arc1594_can_transfer(
        self,
        from_: arc4.Address,
        to: arc4.Address,
        value: arc4.UInt256,
        data: arc4.DynamicBytes,
    ) -> arc4.UInt64:
        """Restriction code for moving ``value`` from ``from_`` to ``to`` (0 = allowed)."""
        code = UInt64(CODE_OK)
        if self.halted == 1:
            code = UInt64(CODE_TRANSFERS_HALTED)
        elif not self._eligible(from_):
            code = UInt64(CODE_SENDER_NOT_ELIGIBLE)
        elif not self._eligible(to):
            code = UInt64(CODE_RECIPIENT_NOT_ELIGIBLE)
        elif self._balance(from_) < value.as_biguint():
            code = UInt64(CODE_INSUFFICIENT_BALANCE)
        return arc4.UInt64(code)

    @arc4.abimethod
    def arc1594_issue(
        self, to: arc4.Address, value: arc4.UInt256, data: arc4.DynamicBytes
    ) -> None:
        """Issue ``value`` new tokens to whitelisted ``to`` within the cap (owner only)."""
        self._only_owner()
        self._issue(to, value)
        arc4.emit(arc1594_Issue(to, value, data.copy()))

    @arc4.abimethod
    def arc1594_redeemFrom(  # noqa: N802
        self, from_: arc4.Address, value: arc4.UInt256, data: arc4.DynamicBytes
    ) -> None:
        """Redeem (burn) ``value`` of ``from_``'s tokens (owner only)."""
        self._only_owner()
        self._burn(from_, value)
        arc4.emit(arc1594_Redeem(from_, value, data.copy()))

    # ---------------------------------------------------------------- ARC-1644

    @arc4.abimethod(readonly=True)
    def arc1644_is_controllable(self) -> arc4.Bool:
        """The owner can always force transfers and redemptions."""
        return arc4.Bool(True)

    @arc4.abimethod
    def arc1644_controller_transfer(
        self,
        from_: arc4.Address,
        to: arc4.Address,
        value: arc4.UInt256,
        justification: arc4.DynamicBytes,
    ) -> None:
        """Force a transfer, bypassing whitelist and halt (owner only, justification required)."""
        self._only_owner()
        assert justification.native.length > 0, "justification required"
        self._move(from_, to, value)
        arc4.emit(
            arc1644_ControllerTransfer(
                arc4.Address(Txn.sender), from_, to, value, justification.copy()
            )
        )

    @arc4.abimethod
    def arc1644_controller_redeem(
        self, from_: arc4.Address, value: arc4.UInt256, justification: arc4.DynamicBytes
    ) -> None:
        """Force a redemption (burn) from ``from_`` (owner only, justification required)."""
        self._only_owner()
        assert justification.native.length > 0, "justification required"
        self._burn(from_, value)
        arc4.emit(
            arc1644_ControllerRedemption(
                arc4.Address(Txn.sender), from_, value, justification.copy()
            )
        )

    # ------------------------------------------------------------ internals

    @subroutine
    def _eligible(self, account: arc4.Address) -> bool:
        """Whether ``account`` has a whitelist box."""
        return account in self.whitelist

    @subroutine
    def _on_bootstrap(self, receiver: arc4.Address) -> None:
        """Whitelist the receiver of the initial supply."""
        self.whitelist[receiver] = arc4.UInt8(1)
        arc4.emit(WhitelistChanged(receiver, arc4.Bool(True)))

    @subroutine
    def _check_transfer(self, sender: arc4.Address, receiver: arc4.Address) -> None:
        """Holder transfers need transfers not halted and both parties whitelisted."""
        assert self.halted == 0, "transfers halted"
        assert self._eligible(sender), "sender not eligible"
        assert self._eligible(receiver), "recipient not eligible"

    @subroutine
    def _check_receive(self, receiver: arc4.Address) -> None:
        """Issued tokens may only go to whitelisted addresses."""
        assert self._eligible(receiver), "recipient not eligible"
