"""Reading tokens back from an algod node, and funding accounts for a deployment.

ARC-200 / ARC-1400 state is read straight from the ledger (the node has no /simulate on the devnet,
and a read needs no signature): global state and boxes, with the layout of
`tokens/contracts/avm/arc200_token.py`:

* global state: `owner` (32-byte address), `token_name` (32 bytes, zero-padded UTF-8),
  `token_symbol` (8 bytes, zero-padded), `total_supply` and `token_cap` (32-byte big-endian
  uint256), uint64s `decimals`, `bootstrapped`, `mintable`; ARC-1400 adds uint64 `halted`;
* boxes: balance of an address at b"b" + 32-byte public key (32-byte uint256; absent = 0);
  ARC-1400 whitelist entry at b"w" + public key (present = whitelisted).
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from algosdk import encoding
from algosdk.error import AlgodHTTPError
from algosdk.logic import get_application_address
from django.conf import settings

from biatec.core.errors import ChainUnavailable, InsufficientFunds, NotFound
from tokens.networks import Network

from .algorand_build import balance_box, whitelist_box
from .algorand_node import _timeout, algod_client, node_errors, resolve_network
from .faucet import faucet_fund, local_faucet


def _read_existing(net: Network, action: str, what: str, read: Callable[[], Any]) -> dict[str, Any]:
    """`read()` from the node: a 404 is NOT_FOUND naming `what`, any other failure CHAIN_UNAVAILABLE."""
    try:
        with node_errors(net, action):
            info: dict[str, Any] = read()
    except AlgodHTTPError as exc:
        if exc.code == 404:
            raise NotFound(f"{what} does not exist on {net.name}.", details={"network": net.slug}) from None
        raise ChainUnavailable(details={"network": net.slug, "reason": str(exc)[:600]}) from None
    return info


# ----------------------------------------------------------------------------------- accounts
def account_info(*, network: Network | str, address: str) -> dict[str, Any]:
    """algod's account view without the asset/app lists (amount, min-balance, totals)."""
    net = resolve_network(network)
    with node_errors(net, "read an account"):
        return algod_client(net).account_info(address, exclude="all", timeout=_timeout())


def account_assets(*, network: Network | str, address: str) -> list[dict[str, Any]]:
    """The asset holdings of `address` (algod's `assets`: asset-id, amount, is-frozen)."""
    net = resolve_network(network)
    with node_errors(net, "read an account's asset holdings"):
        info = algod_client(net).account_info(address, timeout=_timeout())
    return list(info.get("assets", []))


def account_created(*, network: Network | str, address: str) -> dict[str, list[dict[str, Any]]]:
    """The assets and apps `address` created (algod's `created-assets` / `created-apps`)."""
    net = resolve_network(network)
    with node_errors(net, "read an account's created assets and apps"):
        info = algod_client(net).account_info(address, timeout=_timeout())
    return {"created-assets": info.get("created-assets", []), "created-apps": info.get("created-apps", [])}


def get_balance(*, network: Network | str, address: str) -> int:
    return int(account_info(network=network, address=address)["amount"])


def ensure_funded(*, network: Network | str, address: str, needed_microalgos: int) -> int:
    """Make sure `address` holds its current minimum balance plus `needed_microalgos` (fees, the
    minimum-balance increase and payments of the next step(s): see `step_cost`/`deployment_cost`).

    On a local network the local faucet (`LOCAL_FAUCET`, the devnet's dispenser) tops up the shortfall
    plus `LOCAL_FUNDING_BUFFER_STEPS` times `needed_microalgos` (one payment for a burst of deployments);
    elsewhere (or with no faucet configured) a shortfall raises
    `InsufficientFunds` with details `address`, `needed_microalgos` (the balance required),
    `balance_microalgos`, `shortfall_microalgos`, `min_balance_microalgos`. Returns the balance.
    """
    net = resolve_network(network)
    info = account_info(network=net, address=address)
    balance, min_balance = int(info["amount"]), int(info.get("min-balance", 0))
    required = max(min_balance, 100_000 if needed_microalgos else 0) + needed_microalgos
    shortfall = required - balance
    if shortfall <= 0:
        return balance
    faucet = local_faucet(net)
    if faucet is None:
        raise InsufficientFunds(
            f"Account {address} needs {required} microAlgos on {net.name} and holds {balance}.",
            details={"address": address, "network": net.slug, "needed_microalgos": required,
                     "balance_microalgos": balance, "shortfall_microalgos": shortfall,
                     "min_balance_microalgos": min_balance})
    # One dispenser payment per burst: what this step needs plus as much again for the next
    # LOCAL_FUNDING_BUFFER_STEPS steps, instead of a top-up (and its round) before every deployment.
    amount = shortfall + needed_microalgos * max(0, int(settings.LOCAL_FUNDING_BUFFER_STEPS))
    try:
        faucet_fund(faucet, network=net, address=address, amount=amount)
    except ValueError as exc:
        raise ChainUnavailable(f"The local dispenser could not fund {address}: {exc}",
                               details={"network": net.slug, "address": address}) from None
    except OSError as exc:
        raise ChainUnavailable(f"The local dispenser is unreachable: {exc}", details={"network": net.slug}) from None
    return get_balance(network=net, address=address)


# ------------------------------------------------------------------------------------- assets
def read_asset(*, network: Network | str, asset_id: int) -> dict[str, Any]:
    """The asset's parameters as the chain holds them. Unset roles are "", a missing metadata hash None."""
    net = resolve_network(network)
    info = _read_existing(net, "read an asset", f"Asset {asset_id}",
                          lambda: algod_client(net).asset_info(asset_id, timeout=_timeout()))
    p = info["params"]

    def text(key: str) -> str:
        if key in p:
            return p[key]
        raw = base64.b64decode(p.get(f"{key}-b64", ""))
        return raw.decode("utf-8", "replace")

    return {
        "asset_id": int(info["index"]), "creator": p.get("creator", ""), "name": text("name"),
        "unit_name": text("unit-name"), "total": int(p.get("total", 0)), "decimals": int(p.get("decimals", 0)),
        "url": text("url"), "metadata_hash": p.get("metadata-hash"),
        "default_frozen": bool(p.get("default-frozen", False)),
        **{role: p.get(role, "") for role in ("manager", "reserve", "freeze", "clawback")},
    }


# --------------------------------------------------------------------------------------- apps
def read_app_global_state(*, network: Network | str, app_id: int) -> dict[str, Any]:
    """Global state by key name: uint64 values as int, byte values as bytes. Also `"__creator__"`."""
    net = resolve_network(network)
    info = _read_existing(net, "read an application", f"Application {app_id}",
                          lambda: algod_client(net).application_info(app_id, timeout=_timeout()))
    state: dict[str, Any] = {"__creator__": info["params"].get("creator", "")}
    for kv in info["params"].get("global-state", []):
        key = base64.b64decode(kv["key"]).decode("utf-8", "replace")
        value = kv["value"]
        state[key] = int(value.get("uint", 0)) if int(value["type"]) == 2 else base64.b64decode(value.get("bytes", ""))
    return state


def read_box(*, network: Network | str, app_id: int, name: bytes) -> bytes | None:
    """A box's value, None if it does not exist."""
    net = resolve_network(network)
    try:
        with node_errors(net, "read a box"):
            box = algod_client(net).application_box_by_name(app_id, name, timeout=_timeout())
    except AlgodHTTPError as exc:
        if exc.code == 404:
            return None
        raise ChainUnavailable(details={"network": net.slug, "reason": str(exc)[:600]}) from None
    return base64.b64decode(box["value"])


def arc200_balance_of(*, network: Network | str, app_id: int, address: str) -> int:
    """Token balance from the holder's balance box (0 when the box does not exist)."""
    raw = read_box(network=network, app_id=app_id, name=balance_box(address))
    return int.from_bytes(raw, "big") if raw else 0


def arc1400_is_whitelisted(*, network: Network | str, app_id: int, address: str) -> bool:
    return read_box(network=network, app_id=app_id, name=whitelist_box(address)) is not None


def _padded_text(raw: Any) -> str:
    return bytes(raw or b"").rstrip(b"\0").decode("utf-8", "replace")


def _uint256(raw: Any) -> int:
    return int.from_bytes(bytes(raw or b""), "big")


def read_arc200(*, network: Network | str, app_id: int, holder: str | None = None) -> dict[str, Any]:
    """Name, symbol, decimals, total supply, cap, mintable, owner (and `halted` for ARC-1400, None
    for ARC-200) from global state; `holder_balance` from the holder's balance box if asked."""
    net = resolve_network(network)
    gs = read_app_global_state(network=net, app_id=app_id)
    owner = gs.get("owner")
    return {
        "app_id": app_id, "app_address": get_application_address(app_id), "creator": gs["__creator__"],
        "name": _padded_text(gs.get("token_name")), "symbol": _padded_text(gs.get("token_symbol")),
        "decimals": int(gs.get("decimals", 0)), "total_supply": _uint256(gs.get("total_supply")),
        "cap": _uint256(gs.get("token_cap")), "mintable": bool(gs.get("mintable", 0)),
        "bootstrapped": bool(gs.get("bootstrapped", 0)),
        "owner": encoding.encode_address(owner) if isinstance(owner, bytes) and len(owner) == 32 else "",
        "halted": bool(gs["halted"]) if "halted" in gs else None,
        "holder": holder,
        "holder_balance": arc200_balance_of(network=net, app_id=app_id, address=holder) if holder else None,
    }
