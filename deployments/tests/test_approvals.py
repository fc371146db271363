"""Four-eyes approvals without a chain (docs/approvals.md): the policy API and its audit, which rule
gates a request, who may decide, the expiry sweep (time-machine), API keys, and the admin queue.
What reaches a chain is in test_approvals_evm.py."""
import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Membership, User
from biatec.audit.models import AuditEntry
from biatec.core.errors import PermissionDenied
from deployments import errors
from deployments.approval_decisions import approval_approve, approval_reject, approvals_expire, request_is_api_key
from deployments.approval_selectors import approval_gate
from deployments.models import ApprovalPolicy, ApprovalRequest, Token
from deployments.tests.factories import DeploymentFactory
from tests.otp import otp_force_login

pytestmark = pytest.mark.django_db

DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def org(user_factory):
    """An owner's organization with an admin, an issuer and an approver (clients by role)."""
    clients, users = {}, {}
    body, clients["owner"] = user_factory("aprx.owner")
    users["owner"] = User.objects.get(pk=body["id"])
    organization = Membership.objects.get(user=users["owner"]).organization
    for role in ("admin", "issuer", "approver", "viewer"):
        body, clients[role] = user_factory(f"aprx.{role}")
        users[role] = User.objects.get(pk=body["id"])
        Membership.objects.create(user=users[role], organization=organization, role=role)
    return SimpleNamespace(organization=organization, clients=clients, users=users)


def _token(organization, owner) -> Token:
    deployment = DeploymentFactory(organization=organization, creator=owner, status="completed")
    return Token.objects.create(organization=organization, deployment=deployment, standard="erc20-security",
                                network="evm-local", family="evm", contract_address=f"0x{uuid.uuid4().hex[:40]}",
                                name="S", symbol="S", decimals=0, issuer_address=DEAD)


def _request(org, **fields) -> ApprovalRequest:
    token = _token(org.organization, org.users["owner"])
    return ApprovalRequest.objects.create(**{
        "organization": org.organization, "token": token, "kind": "forced_transfer",
        "payload": {"from": DEAD, "to": DEAD, "amount": "1"}, "summary": {"from": DEAD, "to": DEAD, "amount": "1"},
        "gated_by": "kind", "requested_by": org.users["issuer"], "expires_at": timezone.now() + timedelta(hours=1),
        **fields})


def test_policy_defaults_are_read_without_a_row_and_only_owner_or_admin_change_it(org):
    url = f"/api/v1/organizations/{org.organization.pk}/approval-policy"
    read = org.clients["viewer"].get(url)
    assert read.status_code == 200
    assert read.json() == {"organization_id": str(org.organization.pk), "enabled": False,
                           "kinds": ["forced_transfer", "transfer_ownership", "set_roles", "destroy"],
                           "mint_above": None, "batch_transfer_above": None, "issuance_policy_changes": True,
                           "allowlist_bulk_above": 100, "approvals_required": 1, "expiry_hours": 72,
                           "api_keys_may_approve": False, "updated_at": None}
    assert not ApprovalPolicy.objects.exists()
    for role in ("issuer", "approver", "viewer"):
        answer = org.clients[role].put(url, {"enabled": True}, format="json")
        assert answer.status_code == 403 and answer.json()["code"] == "PERMISSION_DENIED", role
    assert not ApprovalPolicy.objects.exists()
    answer = org.clients["admin"].put(url, {"enabled": True, "mint_above": "1000", "approvals_required": 2,
                                            "kinds": ["forced_transfer", "destroy", "destroy"]}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["enabled"] is True and body["mint_above"] == "1000" and body["approvals_required"] == 2
    assert body["kinds"] == ["forced_transfer", "destroy"] and body["updated_at"]
    entry = AuditEntry.objects.get(action="approval_policy.updated")
    assert entry.organization_id == org.organization.pk and entry.actor == f"user:{org.users['admin'].pk}"
    assert entry.payload["changed"]["approvals_required"] == {"from": 1, "to": 2}
    assert org.clients["owner"].put(url, {"approvals_required": 1}, format="json").json()["mint_above"] == "1000"


@pytest.mark.parametrize("body", [{"approvals_required": 3}, {"approvals_required": 0}, {"kinds": ["nope"]},
                                  {"mint_above": "-1"}, {"expiry_hours": 0}, {"unknown": 1}])
def test_policy_rejects_malformed_bodies(org, body):
    answer = org.clients["owner"].put(f"/api/v1/organizations/{org.organization.pk}/approval-policy", body,
                                      format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "VALIDATION_ERROR"


def test_another_organization_cannot_see_the_policy_or_the_requests(org, user_factory):
    _, stranger = user_factory("aprx.stranger")
    approval = _request(org)
    assert stranger.get(f"/api/v1/organizations/{org.organization.pk}/approval-policy").status_code == 404
    assert stranger.get(f"/api/v1/approvals/{approval.pk}").status_code == 404
    assert stranger.post(f"/api/v1/approvals/{approval.pk}/approve", {}, format="json").status_code == 404
    assert stranger.get("/api/v1/approvals").json()["results"] == []


def test_which_rule_gates_a_request():
    off = ApprovalPolicy()
    assert approval_gate(policy=off, kind="forced_transfer", request={}) is None
    on = ApprovalPolicy(enabled=True, mint_above=Decimal(100), batch_transfer_above=Decimal(10))
    assert approval_gate(policy=on, kind="forced_transfer", request={"amount": "1"}) == "kind"
    assert approval_gate(policy=on, kind="destroy", request={}) == "kind"
    assert approval_gate(policy=on, kind="mint", request={"amount": "100"}) is None
    assert approval_gate(policy=on, kind="mint", request={"amount": "101"}) == "mint_above"
    assert approval_gate(policy=on, kind="transfer", request={"amount": "10000"}) is None
    rows = {"transfers": [{"to": DEAD, "amount": "6"}, {"to": DEAD, "amount": "5"}]}
    assert approval_gate(policy=on, kind="batch_transfer", request=rows) == "batch_transfer_above"
    assert approval_gate(policy=ApprovalPolicy(enabled=True), kind="mint", request={"amount": "10"}) is None


def test_the_requester_and_api_keys_cannot_decide_and_viewers_are_refused(org):
    approval = _request(org)
    issuer, approver = org.users["issuer"], org.users["approver"]
    with pytest.raises(PermissionDenied):
        approval_approve(approval_id=approval.pk, user=issuer)  # the issuer holds no `approve`
    owned = _request(org, requested_by=org.users["owner"])
    with pytest.raises(errors.ApproverIsRequester):
        approval_approve(approval_id=owned.pk, user=org.users["owner"])
    with pytest.raises(errors.ApproverIsRequester):
        approval_reject(approval_id=owned.pk, user=org.users["owner"], comment="withdraw")
    with pytest.raises(errors.ApiKeyMayNotApprove):
        approval_reject(approval_id=approval.pk, user=approver, comment="no", via_api_key=True)
    answer = org.clients["viewer"].post(f"/api/v1/approvals/{approval.pk}/reject", {"comment": "x"}, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "PERMISSION_DENIED"
    allowed = _request(org, api_keys_may_approve=True)
    assert approval_reject(approval_id=allowed.pk, user=approver, comment="ok", via_api_key=True).status == "rejected"
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending_approval"


def test_a_requester_demoted_while_the_request_waits_does_not_get_it_run(org):
    approval = _request(org)
    Membership.objects.filter(user=org.users["issuer"], organization=org.organization).update(role="viewer")
    answer = org.clients["approver"].post(f"/api/v1/approvals/{approval.pk}/approve", {}, format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "REQUESTER_NOT_PERMITTED"
    assert answer.json()["details"]["requester_role"] == "viewer"
    assert ApprovalRequest.objects.get(pk=approval.pk).decisions.count() == 0
    answer = org.clients["approver"].post(f"/api/v1/approvals/{approval.pk}/reject", {"comment": "demoted"},
                                          format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"


def test_request_is_api_key_reads_the_credential_flag():
    assert request_is_api_key(SimpleNamespace(auth=SimpleNamespace(is_api_key=True))) is True
    assert request_is_api_key(SimpleNamespace(auth=None)) is False
    assert request_is_api_key(SimpleNamespace(auth="a.jwt")) is False


def test_expiry_sweep_marks_due_requests_once_and_a_late_decision_is_refused(org):
    due, later = _request(org), _request(org, expires_at=timezone.now() + timedelta(hours=5))
    assert approvals_expire() == []
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        assert approvals_expire() == [str(due.pk)]
        assert approvals_expire() == []
        with pytest.raises(errors.ApprovalNotPending) as refused:
            approval_approve(approval_id=due.pk, user=org.users["approver"])
        assert refused.value.details["status"] == "expired"
    assert ApprovalRequest.objects.get(pk=due.pk).status == "expired"
    assert ApprovalRequest.objects.get(pk=later.pk).status == "pending_approval"
    # A decision attempted past the expiry, before the sweep ran, expires the request itself.
    with time_machine.travel(timezone.now() + timedelta(hours=6), tick=False):
        with pytest.raises(errors.ApprovalNotPending):
            approval_reject(approval_id=later.pk, user=org.users["approver"], comment="late")
    assert ApprovalRequest.objects.get(pk=later.pk).status == "expired"
    assert AuditEntry.objects.filter(action="approval.expired").count() == 2


def test_admin_queue_shows_pending_requests_and_its_actions_call_the_services(org, client):
    """A compliance staff member who is an approver of the organization works the queue in the admin."""
    approval, decided, own = _request(org), _request(org, status="rejected"), _request(org)
    staff = org.users["approver"]
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    staff.groups.add(Group.objects.get(name="compliance"))
    own.requested_by = staff
    own.save(update_fields=["requested_by"])
    otp_force_login(client, staff)
    page = client.get("/admin/deployments/approvalrequest/")
    assert page.status_code == 200
    content = page.content.decode()
    assert str(approval.pk) in content and str(decided.pk) not in content
    assert str(decided.pk) in client.get("/admin/deployments/approvalrequest/?status=all").content.decode()
    answer = client.post("/admin/deployments/approvalrequest/", {
        "action": "reject_selected", "_selected_action": [str(approval.pk), str(own.pk)]}, follow=True)
    assert answer.status_code == 200
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "rejected"
    assert ApprovalRequest.objects.get(pk=own.pk).status == "pending_approval"  # their own: refused
    assert "APPROVER_IS_REQUESTER" in answer.content.decode()
    decision = ApprovalRequest.objects.get(pk=approval.pk).decisions.get()
    assert decision.user_id == staff.pk and decision.comment == "rejected in the admin"
    assert AuditEntry.objects.get(action="approval.rejected").actor == f"staff:{staff.pk}"
    assert client.get("/admin/deployments/approvalpolicy/").status_code == 200


def test_an_api_key_of_the_approver_role_cannot_approve_unless_the_policy_allows(org):
    """End to end with a real key: the key's request carries the key as `request.auth`."""
    from rest_framework.test import APIClient

    from accounts.models import ApiKey

    approval = _request(org)
    _key, text = ApiKey.objects.create_key(organization=org.organization, name="approver-bot", role="approver",
                                           created_by=org.users["approver"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {text}")
    answer = client.post(f"/api/v1/approvals/{approval.pk}/reject", {"comment": "by a key"}, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "API_KEY_MAY_NOT_APPROVE"
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending_approval"
    allowed = _request(org, api_keys_may_approve=True)
    answer = client.post(f"/api/v1/approvals/{allowed.pk}/reject", {"comment": "by a key"}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"
