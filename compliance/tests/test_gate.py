"""The issuance gate on the create endpoint and the pre-flight endpoint (same answer)."""
from __future__ import annotations

import pytest

from biatec.audit.models import AuditEntry
from compliance.models import ComplianceDecision, IssuancePolicy
from compliance.services import issuance_policy_set
from deployments.models import Deployment, DeploymentEvent

from .conftest import PROFILE

pytestmark = pytest.mark.django_db


def _policy(party, **values):
    return issuance_policy_set(organization=party.organization, actor="staff:test", **values)


def test_no_policy_allows_and_records_the_mica_result(alice):
    response = alice.create()
    assert response.status_code == 202, response.content
    deployment = Deployment.objects.get(pk=response.json()["id"])
    first = DeploymentEvent.objects.filter(deployment=deployment).order_by("id").first()
    compliance = first.facts["compliance"]
    assert compliance["decision"] == "allowed"
    assert compliance["mica_overall"] == "compliant"
    assert compliance["mica"]["regime"] == "mica_title_ii_other_crypto_assets"
    assert len(compliance["profile_sha256"]) == 64
    assert AuditEntry.objects.filter(action="deployment.transition", object_id=str(deployment.pk)).exists()


def test_invalid_profile_is_a_validation_error_and_creates_nothing(alice):
    response = alice.create(profile={**PROFILE, "issuer_lei": "5493001KJTIIGC8Y1R13"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert "issuer_lei" in body["details"]["fields"]["compliance_metadata"]
    assert not Deployment.objects.exists()


@pytest.mark.parametrize(("policy", "body", "profile", "expected_rules"), [
    ({"allowed_networks": ["base-sepolia"]}, None, PROFILE, ["policy.network_not_allowed"]),
    ({"allowed_standards": ["asa-ft"]}, None, PROFILE, ["policy.standard_not_allowed"]),
    ({"require_compliance_profile": True}, None, None, ["policy.compliance_profile_required"]),
    ({"blocked_issuer_countries": ["DE"]}, None, PROFILE, ["policy.issuer_country_blocked"]),
    ({"require_mica_compliant": True}, None, {**PROFILE, "white_paper_sha256": "", "white_paper_url": ""},
     ["policy.mica_compliant_required", "mica.white_paper.published", "mica.white_paper.hash_recorded"]),
    ({"allow_out_of_scope": False}, None, {**PROFILE, "token_classification": "security"},
     ["policy.out_of_scope_not_allowed"]),
])
def test_policy_refusal_is_422_creates_nothing_and_preflight_agrees(alice, policy, body, profile, expected_rules):
    _policy(alice, **policy)
    deployments_before, events_before = Deployment.objects.count(), DeploymentEvent.objects.count()

    response = alice.create(body=body, profile=profile)

    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == "COMPLIANCE_VIOLATION"
    assert error["details"]["failing_rules"] == expected_rules
    assert [v["rule"] for v in error["details"]["violations"]] == expected_rules
    assert error["correlation_id"]
    assert Deployment.objects.count() == deployments_before
    assert DeploymentEvent.objects.count() == events_before

    # The refusal survived the rollback: recorded as a decision and in the audit log.
    refusal = ComplianceDecision.objects.get(organization=alice.organization, source="create")
    assert refusal.allowed is False and refusal.failing_rules == expected_rules
    assert refusal.actor == f"user:{alice.user.pk}"
    audit = AuditEntry.objects.get(action="compliance.refused", organization=alice.organization)
    assert audit.payload["failing_rules"] == expected_rules
    assert audit.correlation_id == error["correlation_id"]

    preflight = alice.evaluate(body=body, profile=profile)
    assert preflight.status_code == 200, preflight.content
    answer = preflight.json()
    assert answer["allowed"] is False
    assert answer["code"] == "COMPLIANCE_VIOLATION"
    assert answer["violations"] == error["details"]["violations"]
    assert answer["failing_rules"] == error["details"]["failing_rules"]
    assert answer["mica"] == (None if profile is None else answer["mica"])
    assert Deployment.objects.count() == deployments_before
    assert ComplianceDecision.objects.filter(organization=alice.organization, source="preflight").count() == 1


def test_preflight_allowed_matches_create(alice):
    _policy(alice, require_mica_compliant=True, allowed_networks=["evm-local"])
    answer = alice.evaluate().json()
    assert answer["allowed"] is True
    assert answer["violations"] == [] and answer["code"] is None
    assert answer["mica"]["overall"] == "compliant"
    response = alice.create()
    assert response.status_code == 202
    assert AuditEntry.objects.filter(action="compliance.preflight", organization=alice.organization).exists()


def test_preflight_validates_like_create(alice):
    assert alice.evaluate(standard="nope").json()["code"] == "UNSUPPORTED_STANDARD"
    bad = alice.evaluate(body={"network": "evm-local", "name": "T"})
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    assert alice.evaluate(profile={**PROFILE, "issuer_country": "ZZ"}).status_code == 400


def test_idempotent_create_refused_then_allowed_after_policy_change(alice):
    policy = _policy(alice, allowed_networks=["base-sepolia"])
    first = alice.create(HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 422
    issuance_policy_set(organization=alice.organization, actor="staff:test", allowed_networks=[])
    second = alice.create(HTTP_IDEMPOTENCY_KEY="k-1")
    assert second.status_code == 202, second.content
    assert policy.history.count() == 2


def test_policy_values_are_validated(alice):
    from biatec.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        _policy(alice, allowed_networks=["moon"], blocked_issuer_countries=["XX"])
    assert set(info.value.details["fields"]) == {"allowed_networks", "blocked_issuer_countries"}
    assert not IssuancePolicy.objects.filter(organization=alice.organization).exists()


def test_policy_change_is_audited_and_readable(alice):
    _policy(alice, blocked_issuer_countries=["ru", "KP"])
    entry = AuditEntry.objects.get(action="policy.changed", organization=alice.organization)
    assert entry.payload["before"] is None
    assert entry.payload["after"]["blocked_issuer_countries"] == ["KP", "RU"]
    body = alice.client.get("/api/v1/compliance/policy").json()
    assert body["policy"]["blocked_issuer_countries"] == ["KP", "RU"]
