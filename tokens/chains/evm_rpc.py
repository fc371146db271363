"""JSON-RPC access to EVM nodes and the classification of node failures into application errors.

Every call to a node goes through `web3_for` and is wrapped by `classify_errors`, so callers only ever
see `ChainUnavailable` (retryable: connection refused, timeout, HTTP 429/5xx), `InsufficientFunds`,
`TransactionFailed` (revert or rejection), `NetworkUnavailable` (no node configured) or a plain
return value. Messages name the network, never
its URL: node URLs of hosted providers carry API keys.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from django.conf import settings
from eth_abi import decode as abi_decode
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    ProviderConnectionError,
    TimeExhausted,
    TooManyRequests,
    Web3RPCError,
)

from biatec.core.errors import (
    ApplicationError,
    ChainError,
    ChainUnavailable,
    InsufficientFunds,
    TransactionFailed,
)
from tokens.networks import EVM, Network, NetworkUnavailable

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
_MAX_NODE_MESSAGE = 200

_clients: dict[tuple[str, float], Web3] = {}
_clients_lock = threading.Lock()

# Custom errors of the project's contracts (OpenZeppelin 5), selector -> (signature, input types);
# filled by `register_custom_errors` from the artifacts so that reverts read as names, not hex.
_custom_errors: dict[str, tuple[str, list[str]]] = {}
_PANIC_SELECTOR = "0x4e487b71"
_ERROR_STRING_SELECTOR = "0x08c379a0"


class EnvironmentOnceSession(requests.Session):
    """A requests session that reads the proxy and CA-bundle environment once per URL and keeps it:
    plain requests scans `os.environ` on every call (`get_environ_proxies`), about 8% of a worker's
    CPU per EVM deployment. The environment of a running process does not change; explicit
    per-request `proxies`/`verify`/`cert` still take part in the key and win as before."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        key = (url, tuple(sorted((proxies or {}).items())), stream, verify,
               tuple(cert) if isinstance(cert, list | tuple) else cert)
        merged = self._environment.get(key)
        if merged is None:
            if len(self._environment) > 64:  # a bounded memo: a session serves one node URL
                self._environment.clear()
            merged = self._environment[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        return dict(merged)


def _timeout() -> float:
    return float(getattr(settings, "EVM_RPC_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def web3_for(network: Network) -> Web3:
    """A `Web3` client for the network's node, one per URL (requests sessions are reused)."""
    if network.family != EVM:
        raise ValueError(f"{network.slug} is not an EVM network")
    url = network.node_url
    if not url:
        raise NetworkUnavailable(details={"network": network.slug})
    key = (url, _timeout())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            # No provider-level retries: the deployment worker retries with backoff and jitter, and a
            # dead node must surface as CHAIN_UNAVAILABLE quickly rather than after hidden sleeps.
            provider = Web3.HTTPProvider(url, request_kwargs={"timeout": key[1]}, exception_retry_configuration=None,
                                         session=EnvironmentOnceSession())
            client = _clients[key] = Web3(provider)
        return client


def register_custom_errors(abi: Sequence[dict[str, Any]]) -> None:
    """Learn the `error` entries of an ABI so that their reverts decode to readable reasons."""
    for item in abi:
        if item.get("type") != "error":
            continue
        types = [i["type"] for i in item.get("inputs", [])]
        signature = f"{item['name']}({','.join(types)})"
        selector = Web3.keccak(text=signature)[:4].to_0x_hex()
        names = [i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", []))]
        _custom_errors[selector] = (item["name"] + "(" + ", ".join(names) + ")", types)


def revert_reason(data: Any) -> str | None:
    """Human reason of revert data: `Error(string)`, `Panic(uint256)` or a known custom error."""
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data")
    if not isinstance(data, str) or not data.startswith("0x") or len(data) < 10:
        return None
    selector, payload = data[:10].lower(), bytes.fromhex(data[10:])
    try:
        if selector == _ERROR_STRING_SELECTOR:
            return str(abi_decode(["string"], payload)[0])
        if selector == _PANIC_SELECTOR:
            return f"Panic(0x{abi_decode(['uint256'], payload)[0]:02x})"
        known = _custom_errors.get(selector)
        if known:
            signature, types = known
            values = abi_decode(types, payload)
            name, _, arg_names = signature.partition("(")
            pairs = [f"{n}={v}" for n, v in zip(arg_names.rstrip(")").split(", "), values, strict=False)]
            return f"{name}({', '.join(pairs)})"
    except Exception:  # noqa: S110 - undecodable revert data is reported by its selector
        pass
    return f"custom error {selector}"


def _node_message(text: str) -> str:
    """A node's error message, shortened and stripped of anything that looks like a URL."""
    text = re.sub(r"https?://\S+", "<url>", str(text))
    return text[:_MAX_NODE_MESSAGE]


_HAVE_WANT = re.compile(r"have (\d+) want (\d+)")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _rpc_error_message(exc: Web3RPCError) -> tuple[int | None, str, Any]:
    error = (exc.rpc_response or {}).get("error") if isinstance(exc.rpc_response, dict) else None
    if isinstance(error, dict):
        return error.get("code"), str(error.get("message") or ""), error.get("data")
    return None, str(exc.message), None


def is_insufficient_funds_message(message: str) -> bool:
    return "insufficient funds" in message.lower()


def insufficient_funds_error(
    network: Network, *, address: str | None, needed_wei: int | None, balance_wei: int | None
) -> InsufficientFunds:
    details: dict[str, Any] = {
        "network": network.slug,
        "address": address,
        "needed_wei": str(needed_wei) if needed_wei is not None else None,
        "balance_wei": str(balance_wei) if balance_wei is not None else None,
    }
    if needed_wei is not None and balance_wei is not None:
        details["shortfall_wei"] = str(max(needed_wei - balance_wei, 0))
    who = f"The account {address}" if address else "The sending account"
    return InsufficientFunds(
        f"{who} does not hold enough native currency on {network.name} to pay for this transaction.",
        details=details,
    )


def classify(exc: BaseException, *, network: Network, action: str) -> ChainError:
    """Map an exception raised while talking to a node to the application's error hierarchy."""
    where = {"network": network.slug, "action": action}
    if isinstance(exc, ChainError):
        return exc
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        retryable = status is None or status == 429 or status >= 500
        reason = "rate_limited" if status == 429 else "http_error"
        message = (
            f"The {network.name} node is rate limiting requests (HTTP 429); try again later."
            if status == 429
            else f"The {network.name} node answered HTTP {status}."
        )
        return ChainUnavailable(
            message, retryable=retryable, details={**where, "reason": reason, "http_status": status}
        )
    if isinstance(exc, TooManyRequests):
        return ChainUnavailable(
            f"The {network.name} node is rate limiting requests; try again later.",
            details={**where, "reason": "rate_limited"},
        )
    if isinstance(exc, requests.Timeout | TimeoutError | TimeExhausted):
        return ChainUnavailable(
            f"The {network.name} node did not answer in time.", details={**where, "reason": "timeout"}
        )
    if isinstance(exc, requests.ConnectionError | ConnectionError | ProviderConnectionError | OSError):
        return ChainUnavailable(
            f"The {network.name} node cannot be reached.", details={**where, "reason": "connection"}
        )
    if isinstance(exc, ContractLogicError):
        reason = revert_reason(exc.data) or _node_message(exc.message or "execution reverted")
        return TransactionFailed(
            f"The transaction would revert on {network.name}: {reason}.",
            details={**where, "reason": "reverted", "revert_reason": reason},
        )
    if isinstance(exc, Web3RPCError):
        code, message, data = _rpc_error_message(exc)
        lowered = message.lower()
        if is_insufficient_funds_message(lowered):
            have_want = _HAVE_WANT.search(message)
            address = _ADDRESS.search(message)
            return insufficient_funds_error(
                network,
                address=address.group(0) if address else None,
                balance_wei=int(have_want.group(1)) if have_want else None,
                needed_wei=int(have_want.group(2)) if have_want else None,
            )
        if code in (-32005, 429) or "rate limit" in lowered or "too many requests" in lowered:
            return ChainUnavailable(
                f"The {network.name} node is rate limiting requests; try again later.",
                details={**where, "reason": "rate_limited"},
            )
        if "revert" in lowered:
            reason = revert_reason(data) or _node_message(message)
            return TransactionFailed(
                f"The transaction would revert on {network.name}: {reason}.",
                details={**where, "reason": "reverted", "revert_reason": reason},
            )
        return TransactionFailed(
            f"The {network.name} node rejected the request: {_node_message(message)}.",
            details={**where, "reason": "rejected", "node_code": code, "node_message": _node_message(message)},
        )
    return ChainUnavailable(
        f"Unexpected failure talking to the {network.name} node ({type(exc).__name__}).",
        retryable=True,
        details={**where, "reason": "unexpected"},
    )


@contextmanager
def classify_errors(network: Network, action: str) -> Iterator[None]:
    """Re-raise whatever a node call raises as an `ApplicationError` (see `classify`)."""
    try:
        yield
    except ApplicationError:
        raise
    except Exception as exc:  # everything a node call can raise is classified here
        error = classify(exc, network=network, action=action)
        # Type name only: requests' messages embed the URL, which may carry an API key.
        logger.warning(
            "evm node call failed",
            extra={"network": network.slug, "action": action, "error_code": error.code,
                   "exception": type(exc).__name__},
        )
        raise error from None


def error_from_response(network: Network, action: str, response: Any) -> ChainError:
    """The application error for a JSON-RPC response that carries an `error` object."""
    error = response.get("error") if isinstance(response, dict) else None
    return classify(Web3RPCError(str(error), rpc_response=response), network=network, action=action)


def rpc(network: Network, method: str, params: Sequence[Any], *, action: str | None = None) -> Any:
    """One raw JSON-RPC call (no web3 result formatting); a JSON-RPC error object is classified."""
    with classify_errors(network, action or method):
        response = web3_for(network).provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise error_from_response(network, action or method, response)
    return response.get("result")


def rpc_batch(network: Network, calls: Sequence[tuple[str, Sequence[Any]]], *, action: str) -> list[Any]:
    """Several raw JSON-RPC calls in one HTTP request; results in the order of `calls`."""
    if not calls:
        return []
    responses = rpc_batch_responses(network, calls, action=action)
    results = []
    for response in responses:
        if "error" in response:
            raise error_from_response(network, action, response)
        results.append(response.get("result"))
    return results


def rpc_batch_responses(
    network: Network, calls: Sequence[tuple[str, Sequence[Any]]], *, action: str
) -> list[dict[str, Any]]:
    """The raw responses of a batch, in the order of `calls` (per-call errors left to the caller);
    sent in HTTP requests of at most EVM_RPC_BATCH_LIMIT calls (providers cap a batch's size)."""
    limit = max(int(getattr(settings, "EVM_RPC_BATCH_LIMIT", 500)), 1)
    out: list[dict[str, Any]] = []
    for start in range(0, len(calls), limit):
        chunk = [(m, list(p)) for m, p in calls[start:start + limit]]
        with classify_errors(network, action):
            responses = web3_for(network).provider.make_batch_request(chunk)  # type: ignore[attr-defined]
        if isinstance(responses, dict):  # the node refused the whole batch with one error
            raise error_from_response(network, action, responses)
        out += list(responses)
    return out
