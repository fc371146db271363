"""Client helpers for the devnet's extra (non-algod) endpoints."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class DevnetError(RuntimeError):
    """The devnet refused a request; ``status`` and ``message`` are its answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _post(url: str, path: str, payload: dict[str, Any], token: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Algo-API-Token"] = token
    req = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(payload).encode(),
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("message", "")
        except ValueError:
            message = str(exc)
        raise DevnetError(exc.code, message) from None


def fund(
    url: str, address: str, amount: int, token: str | None = "devnet-token"  # noqa: S107 - public devnet default
) -> dict[str, Any]:
    """Send ``amount`` microAlgos from the devnet's dispenser; returns ``txId`` and ``confirmed-round``.

    The payment goes through the ledger like any other transaction.
    """
    return _post(url, "/devnet/fund", {"address": address, "amount": amount}, token)


def advance(url: str, rounds: int = 1, token: str | None = "devnet-token") -> int:  # noqa: S107 - public devnet default
    """Close ``rounds`` empty rounds (to expire validity windows in tests)."""
    return int(_post(url, "/devnet/advance", {"rounds": rounds}, token)["last-round"])
