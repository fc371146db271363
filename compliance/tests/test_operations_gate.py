"""The compliance gate of token operations, without a chain: what it refuses, records and limits."""
import pytest

from accounts.models import Membership, User
from compliance.gate import ComplianceViolation
from compliance.operations_gate import compliance_operation_gate
from compliance.services import issuance_policy_set
from deployments.tests.factories import DeploymentFactory, token_of

pytestmark = pytest.mark.django_db


def _token(user_factory, **deployment):  # noqa: ANN001, ANN202
    body, _ = user_factory("gate.ops")
    user = User.objects.get(pk=body["id"])
    organization = Membership.objects.get(user=user).organization
    return organization, token_of(DeploymentFactory(organization=organization, creator=user, status="completed",
                                                    **deployment))


def test_reason_required_by_policy_for_mints_and_forced_transfers_only(user_factory):
    organization, token = _token(user_factory)
    assert compliance_operation_gate(organization=organization, token=token, kind="mint", request={})[
        "compliance"]["decision"] == "allowed"
    issuance_policy_set(organization=organization, actor="test", require_operation_reason=True)
    with pytest.raises(ComplianceViolation) as refused:
        compliance_operation_gate(organization=organization, token=token, kind="mint", request={})
    assert refused.value.details["failing_rules"] == ["policy.operation_reason_required"]
    assert compliance_operation_gate(organization=organization, token=token, kind="mint",
                                     request={"reason": "plan"})["compliance"]["decision"] == "allowed"
    assert compliance_operation_gate(organization=organization, token=token, kind="transfer", request={})


def test_a_token_issued_with_a_profile_is_limited_to_its_assessed_supply(user_factory):
    organization, token = _token(user_factory, compliance_metadata={"issuer_country": "DE"},
                                 request={"network": "evm-local", "name": "T", "symbol": "T", "decimals": 0,
                                          "initial_supply": "1000"})
    facts = compliance_operation_gate(organization=organization, token=token, kind="mint", request={})
    assert facts["limits"] == {"max_total_supply": "1000"}
    assert "limits" not in compliance_operation_gate(organization=organization, token=token, kind="transfer",
                                                     request={})
