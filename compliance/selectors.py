"""Reads of the compliance app, always scoped to an organization the user belongs to (others: 404)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, QuerySet

from accounts.models import Membership, Organization, User
from accounts.selectors import membership_in, membership_primary
from biatec.audit.chain import audit_entry_rows
from biatec.audit.models import AuditEntry
from biatec.core.api import filter_given
from biatec.core.errors import NotFound, ValidationFailed
from deployments.models import Deployment, DeploymentEvent, DeploymentTransaction
from deployments.presenters import deployment_detail, event_row

from .mica import mica_evaluate, token_facts
from .models import Attestation, ComplianceDecision
from .profiles import profile_normalize, profile_sha256


def compliance_membership(*, user: User, organization_id: Any = None) -> Membership:
    """The user's membership of `organization_id` (default: their first organization); not a member:
    404. The view checks the role on it (`RoleRequired`, accounts/roles.py)."""
    if organization_id:
        try:
            membership = membership_in(user=user, organization_id=organization_id)
        except (ValueError, TypeError, DjangoValidationError):
            membership = None
    else:
        membership = membership_primary(user=user)
    if membership is None:
        raise NotFound("No such organization.")
    return membership


def audit_entry_list(*, organization: Organization, filters: dict[str, Any] | None = None) -> QuerySet[AuditEntry]:
    filters = filters or {}
    qs = AuditEntry.objects.filter(organization=organization)
    if filters.get("action"):
        action = filters["action"]
        qs = qs.filter(action__startswith=action[:-1]) if action.endswith("*") else qs.filter(action=action)
    qs = filter_given(qs, filters, {"object_type": "object_type", "object_id": "object_id", "actor": "actor",
                                    "correlation_id": "correlation_id", "since": "occurred_at__gte",
                                    "until": "occurred_at__lt"})
    return qs.order_by("-id")


def deployment_compliance(deployment: Deployment) -> dict[str, Any]:
    """The compliance facts recorded when the deployment was requested (profile hash, MiCA result,
    policy); for deployments created before the gate, re-evaluated as of their creation date."""
    first = (DeploymentEvent.objects.filter(deployment=deployment, from_status="").order_by("id")
             .values_list("facts", flat=True).first()) or {}
    recorded = first.get("compliance") if isinstance(first, dict) else None
    if recorded:
        return recorded
    profile = None
    if deployment.compliance_metadata is not None:
        try:
            profile = profile_normalize(deployment.compliance_metadata)
        except ValidationFailed:  # a legacy profile that no longer validates is reported as such
            return {"decision": "unknown", "mica_overall": "not_evaluated", "mica": None, "profile_sha256": None,
                    "policy": None, "note": "The stored profile does not validate."}
    mica = (mica_evaluate(profile=profile, token=token_facts(standard=deployment.standard, request=deployment.request),
                          as_of=deployment.created_at.date()) if profile is not None else None)
    return {"decision": "unknown", "mica_overall": mica["overall"] if mica else "not_evaluated", "mica": mica,
            "profile_sha256": profile_sha256(profile) if profile else None, "policy": None,
            "note": "Re-evaluated: no compliance facts were recorded at request time."}


def attestation_row(attestation: Attestation) -> dict[str, Any]:
    import json

    return {"id": str(attestation.pk), "deployment_id": str(attestation.deployment_id),
            "statement": json.loads(attestation.statement), "statement_canonical": attestation.statement,
            "signature": attestation.signature, "algorithm": "Ed25519", "key_id": attestation.key_id,
            "issued_by": attestation.issued_by, "created_at": attestation.created_at.isoformat()}


def transaction_rows(deployment: Deployment) -> list[dict[str, Any]]:
    return [
        {"step": tx.step, "family": tx.family, "network": tx.network, "tx_id": tx.tx_id,
         "group_tx_ids": tx.group_tx_ids, "sender": tx.sender, "nonce": tx.nonce, "first_valid": tx.first_valid,
         "last_valid": tx.last_valid, "status": tx.status, "confirmed_in": tx.confirmed_in,
         "created_at": tx.created_at.isoformat()}
        for tx in DeploymentTransaction.objects.filter(deployment=deployment).order_by("created_at", "id")
    ]


def evidence_documents(*, deployment: Deployment) -> dict[str, Any]:
    """The files of a deployment's evidence bundle. Export entries are left out of the audit extract
    so that building the bundle (which is itself audited) does not change the next bundle."""
    compliance = deployment_compliance(deployment)
    audit = AuditEntry.objects.filter(object_type="deployment", object_id=str(deployment.pk)).exclude(
        action__startswith="export.").order_by("id")
    return {
        "deployment.json": deployment_detail(deployment),
        "history.json": [event_row(e) for e in DeploymentEvent.objects.filter(deployment=deployment).order_by("id")],
        "onchain_results.json": {"results": deployment.results or {}, "transactions": transaction_rows(deployment)},
        "compliance_profile.json": {"compliance_metadata": deployment.compliance_metadata,
                                    "profile_sha256": compliance.get("profile_sha256")},
        "mica_evaluation.json": {"mica": compliance.get("mica"), "mica_overall": compliance.get("mica_overall"),
                                 "decision": compliance.get("decision"), "policy": compliance.get("policy")},
        "attestations.json": [attestation_row(a) for a in
                              Attestation.objects.filter(deployment=deployment).order_by("created_at", "id")],
        "audit_entries.json": audit_entry_rows(audit),
    }


def compliance_report(*, organization: Organization, start: datetime, end: datetime) -> dict[str, Any]:
    """Deployments created in [start, end) by status, network and standard, their MiCA results, and
    the requests refused by the policy in that period."""
    deployments = Deployment.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)

    def grouped(field: str) -> dict[str, int]:
        rows = deployments.values(field).annotate(n=Count("id")).order_by(field)
        return {row[field]: row["n"] for row in rows}

    mica_overall: Counter[str] = Counter()
    mica_failing: Counter[str] = Counter()
    regimes: Counter[str] = Counter()
    facts = (DeploymentEvent.objects.filter(deployment__in=deployments, from_status="")
             .values_list("facts__compliance__mica_overall", "facts__compliance__mica__failing_rules",
                          "facts__compliance__mica__regime"))
    seen = 0
    for overall, failing, regime in facts.iterator(chunk_size=2000):
        seen += 1
        mica_overall[overall or "not_evaluated"] += 1
        for rule in failing or []:
            mica_failing[rule] += 1
        if regime:
            regimes[regime] += 1
    total = deployments.count()
    if total > seen:
        mica_overall["not_evaluated"] += total - seen
    refusals = ComplianceDecision.objects.filter(organization=organization, source=ComplianceDecision.Source.CREATE,
                                                 allowed=False, created_at__gte=start, created_at__lt=end)
    refused_rules: Counter[str] = Counter()
    refused_total = 0
    for rules in refusals.values_list("failing_rules", flat=True).iterator(chunk_size=2000):
        refused_total += 1
        for rule in rules or []:
            refused_rules[rule] += 1
    return {
        "organization": {"id": str(organization.pk), "name": organization.name},
        "from": start.isoformat(),
        "to": end.isoformat(),
        "deployments": {"total": total, "by_status": grouped("status"), "by_network": grouped("network"),
                        "by_standard": grouped("standard")},
        "mica": {"by_overall": dict(sorted(mica_overall.items())), "by_regime": dict(sorted(regimes.items())),
                 "failing_rules": dict(sorted(mica_failing.items()))},
        "violations_refused": {"total": refused_total, "by_rule": dict(sorted(refused_rules.items()))},
    }


def report_csv_rows(report: dict[str, Any]) -> list[tuple[str, str, Any]]:
    rows: list[tuple[str, str, Any]] = [("organization", "id", report["organization"]["id"]),
                                        ("period", "from", report["from"]), ("period", "to", report["to"]),
                                        ("deployments", "total", report["deployments"]["total"])]
    for section, values in (("deployments_by_status", report["deployments"]["by_status"]),
                            ("deployments_by_network", report["deployments"]["by_network"]),
                            ("deployments_by_standard", report["deployments"]["by_standard"]),
                            ("mica_by_overall", report["mica"]["by_overall"]),
                            ("mica_by_regime", report["mica"]["by_regime"]),
                            ("mica_failing_rules", report["mica"]["failing_rules"]),
                            ("violations_refused_by_rule", report["violations_refused"]["by_rule"])):
        rows += [(section, key, value) for key, value in values.items()]
    rows.append(("violations_refused", "total", report["violations_refused"]["total"]))
    return rows
