"""Four-eyes approval of two compliance changes (issue 20 item 5; docs/approvals.md, ADR 0113): a
change of the organization's issuance policy, and an allow-list bulk write (the bulk endpoint or a CSV
import) of more rows than the approval policy's `allowlist_bulk_above`.

Each write below checks the request first, exactly as the ungated write would (400, 402, 422: for the
bulk write the whole write is run and rolled back, so nothing is checked differently), then asks the
organization's approval policy (`deployments.approval_selectors.approval_subject_gate`). Not gated: the
existing service writes it now. Gated: an `ApprovalRequest` (`pending_approval`) holds the request as
sent and nothing changes, nothing is queued. The approval completing the count calls the executor
registered here (`register`, from `ComplianceConfig.ready`), which re-validates the request against
the state then and applies it through the same service (audit entries, history, events, the
`allowlist_sync` operation); its refusal rolls the approval back (deployments/approval_decisions.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from accounts import roles
from accounts.models import Organization, User
from biatec.core.actors import actor_of
from biatec.core.errors import ValidationFailed
from deployments.approval_models import ALLOWLIST_BULK, ISSUANCE_POLICY_CHANGE, ApprovalRequest
from deployments.approval_selectors import approval_policy_of, approval_subject_gate
from deployments.approval_services import approval_request_create
from deployments.approval_subjects import approval_subject_register
from deployments.token_models import Token

from . import holder_csv, holder_services
from .gate import policy_snapshot
from .models import AllowListEntry, IssuancePolicy
from .services import POLICY_FIELDS, issuance_policy_set, issuance_policy_validate

DATETIME_FIELDS = ("kyc_verified_at", "kyc_expires_at")


# ---- Issuance policy changes ------------------------------------------------------------------------------
def _policy_values(policy: IssuancePolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


@transaction.atomic
def issuance_policy_change(*, organization: Organization, user: User, values: dict[str, Any],
                           idempotency_key: str | None = None) -> IssuancePolicy | ApprovalRequest:
    """Change the fields given of the organization's issuance policy (`issuance_policy_set`), or, when
    the approval policy gates issuance policy changes, request it (nothing changes until approved).
    The values are validated first either way (400)."""
    if not values:
        raise ValidationFailed("Give at least one field of the policy.",
                               details={"fields": {"non_field_errors": ["Give at least one field."]}})
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(details={"fields": {name: ["Unknown field."] for name in sorted(unknown)}})
    current = IssuancePolicy.objects.select_for_update().filter(organization=organization).first()
    before = _policy_values(current if current is not None else IssuancePolicy(organization=organization))
    after = issuance_policy_validate({**before, **values})
    policy = approval_policy_of(organization_id=organization.pk)
    gated_by = approval_subject_gate(policy=policy, kind=ISSUANCE_POLICY_CHANGE)
    if gated_by is None:
        return issuance_policy_set(organization=organization, actor=actor_of(user), **values)
    summary = {"changes": {name: {"from": before[name], "to": after[name]} for name in sorted(values)}}
    return approval_request_create(policy=policy, token=None, kind=ISSUANCE_POLICY_CHANGE,
                                   payload={"values": values}, from_csv=False, summary=summary, gated_by=gated_by,
                                   user=user, idempotency_key=idempotency_key)


def issuance_policy_change_execute(*, approval: ApprovalRequest, actor: str) -> dict[str, Any]:
    """Apply an approved change: `issuance_policy_set` validates it again (its 400 rolls back the
    approval) and writes it, audited `policy.changed` and history-tracked."""
    organization = Organization.objects.get(pk=approval.organization_id)
    policy = issuance_policy_set(organization=organization, actor=actor, **approval.payload["values"])
    return {"issuance_policy_id": str(policy.pk), "policy": policy_snapshot(policy)}


# ---- Allow-list bulk writes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CsvFile:
    """A CSV import's file as the import's audit entry records it, and where each row was."""

    size: int
    sha256: str
    positions: list[dict[str, int]]  # {"row", "line"} of each row given, in order


def _json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()} for row in rows]


def _rows_of(payload_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in payload_rows:
        values = dict(row)
        for name in DATETIME_FIELDS:
            if isinstance(values.get(name), str):
                values[name] = parse_datetime(values[name])
        rows.append(values)
    return rows


def _named(refusal: dict[str, Any], positions: list[dict[str, int]]) -> dict[str, Any]:
    """A CSV import's refusal named by the file's row and line (as the import endpoint names them)."""
    index, first = refusal.get("row"), refusal.get("same_as")
    if not isinstance(index, int) or not 0 <= index < len(positions):
        return refusal
    named = {**refusal, **positions[index]}
    if isinstance(first, int) and 0 <= first < len(positions):
        same_as = positions[first]
        named.update(same_as=same_as, message=f"The same address as row {same_as['row']} (line {same_as['line']}).")
    return named


def _write(token: Token, rows: list[dict[str, Any]], actor: str, csv: CsvFile | None) -> list[AllowListEntry]:
    if csv is None:
        return holder_services.allowlist_bulk_upsert(token=token, rows=rows, actor=actor)
    try:
        return holder_csv.allowlist_csv_import_recorded(token=token, rows=rows, size=csv.size, sha256=csv.sha256,
                                                       actor=actor)
    except holder_services.BulkRefused as exc:
        named = [_named(r, csv.positions) for r in exc.details.get("rows", [])]
        raise holder_services.BulkRefused(exc.message, code=exc.code, details={**exc.details, "rows": named}) from None


@transaction.atomic
def allowlist_bulk_write(*, token: Token, rows: list[dict[str, Any]], user: User, csv: CsvFile | None = None,
                         idempotency_key: str | None = None) -> list[AllowListEntry] | ApprovalRequest:
    """Add or update the validated rows all or nothing (`allowlist_bulk_upsert`; from a CSV file, the
    import with its own audit entry), or, when there are more rows than the approval policy's
    `allowlist_bulk_above`, request it: the write is run and rolled back first, so that a request that
    would be refused now (422, 402) is refused now, and nothing is written or queued until approved.
    The request shown to approvers names every row by its address (a member given by e-mail too); the
    rows as sent are kept (an e-mail is resolved again on approval)."""
    actor = actor_of(user)
    policy = approval_policy_of(organization_id=token.organization_id)
    gated_by = approval_subject_gate(policy=policy, kind=ALLOWLIST_BULK, rows=len(rows))
    if gated_by is None:
        return _write(token, rows, actor, csv)
    with transaction.atomic():  # every check of the write, then undone
        checked = _write(token, rows, actor, csv)
        transaction.set_rollback(True)
    payload: dict[str, Any] = {"entries": _json_rows(rows)}
    shown = [{**{k: v for k, v in row.items() if k != "email"}, "address": entry.address}  # members as addresses
             for row, entry in zip(payload["entries"], checked, strict=True)]
    summary: dict[str, Any] = {"rows": len(rows), "source": "csv" if csv else "bulk", "entries": shown}
    if csv is not None:
        payload["csv"] = summary["csv"] = {"bytes": csv.size, "sha256": csv.sha256}
        payload["positions"] = csv.positions
    return approval_request_create(policy=policy, token=token, kind=ALLOWLIST_BULK, payload=payload,
                                   from_csv=csv is not None, summary=summary, gated_by=gated_by, user=user,
                                   idempotency_key=idempotency_key)


def allowlist_bulk_execute(*, approval: ApprovalRequest, actor: str) -> dict[str, Any]:
    """Apply an approved bulk write against the allow list, rules and block list as they are now (a
    refusal, 422 with `details.rows`, rolls back the approval); the writer queues the `allowlist_sync`."""
    token = approval.token
    assert token is not None  # the check constraint: a bulk write names its token
    payload = approval.payload
    csv = None
    if "csv" in payload:
        csv = CsvFile(size=payload["csv"]["bytes"], sha256=payload["csv"]["sha256"],
                      positions=payload.get("positions") or [])
    entries = _write(token, _rows_of(payload["entries"]), actor, csv)
    syncs = sorted({str(e.sync_operation_id) for e in entries if e.sync_operation_id})
    return {"count": len(entries), "entry_ids": [str(e.pk) for e in entries], "sync_operation_ids": syncs}


def register() -> None:
    """From `ComplianceConfig.ready`: the requester must still hold the write's own role action."""
    approval_subject_register(kind=ISSUANCE_POLICY_CHANGE, action=roles.MANAGE_ISSUANCE_POLICY,
                              execute=issuance_policy_change_execute)
    approval_subject_register(kind=ALLOWLIST_BULK, action=roles.MANAGE_ALLOWLIST, execute=allowlist_bulk_execute)
