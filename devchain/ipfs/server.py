"""A loopback server speaking the part of kubo's HTTP RPC API the product uses.

``add`` (multipart upload, CID computed here), ``cat``, ``pin/add``,
``version``.  Blobs live in memory.  Production points the product at a real
kubo node or pinning service instead; this exists so tests and the demo can
exercise the same client code without one.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

from multiformats import CID

from ..serving import BodyHandler, LoopbackServer, StatusError
from .cid import UnsupportedContent, add_block

MAX_BODY = 32 * 1024 * 1024


class KuboError(StatusError):
    """Error answered in kubo's shape: ``{"Message", "Code", "Type": "error"}``."""


class IpfsServer(LoopbackServer):
    """Holds the blob store and the optional credentials."""

    def __init__(self, host: str, port: int, bearer_token: str | None = None,
                 basic_auth: str | None = None) -> None:
        super().__init__(host, port, IpfsHandler, what="IPFS test server")
        self.blocks: dict[str, bytes] = {}  # normalised CID -> file content
        self.pins: set[str] = set()
        self.lock = threading.Lock()
        self.expected_auth: list[str] = []
        if bearer_token:
            self.expected_auth.append(f"Bearer {bearer_token}")
        if basic_auth:
            self.expected_auth.append("Basic " + base64.b64encode(basic_auth.encode()).decode())


def _normalise(arg: str | None) -> str:
    """Accept ``<cid>`` or ``/ipfs/<cid>``; key the store by CIDv1 so v0/v1 spellings match."""
    if not arg:
        raise KuboError(400, "argument \"ipfs-path\" is required")
    text = arg.removeprefix("/ipfs/").split("/", 1)[0]
    try:
        cid = CID.decode(text)
    except Exception:  # multiformats raises several error types for bad input
        raise KuboError(500, f"invalid path {arg!r}: invalid cid") from None
    return str(cid.set(version=1, base="base32")) if cid.version == 0 else str(cid.set(base="base32"))


class IpfsHandler(BodyHandler):
    """Routes ``/api/v0/*`` calls (POST only, as kubo) and ``GET /ipfs/<cid>``."""

    server: IpfsServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence per-request logging."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        path = urlsplit(self.path).path
        try:
            if path == "/health":
                self._json({"ok": True})
                return
            if path.startswith("/api/v0/"):
                raise KuboError(405, f"{self.command} not allowed")
            if path.startswith("/ipfs/"):
                self._check_auth()
                self._send(200, self._content(_normalise(path)), "application/octet-stream")
                return
            raise KuboError(404, "404 page not found")
        except KuboError as exc:
            self._error(exc)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        routes = {"/api/v0/add": self._add, "/api/v0/cat": self._cat, "/api/v0/pin/add": self._pin,
                  "/api/v0/version": self._version, "/api/v0/id": self._version}
        try:
            handler = routes.get(parts.path)
            if handler is None:
                raise KuboError(404, "404 page not found")
            self._check_auth()
            handler(query)
        except KuboError as exc:
            self._error(exc)

    # ---------------------------------------------------------------- helpers
    def _check_auth(self) -> None:
        expected = self.server.expected_auth
        if not expected:
            return
        given = self.headers.get("Authorization") or ""
        if not any(hmac.compare_digest(given.encode(), e.encode()) for e in expected):
            raise KuboError(401, "unauthorized")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise KuboError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _json(self, obj: Any) -> None:
        self._send(200, (json.dumps(obj) + "\n").encode(), "application/json")

    def _error(self, exc: KuboError) -> None:
        body = json.dumps({"Message": exc.message, "Code": 0, "Type": "error"}).encode()
        self._send(exc.status, body, "application/json")

    def _content(self, key: str) -> bytes:
        with self.server.lock:
            data = self.server.blocks.get(key)
        if data is None:
            raise KuboError(500, f"block was not found locally (offline): ipld: could not find {key}")
        return data

    # --------------------------------------------------------------- commands
    def _add(self, query: dict[str, str]) -> None:
        """``add``: one JSON line per uploaded file, as kubo streams them."""
        files = _multipart_files(self.headers.get("Content-Type") or "", self._read_body())
        if not files:
            raise KuboError(400, "file argument 'path' is required")
        cid_version = _int_flag(query.get("cid-version"), 0)
        raw_leaves = _bool_flag(query.get("raw-leaves"))
        pin = _bool_flag(query.get("pin"))
        lines = []
        for name, content in files:
            try:
                block = add_block(content, cid_version, raw_leaves)
            except UnsupportedContent as exc:
                raise KuboError(400, str(exc)) from None
            key = _normalise(block.cid)
            with self.server.lock:
                self.server.blocks[key] = content
                if pin is not False:  # kubo pins added files by default
                    self.server.pins.add(key)
            lines.append(json.dumps({"Name": name or block.cid, "Hash": block.cid, "Size": str(block.size)}))
        self._send(200, ("\n".join(lines) + "\n").encode(), "application/json")

    def _cat(self, query: dict[str, str]) -> None:
        self._read_body()
        data = self._content(_normalise(query.get("arg")))
        offset = _int_flag(query.get("offset"), 0)
        length = query.get("length")
        data = data[offset:] if length is None else data[offset:offset + _int_flag(length, 0)]
        self._send(200, data, "text/plain")

    def _pin(self, query: dict[str, str]) -> None:
        self._read_body()
        arg = query.get("arg")
        key = _normalise(arg)
        self._content(key)
        with self.server.lock:
            self.server.pins.add(key)
        self._json({"Pins": [arg.removeprefix("/ipfs/") if arg else key]})

    def _version(self, query: dict[str, str]) -> None:
        self._read_body()
        self._json({"Version": "0.0.0-devchain", "Commit": "", "Repo": "0", "System": "python",
                    "Golang": ""})


def _bool_flag(value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("", "true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise KuboError(400, f"invalid boolean {value!r}")


def _int_flag(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise KuboError(400, f"invalid integer {value!r}") from None


def _multipart_files(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(filename, bytes) of each part of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/"):
        raise KuboError(400, "request is not multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise KuboError(400, "malformed multipart body")
    files = []
    for part in message.iter_parts():
        if part.get_content_maintype() == "multipart":
            raise KuboError(400, "directory uploads are not supported by the devchain IPFS server")
        payload = part.get_payload(decode=True)
        files.append((part.get_filename() or part.get_param("name", header="content-disposition") or "",
                      payload if isinstance(payload, bytes) else b""))
    return files


def serve(host: str = "127.0.0.1", port: int = 0, bearer_token: str | None = None,
          basic_auth: str | None = None, ready: Any = None) -> None:
    """Run until interrupted; ``ready(server)`` is called once it listens."""
    IpfsServer(host, port, bearer_token, basic_auth).run(ready)
