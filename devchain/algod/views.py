"""algod v2 JSON shapes built from the devnet's raw ledger state.

Field names and omission rules follow algod's OpenAPI models (Account,
Asset, Application, PendingTransactionResponse...), so that unmodified
py-algorand-sdk code and product code written against a real node read the
devnet the same way.
"""

from __future__ import annotations

import time
from typing import Any

from algosdk import encoding

from .codec import as_bytes, b64, to_json
from .constants import (
    APP_FLAT_OPTIN_MIN_BALANCE,
    APP_FLAT_PARAMS_MIN_BALANCE,
    BOX_BYTE_MIN_BALANCE,
    BOX_FLAT_MIN_BALANCE,
    CONSENSUS_VERSION,
    GENESIS_HASH,
    GENESIS_HASH_B64,
    GENESIS_ID,
    MIN_BALANCE,
    MIN_TXN_FEE,
    SCHEMA_BYTES_MIN_BALANCE,
    SCHEMA_MIN_BALANCE_PER_ENTRY,
    SCHEMA_UINT_MIN_BALANCE,
)
from .ledger import DevnetLedger, TxnRecord

_STATUS = {0: "Offline", 1: "Online", 2: "NotParticipating"}


def _addr(raw: Any) -> str:
    return encoding.encode_address(as_bytes(raw))


def _schema(s: dict[str, Any] | None) -> dict[str, int]:
    s = s or {}
    return {"num-byte-slice": int(s.get("nbs", 0)), "num-uint": int(s.get("nui", 0))}


def teal_kv(tkv: dict[Any, Any] | None) -> list[dict[str, Any]]:
    """TealKeyValueStore: base64 keys, ``type`` 1 bytes / 2 uint."""
    out = []
    for key, val in (tkv or {}).items():
        tt = int(val.get("tt", 0))
        out.append({"key": b64(as_bytes(key)), "value": {
            "type": tt, "bytes": b64(as_bytes(val.get("tb"))) if tt == 1 else "",
            "uint": int(val.get("ui", 0)) if tt == 2 else 0}})
    return out


def _text_fields(out: dict[str, Any], name: str, raw: Any) -> None:
    """algod returns ``name`` only when printable UTF-8, ``name-b64`` always."""
    data = as_bytes(raw)
    if not data:
        return
    out[f"{name}-b64"] = b64(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if text.isprintable():
        out[name] = text


def asset_params(p: dict[str, Any], creator: bytes) -> dict[str, Any]:
    """model.AssetParams."""
    out: dict[str, Any] = {"creator": _addr(creator), "decimals": int(p.get("dc", 0)),
                           "default-frozen": bool(p.get("df", False)), "total": int(p.get("t", 0))}
    _text_fields(out, "unit-name", p.get("un"))
    _text_fields(out, "name", p.get("an"))
    _text_fields(out, "url", p.get("au"))
    if p.get("am"):
        out["metadata-hash"] = b64(as_bytes(p["am"]))
    for key, name in (("m", "manager"), ("r", "reserve"), ("f", "freeze"), ("c", "clawback")):
        if p.get(key):
            out[name] = _addr(p[key])
    return out


def app_params(p: dict[str, Any], creator: bytes) -> dict[str, Any]:
    """model.ApplicationParams."""
    out: dict[str, Any] = {
        "creator": _addr(creator),
        "approval-program": b64(as_bytes(p.get("approv"))),
        "clear-state-program": b64(as_bytes(p.get("clearp"))),
        "global-state-schema": _schema(p.get("gsch")),
        "local-state-schema": _schema(p.get("lsch")),
    }
    if p.get("gs"):
        out["global-state"] = teal_kv(p["gs"])
    if p.get("epp"):
        out["extra-program-pages"] = int(p["epp"])
    if p.get("v"):
        out["version"] = int(p["v"])
    return out


def min_balance(ad: dict[str, Any]) -> int:
    """basics.MinBalance with ConsensusFuture parameters."""
    tsch = ad.get("tsch") or {}
    schema = (int(tsch.get("nui", 0)) * (SCHEMA_MIN_BALANCE_PER_ENTRY + SCHEMA_UINT_MIN_BALANCE)
              + int(tsch.get("nbs", 0)) * (SCHEMA_MIN_BALANCE_PER_ENTRY + SCHEMA_BYTES_MIN_BALANCE))
    return (MIN_BALANCE * (1 + len(ad.get("asset") or {}))
            + APP_FLAT_PARAMS_MIN_BALANCE * (len(ad.get("appp") or {}) + int(ad.get("teap", 0)))
            + APP_FLAT_OPTIN_MIN_BALANCE * len(ad.get("appl") or {})
            + schema
            + BOX_FLAT_MIN_BALANCE * int(ad.get("tbx", 0))
            + BOX_BYTE_MIN_BALANCE * int(ad.get("tbxb", 0)))


def account(address: str, ad: dict[str, Any], rnd: int, exclude_all: bool = False) -> dict[str, Any]:
    """model.Account (an unknown address is an empty, offline account, as in algod)."""
    raw_addr = encoding.decode_address(address)
    amount = int(ad.get("algo", 0))
    out: dict[str, Any] = {
        "address": address, "amount": amount, "amount-without-pending-rewards": amount,
        "min-balance": min_balance(ad) if ad else 0, "pending-rewards": 0, "rewards": 0,
        "reward-base": int(ad.get("ebase", 0)), "round": rnd,
        "status": _STATUS.get(int(ad.get("onl", 0)), "Offline"),
        "apps-total-schema": _schema(ad.get("tsch")),
        "total-apps-opted-in": len(ad.get("appl") or {}),
        "total-assets-opted-in": len(ad.get("asset") or {}),
        "total-created-apps": len(ad.get("appp") or {}),
        "total-created-assets": len(ad.get("apar") or {}),
        "total-boxes": int(ad.get("tbx", 0)), "total-box-bytes": int(ad.get("tbxb", 0)),
    }
    if ad.get("teap"):
        out["apps-total-extra-pages"] = int(ad["teap"])
    if ad.get("spend"):
        out["auth-addr"] = _addr(ad["spend"])
    if exclude_all:
        return out
    out["assets"] = [{"amount": int(h.get("a", 0)), "asset-id": int(aid), "is-frozen": bool(h.get("f", False))}
                     for aid, h in sorted((ad.get("asset") or {}).items())]
    out["created-assets"] = [{"index": int(aid), "params": asset_params(p, raw_addr)}
                             for aid, p in sorted((ad.get("apar") or {}).items())]
    out["created-apps"] = [{"id": int(aid), "params": app_params(p, raw_addr)}
                           for aid, p in sorted((ad.get("appp") or {}).items())]
    out["apps-local-state"] = [
        {"id": int(aid), "schema": _schema(ls.get("hsch")), "key-value": teal_kv(ls.get("tkv"))}
        for aid, ls in sorted((ad.get("appl") or {}).items())]
    return out


def _state_delta(delta: dict[Any, Any] | None) -> list[dict[str, Any]]:
    out = []
    for key, vd in (delta or {}).items():
        value: dict[str, Any] = {"action": int(vd.get("at", 0))}
        if vd.get("bs") is not None and vd.get("at") == 1:
            value["bytes"] = b64(as_bytes(vd.get("bs")))
        if vd.get("ui"):
            value["uint"] = int(vd["ui"])
        out.append({"key": b64(as_bytes(key)), "value": value})
    return out


def _apply_data(out: dict[str, Any], txn: dict[str, Any], applied: dict[str, Any]) -> None:
    """Copy ApplyData (created ids, closing amounts, EvalDelta) into algod's JSON names."""
    if applied.get("caid"):
        out["asset-index"] = int(applied["caid"])
    if applied.get("apid"):
        out["application-index"] = int(applied["apid"])
    if applied.get("ca"):
        out["closing-amount"] = int(applied["ca"])
    if applied.get("aca"):
        out["asset-closing-amount"] = int(applied["aca"])
    dt = applied.get("dt") or {}
    if dt.get("lg"):
        out["logs"] = [b64(as_bytes(x)) for x in dt["lg"]]
    if dt.get("gd"):
        out["global-state-delta"] = _state_delta(dt["gd"])
    if dt.get("ld"):
        accounts = [txn.get("snd")] + list(txn.get("apat") or []) + list(dt.get("sa") or [])
        out["local-state-delta"] = [
            {"address": _addr(accounts[int(i)]) if int(i) < len(accounts) else "",
             "delta": _state_delta(d)} for i, d in dt["ld"].items()]
    if dt.get("itx"):
        out["inner-txns"] = [inner_txn(itx) for itx in dt["itx"]]


def inner_txn(itx: dict[str, Any]) -> dict[str, Any]:
    """An inner transaction as algod nests it in ``inner-txns``."""
    stxn = {k: v for k, v in itx.items() if k in ("txn", "sig", "msig", "lsig", "sgnr")}
    out: dict[str, Any] = {"txn": to_json(stxn), "pool-error": "", "sender-rewards": 0,
                           "receiver-rewards": 0, "close-rewards": 0}
    _apply_data(out, itx.get("txn") or {}, itx)
    return out


def pending(rec: TxnRecord) -> dict[str, Any]:
    """model.PendingTransactionResponse of a confirmed transaction."""
    out: dict[str, Any] = {"txn": to_json(rec.stxn), "pool-error": "",
                           "confirmed-round": rec.confirmed_round, "sender-rewards": 0,
                           "receiver-rewards": 0, "close-rewards": 0}
    _apply_data(out, rec.stxn.get("txn") or {}, rec.applied)
    return out


def status(ledger: DevnetLedger) -> dict[str, Any]:
    """model.NodeStatusResponse."""
    return {"catchup-time": 0, "last-round": ledger.last_round, "last-version": CONSENSUS_VERSION,
            "next-version": CONSENSUS_VERSION, "next-version-round": ledger.last_round + 1,
            "next-version-supported": True, "stopped-at-unsupported-round": False,
            "time-since-last-round": max(0, int((time.monotonic() - ledger.round_changed_at) * 1e9)),
            "last-catchpoint": "", "catchpoint": ""}


def params(ledger: DevnetLedger) -> dict[str, Any]:
    """model.TransactionParametersResponse (``fee`` is per byte, 0 when uncongested)."""
    return {"consensus-version": CONSENSUS_VERSION, "fee": 0, "genesis-hash": GENESIS_HASH_B64,
            "genesis-id": GENESIS_ID, "last-round": ledger.last_round, "min-fee": MIN_TXN_FEE}


def block_header(ledger: DevnetLedger, rnd: int) -> dict[str, Any]:
    """The stored block of ``rnd``, or a synthesized empty one for a timer/advance round."""
    block = ledger.blocks.get(rnd)
    if block is not None:
        return block
    return {"rnd": rnd, "gen": GENESIS_ID, "gh": GENESIS_HASH,
            "proto": CONSENSUS_VERSION, "tc": ledger.txn_counter, "ts": ledger.last_timestamp}
