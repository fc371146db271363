"""The holder registry's gate of token operations (issue 19 item 4), registered with
`deployments.issuance_gates` by `ComplianceConfig.ready`: a `mint`, `transfer`, `batch_transfer`,
`forced_transfer` or `recovery` whose recipient (every row's, in a batch; the receiver of a forced
transfer; a recovery's new wallet) the token's off-chain holder registry refuses answers 422
TRANSFER_NOT_ALLOWED before anything is queued or signed, naming every failed rule
(`details.rules`), the refused recipients (`details.recipients`, the first 50, and `details.count`)
and each recipient's failures (`details.failures`, of those 50).

The rules are the transfer pre-check's (`transfer_check.registry_failures`): `not_listed`,
`suspended`, `revoked`, `kyc_required`, `kyc_expired`, `blocked`, `country_not_allowed`,
`retail_not_allowed`, `holder_limit_reached`. The token's issuer sends (and is exempt as a
recipient). The gate reads no chain: `operation_create` reads it once after the gates.

Only a token whose registry is in use is gated: one with at least one allow-list entry or with
jurisdiction rules (`transfer_check.registry_in_use`). Before that the token's operations meet only
the chain's own rules, so a token nobody put on the registry is not refused for every recipient as
`not_listed`; the first entry (or rules) turns the gate on.

A denial is durable although the request's transaction rolls back: the gate queues it with
`refusals.after_rollback_defer`, and after the view returned it is published as `TransferDenied` in a
transaction of its own (the audit log's subscriber writes a `transfer.denied` entry, the webhook
outbox a `transfer.denied` event for the subscriptions that want it)."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from biatec.core import events
from biatec.core.correlation import get_correlation_id
from deployments.operation_services import TransferNotAllowed
from tokens.standards import operations as ops

from .refusals import after_rollback_defer
from .transfer_check import registry_failures, registry_in_use

GATED_KINDS = (ops.MINT, ops.TRANSFER, ops.BATCH_TRANSFER, ops.FORCED_TRANSFER, ops.RECOVERY)
NAMED = 50  # recipients named in the answer, the event and the audit entry


def _recipients(kind: str, request: dict[str, Any]) -> list[tuple[int | None, str]]:
    """(row in a batch, address) of every recipient the operation pays."""
    if kind == ops.BATCH_TRANSFER:
        return [(index, row["to"]) for index, row in enumerate(request.get("transfers") or [])]
    receiver = request.get("to") or request.get("new_address")  # a recovery's new wallet receives everything
    return [(None, receiver)] if receiver else []


def _denial_details(recipients: list[tuple[int | None, str]], failures: list[dict[str, Any]]) -> dict[str, Any]:
    by_address: dict[str, list[dict[str, Any]]] = {}
    for failure in failures:
        by_address.setdefault(failure["address"].lower(), []).append(failure)
    refused = [(row, address) for row, address in recipients if address.lower() in by_address]
    named = refused[:NAMED]
    listed = [{"address": address, **({"row": row} if row is not None else {}), "rule": f["rule"],
               "message": f["message"]}
              for row, address in named for f in by_address[address.lower()]]
    return {"rules": list(dict.fromkeys(f["rule"] for f in failures)),
            "recipients": [address for _, address in named], "count": len(refused), "failures": listed}


def _denial_publish(*, token: Any, kind: str, details: dict[str, Any]) -> None:
    """After the rollback: `TransferDenied` (its audit entry and webhook event) in one transaction."""
    correlation_id = get_correlation_id() or ""
    data = {"token_id": str(token.pk), "kind": kind, **details}

    def write(actor: str) -> None:
        with transaction.atomic():
            events.publish(events.TransferDenied(
                correlation_id=correlation_id, token_id=str(token.pk), organization_id=str(token.organization_id),
                kind=kind, actor=actor, standard=token.standard, network=token.network,
                rules=tuple(details["rules"]), data=data))

    after_rollback_defer(write)


def holder_operation_gate(*, organization: Any, token: Any, kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """Raises TRANSFER_NOT_ALLOWED (422) when the registry refuses a recipient; otherwise the fact
    `holder_registry` for the operation's first history row (nothing when the registry is not in use)."""
    if kind not in GATED_KINDS:
        return {}
    recipients = _recipients(kind, request)
    if not recipients or not registry_in_use(token=token):
        return {}
    failures = registry_failures(token=token, parties=[("to", address) for _, address in recipients])
    if not failures:
        return {"holder_registry": {"decision": "allowed", "recipients": len(recipients)}}
    details = _denial_details(recipients, failures)
    _denial_publish(token=token, kind=kind, details=details)
    count = details["count"]
    raise TransferNotAllowed(
        f"The token's holder registry refuses {count} recipient{'s' if count != 1 else ''} of this {kind}: "
        + ", ".join(details["rules"]) + ".", details=details)


def chain_refusal_publish(*, token: Any, kind: str, details: dict[str, Any]) -> None:
    """A TRANSFER_NOT_ALLOWED from the chain's own registry (the contract's eligibility list or
    whitelist, read at POST) is a denial too: the same `TransferDenied` after the rollback, marked
    `checked_by: chain`. Registered with `deployments.issuance_gates` by ComplianceConfig.ready."""
    recipients = list(details.get("recipients") or [])
    _denial_publish(token=token, kind=kind, details={**details, "rules": list(details.get("rules") or []),
                                                     "recipients": recipients, "count": len(recipients),
                                                     "checked_by": "chain"})
