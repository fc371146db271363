"""Everything that can be known about a token request at POST, before a deployment row exists.

`deployment_request_validate` is pure (no network, no database): the standard exists, the network
exists, belongs to the standard's family and has a node configured, the body passes the standard's
strict serializer (unknown fields, types, bounds, cap >= initial supply, NFT shapes, a regulated
asset's roles), and the ARC-3 metadata document agrees with the asset (name, decimals, unit name,
`#arc3` URL, metadata hash). `regulated_issuer_check` adds the one rule that needs the issuer.
The compliance pre-flight uses it too, so both answer the same.

`deployment_preflight` asks the chain, cheaply and with a short timeout
(`DEPLOYMENT_PREFLIGHT_TIMEOUT_SECONDS`): does the network's node answer (else 503
`NETWORK_UNAVAILABLE`), and, when the deployer's address is known, does its balance cover the
estimated cost (else 402 `INSUFFICIENT_FUNDS` with `needed` and `available`) — unless the local
faucet of a local network will fund it. A request refused here creates no deployment and no
idempotency record (the caller's transaction rolls back).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from biatec.core.errors import ApplicationError, InsufficientFunds, ValidationFailed
from biatec.core.serializers import unknown_fields, unknown_fields_error
from tokens.chains.algorand_build import REGULATED_FREEZE_IS_ISSUER, deployment_cost
from tokens.chains.arc3 import arc3_request_check
from tokens.networks import ALGORAND, EVM, InvalidNetwork, Network, get_available_network

from . import STANDARDS, Standard

EVM_DEPLOY_GAS_ESTIMATE = 2_500_000
"""A deliberate over-estimate of a token contract's creation gas: the exact figure needs an
`eth_estimateGas` with the signed sender, which the worker does; the check here only refuses
requests that cannot possibly be paid for."""


class UnsupportedStandard(ApplicationError):
    code = "UNSUPPORTED_STANDARD"
    http_status = 404
    default_message = "This token standard is not supported."


class NetworkUnreachable(ApplicationError):
    code = "NETWORK_UNAVAILABLE"
    http_status = 503
    default_message = "The network's node does not answer; try again later."


def standard_require(standard: str) -> Standard:
    spec = STANDARDS.get(standard)
    if spec is None:
        raise UnsupportedStandard(f"Unknown token standard '{standard}'.",
                                  details={"standard": standard, "supported": sorted(STANDARDS)})
    return spec


def deployment_request_validate(*, standard: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The validated request of `standard`; family/network errors use their own codes."""
    spec = standard_require(standard)
    if not isinstance(payload, dict):
        raise ValidationFailed("The body must be a JSON object.")
    network_slug = payload.get("network")
    if not isinstance(network_slug, str) or not network_slug:
        raise ValidationFailed(details={"fields": {"network": ["This field is required."]}})
    network = get_available_network(network_slug)
    if network.family != spec.family:
        raise InvalidNetwork(
            f"'{standard}' is a {spec.family} standard; '{network.slug}' is a {network.family} network.",
            details={"network": network.slug, "standard": standard,
                     "accepted_networks": [n.slug for n in spec.networks()]},
        )
    serializer = spec.serializer(data=payload)
    unknown = unknown_fields(payload, serializer.writable_field_names())  # all of them, before the values
    if unknown:
        raise ValidationFailed(details={"fields": unknown_fields_error(unknown)})
    if not serializer.is_valid():
        raise ValidationFailed(details={"fields": serializer.errors})
    request = dict(serializer.validated_data)
    if spec.arc3_metadata:
        arc3_request_check(standard=standard, params=request)
    return request


def regulated_issuer_check(*, spec: Standard, request: dict[str, Any], issuer: str | None) -> None:
    """A regulated asset's freeze address is its issuer: a `freeze` naming anybody else is a
    VALIDATION_ERROR at POST (the request serializer, which does not know the issuer, refuses an
    empty one). `issuer` None: not known yet, left to the build (`asset_params_check`)."""
    freeze = request.get("freeze")
    if spec.is_asset and request.get("regulated") and issuer and freeze and freeze != issuer:
        raise ValidationFailed(details={"fields": {"freeze": [REGULATED_FREEZE_IS_ISSUER]}})


# ------------------------------------------------------------------------------------ pre-flight
@dataclass(frozen=True)
class Preflight:
    network: str
    node_answers: bool
    address: str | None
    needed: int | None
    available: int | None
    unit: str


def _timeout() -> float:
    return float(settings.DEPLOYMENT_PREFLIGHT_TIMEOUT_SECONDS)


def _unreachable(network: Network, reason: str) -> NetworkUnreachable:
    return NetworkUnreachable(f"The {network.name} node does not answer; nothing was queued.",
                              details={"network": network.slug, "reason": reason})


@functools.cache
def _http() -> httpx.Client:
    """One client for every pre-flight call (thread-safe, connections kept alive). `httpx.post` builds
    a client per call, and with it a TLS context (the CA bundle read and parsed): a quarter of the
    CPU of a create request, spent before its node was even asked."""
    return httpx.Client()


def _evm_call(network: Network, method: str, params: list[Any]) -> Any:
    response = _http().post(str(network.node_url), json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                         "params": params}, timeout=_timeout())
    response.raise_for_status()
    body = response.json()
    if "result" not in body:
        raise ValueError(f"{method}: {body.get('error')}")
    return body["result"]


def _algod_get(network: Network, path: str) -> dict[str, Any]:
    response = _http().get(f"{str(network.node_url).rstrip('/')}{path}",
                           headers={"X-Algo-API-Token": network.node_token}, timeout=_timeout())
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def _evm_estimate(network: Network) -> int:
    """Wei a creation could cost at most: the estimate's gas at the platform's fee cap or twice the
    current gas price, whichever is lower."""
    gas_price = int(_evm_call(network, "eth_gasPrice", []), 16)
    price = min(2 * gas_price, int(network.max_fee_per_gas_gwei) * 10**9)
    return EVM_DEPLOY_GAS_ESTIMATE * max(price, 1)


def deployment_preflight(*, spec: Standard, network: Network, address: str | None) -> Preflight:
    """Ask the node (short timeout) whether it answers and whether `address` can pay; see the module
    docstring. `address` None (an EVM key not derived yet) skips the balance check."""
    faucet_funds = network.is_local
    try:
        if network.family == EVM:
            _evm_call(network, "eth_blockNumber", [])
            if address is None or faucet_funds:
                return Preflight(network.slug, True, address, None, None, "wei")
            needed = _evm_estimate(network)
            available = int(_evm_call(network, "eth_getBalance", [address, "latest"]), 16)
            unit = "wei"
        elif network.family == ALGORAND:
            _algod_get(network, "/v2/status")
            if address is None or faucet_funds:
                return Preflight(network.slug, True, address, None, None, "microalgo")
            account = _algod_get(network, f"/v2/accounts/{address}?exclude=all")
            available = int(account.get("amount", 0))
            needed = max(int(account.get("min-balance", 0)), 100_000) + deployment_cost(standard=spec.slug)
            unit = "microalgo"
        else:  # pragma: no cover - the registry has two families
            raise _unreachable(network, "unknown_family")
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise _unreachable(network, type(exc).__name__) from None
    if available < needed:
        raise InsufficientFunds(
            f"The deployer account {address} holds {available} {unit} on {network.name}; the deployment "
            f"needs about {needed}. Fund the account and try again.",
            details={"network": network.slug, "address": address, "needed": str(needed),
                     "available": str(available), "unit": unit},
        )
    return Preflight(network.slug, True, address, needed, available, unit)
