"""Writes of the compliance app: decisions, policies, attestations, evidence-bundle and report exports,
the compliance staff group. Every write is audited in the same transaction."""
from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from biatec.audit.canonical import canonical_json
from biatec.audit.chain import audit_record
from biatec.core.actors import actor_of
from biatec.core.correlation import get_correlation_id
from biatec.core.errors import ApplicationError, ValidationFailed
from deployments.models import Deployment, DeploymentEvent, DeploymentStatus
from deployments.presenters import event_row
from tokens.networks import NETWORKS
from tokens.standards import STANDARDS

from .attestation import ALGORITHM, attestation_key_ensure, attestation_key_public, attestation_signer
from .countries import ISO_3166_ALPHA2
from .evidence import evidence_bundle_zip
from .gate import GateDecision, compliance_decide
from .models import Attestation, ComplianceDecision, IssuancePolicy
from .selectors import compliance_membership, deployment_compliance, evidence_documents, transaction_rows

ATTESTATION_TYPE = "biatec.deployment-attestation/1"
COMPLIANCE_GROUP = "compliance"
# (app_label, model) pairs the compliance group may view; it gets no add/change/delete permission.
COMPLIANCE_VIEW_MODELS = [
    ("deployments", "deployment"), ("deployments", "deploymentevent"), ("deployments", "deploymenttransaction"),
    ("deployments", "historicaldeployment"), ("accounts", "organization"), ("accounts", "securityevent"),
    ("compliance", "issuancepolicy"), ("compliance", "historicalissuancepolicy"),
    ("compliance", "compliancedecision"), ("audit", "auditentry"), ("compliance", "attestation"),
    ("compliance", "attestationkey"), ("compliance", "deploymentcompliancerecord"),
    ("deployments", "token"), ("deployments", "historicaltoken"), ("deployments", "operation"),
    ("deployments", "operationevent"), ("deployments", "operationtransaction"), ("deployments", "historicaloperation"),
    ("compliance", "allowlistentry"), ("compliance", "historicalallowlistentry"), ("compliance", "blocklistentry"),
    ("compliance", "historicalblocklistentry"), ("compliance", "jurisdictionrules"),
    ("compliance", "historicaljurisdictionrules"), ("compliance", "allowlistdriftreport"),
    ("accounts", "invitation"), ("accounts", "historicalinvitation"),
    ("deployments", "approvalrequest"), ("deployments", "approvaldecision"), ("deployments", "approvalpolicy"),
    ("deployments", "historicalapprovalpolicy"),
]
# The one change the group holds: approval requests, whose admin has no editable field; it is what
# lets the approver queue's approve / reject actions (the services of the API) run for the group.
COMPLIANCE_CHANGE_MODELS = [("deployments", "approvalrequest")]


class DeploymentNotCompleted(ApplicationError):
    code = "DEPLOYMENT_NOT_COMPLETED"
    http_status = 409
    default_message = "Only a completed deployment can be attested."


# ---- Decisions -----------------------------------------------------------------------------------------
@transaction.atomic
def compliance_decision_record(*, organization_id: Any, actor: str, source: str,
                               decision: GateDecision) -> ComplianceDecision:
    row = ComplianceDecision.objects.create(
        organization_id=organization_id, actor=actor, source=source, standard=decision.standard,
        network=decision.network, allowed=decision.allowed, failing_rules=decision.failing_rules,
        violations=decision.violations, mica_overall=decision.mica_overall, mica=decision.mica,
        profile=decision.profile, profile_sha256=decision.profile_sha256,
        correlation_id=(get_correlation_id() or "")[:64],
    )
    action = ("compliance.refused" if source == ComplianceDecision.Source.CREATE and not decision.allowed
              else f"compliance.{source}")
    audit_record(action=action, actor=actor, organization_id=organization_id, object_type="compliance_decision",
                 object_id=str(row.pk),
                 payload={"standard": decision.standard, "network": decision.network, "allowed": decision.allowed,
                          "failing_rules": decision.failing_rules, "mica_overall": decision.mica_overall,
                          "profile_sha256": decision.profile_sha256 or None,
                          "policy_id": decision.policy["id"] if decision.policy else None})
    return row


@transaction.atomic
def compliance_preflight(*, user: User, standard: str, payload: dict[str, Any],
                         compliance_metadata: dict[str, Any] | None,
                         organization_id: Any = None) -> tuple[GateDecision, ComplianceDecision]:
    """The create endpoint's validation and gate, without deploying, in `organization_id` (the request's
    active organization; default the user's first); the decision is recorded."""
    from tokens.standards.validation import deployment_request_validate

    membership = compliance_membership(user=user, organization_id=organization_id)
    request = deployment_request_validate(standard=standard, payload=payload)
    decision = compliance_decide(organization=membership.organization, standard=standard,
                                 network=request["network"], request=request,
                                 compliance_metadata=compliance_metadata)
    row = compliance_decision_record(organization_id=membership.organization_id, actor=actor_of(user),
                                     source=ComplianceDecision.Source.PREFLIGHT, decision=decision)
    return decision, row


# ---- Policies ------------------------------------------------------------------------------------------
POLICY_FIELDS = ("allowed_networks", "allowed_standards", "require_compliance_profile", "require_mica_compliant",
                 "allow_out_of_scope", "blocked_issuer_countries", "require_operation_reason")


def _policy_values(policy: IssuancePolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def issuance_policy_validate(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    for name, known in (("allowed_networks", NETWORKS), ("allowed_standards", STANDARDS)):
        items = sorted(set(values.get(name) or []))
        unknown = [item for item in items if item not in known]
        if unknown:
            errors[name] = [f"Unknown: {', '.join(unknown)}."]
        cleaned[name] = items
    countries = sorted({str(c).strip().upper() for c in values.get("blocked_issuer_countries") or []})
    bad = [c for c in countries if c not in ISO_3166_ALPHA2]
    if bad:
        errors["blocked_issuer_countries"] = [f"Not ISO 3166-1 alpha-2 codes: {', '.join(bad)}."]
    cleaned["blocked_issuer_countries"] = countries
    if errors:
        raise ValidationFailed(details={"fields": errors})
    return cleaned


@transaction.atomic
def issuance_policy_set(*, organization: Organization, actor: str, **values: Any) -> IssuancePolicy:
    """Create or change the organization's issuance policy (history-tracked and audited)."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(details={"fields": {name: ["Unknown field."] for name in sorted(unknown)}})
    policy = IssuancePolicy.objects.select_for_update().filter(organization=organization).first()
    before = _policy_values(policy) if policy is not None else None
    if policy is None:
        policy = IssuancePolicy(organization=organization)
    cleaned = issuance_policy_validate({**_policy_values(policy), **values})
    for name, value in cleaned.items():
        setattr(policy, name, value)
    policy.save()
    audit_record(action="policy.changed", actor=actor, organization_id=organization.pk,
                 object_type="issuance_policy", object_id=str(policy.pk),
                 payload={"before": before, "after": _policy_values(policy)})
    return policy


# ---- Attestations --------------------------------------------------------------------------------------
def _token_summary(request: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "symbol", "unit_name", "decimals", "total", "initial_supply", "cap", "url")
    return {key: request[key] for key in keys if key in request}


def _network_summary(slug: str) -> dict[str, Any]:
    network = NETWORKS.get(slug)
    if network is None:
        return {"slug": slug}
    return {"slug": slug, "family": network.family, "chain_id": network.chain_id, "genesis_id": network.genesis_id,
            "genesis_hash": network.genesis_hash}


@transaction.atomic
def attestation_issue(*, deployment: Deployment, actor: str) -> Attestation:
    """Sign a statement about a completed deployment with the platform attestation key."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status != DeploymentStatus.COMPLETED:
        raise DeploymentNotCompleted(details={"status": deployment.status})
    compliance = deployment_compliance(deployment)
    mica = compliance.get("mica") or {}
    transactions = transaction_rows(deployment)
    history = [event_row(e) for e in DeploymentEvent.objects.filter(deployment=deployment).order_by("id")]
    key = attestation_key_ensure()
    attestation_id = uuid.uuid4()
    statement = {
        "type": ATTESTATION_TYPE,
        "attestation_id": str(attestation_id),
        "issued_at": timezone.now().isoformat(),
        "issuer": settings.COMPLIANCE_ATTESTATION_ISSUER,
        "algorithm": ALGORITHM,
        "key_id": key.key_id,
        "deployment": {
            "id": str(deployment.pk), "organization_id": str(deployment.organization_id),
            "standard": deployment.standard, "status": deployment.status,
            "created_at": deployment.created_at.isoformat(),
            "completed_at": deployment.completed_at.isoformat() if deployment.completed_at else None,
            "correlation_id": deployment.correlation_id,
        },
        "network": _network_summary(deployment.network),
        "token": _token_summary(deployment.request or {}),
        "on_chain": deployment.results or {},
        "tx_ids": [t["tx_id"] for t in transactions] or list((deployment.results or {}).get("tx_ids") or []),
        "transactions": [{"step": t["step"], "tx_id": t["tx_id"], "status": t["status"],
                          "confirmed_in": t["confirmed_in"]} for t in transactions],
        "mica": {"overall": compliance.get("mica_overall"), "regime": mica.get("regime"),
                 "failing_rules": mica.get("failing_rules", []), "flags": mica.get("flags", []),
                 "as_of": mica.get("as_of")},
        "compliance_profile_sha256": compliance.get("profile_sha256"),
        "history_sha256": hashlib.sha256(canonical_json(history)).hexdigest(),
    }
    message = canonical_json(statement)
    with attestation_signer(reason=f"attestation of deployment {deployment.pk}") as signer:
        signature = signer.sign(message)
    attestation = Attestation.objects.create(
        id=attestation_id, deployment=deployment, organization_id=deployment.organization_id,
        statement=message.decode("utf-8"), signature=base64.b64encode(signature).decode(), key_id=key.key_id,
        issued_by=actor,
    )
    audit_record(action="compliance.attestation_issued", actor=actor, organization_id=deployment.organization_id,
                 object_type="deployment", object_id=str(deployment.pk),
                 payload={"attestation_id": str(attestation.pk), "key_id": key.key_id,
                          "statement_sha256": hashlib.sha256(message).hexdigest()})
    return attestation


# ---- Exports -------------------------------------------------------------------------------------------
def evidence_bundle_build(*, deployment: Deployment) -> bytes:
    """The deployment's evidence bundle (deterministic: same records, same bytes)."""
    key = attestation_key_ensure()
    header = {"deployment_id": str(deployment.pk), "organization_id": str(deployment.organization_id),
              "signature": {"algorithm": ALGORITHM, **attestation_key_public(key), "file": "manifest.sig",
                            "signed": "manifest.json (exact bytes)"}}
    documents = evidence_documents(deployment=deployment)
    with attestation_signer(reason=f"evidence bundle of deployment {deployment.pk}") as signer:
        return evidence_bundle_zip(documents=documents, header=header, sign=signer.sign)


@transaction.atomic
def evidence_bundle_export(*, deployment: Deployment, actor: str) -> bytes:
    bundle = evidence_bundle_build(deployment=deployment)
    audit_record(action="export.evidence_bundle", actor=actor, organization_id=deployment.organization_id,
                 object_type="deployment", object_id=str(deployment.pk),
                 payload={"sha256": hashlib.sha256(bundle).hexdigest(), "size": len(bundle)})
    return bundle


def export_record(*, kind: str, actor: str, organization: Organization, parameters: dict[str, Any],
                  rows: int | None = None) -> None:
    """Audit an export (audit log, report) of an organization's data."""
    audit_record(action=f"export.{kind}", actor=actor, organization_id=organization.pk, object_type="organization",
                 object_id=str(organization.pk), payload={"parameters": parameters, "rows": rows})


# ---- Staff ---------------------------------------------------------------------------------------------
@transaction.atomic
def compliance_group_ensure() -> Group:
    """The `compliance` staff group: view permissions on deployments and compliance records, and the
    approver queue's actions (`COMPLIANCE_CHANGE_MODELS`), nothing else."""
    group, _ = Group.objects.get_or_create(name=COMPLIANCE_GROUP)
    wanted = Permission.objects.none()
    for app_label, model in COMPLIANCE_VIEW_MODELS:
        wanted = wanted | Permission.objects.filter(content_type__app_label=app_label, content_type__model=model,
                                                    codename=f"view_{model}")
    for app_label, model in COMPLIANCE_CHANGE_MODELS:
        wanted = wanted | Permission.objects.filter(content_type__app_label=app_label, content_type__model=model,
                                                    codename=f"change_{model}")
    group.permissions.set(wanted)
    return group

