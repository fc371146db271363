"""Four-eyes approvals of token operations (issue 20 item 5) on a real anvil node: a forced transfer
on an `erc20-security` token (BiatecTokenSecurity) waits for approval, runs through the one pipeline
only once approved, and rejection and expiry leave the chain untouched. Balances are read back with
plain web3.py, independently of the product's own read-back."""
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from eth_account import Account

from accounts.models import Membership, User
from biatec.audit.models import AuditEntry
from deployments.approval_decisions import approvals_expire
from deployments.models import ApprovalRequest, Operation, OperationEvent, OperationTransaction, Token
from deployments.tests.test_operations_erc20_security import _allow, _contract, _deploy, _op, _send
from devchain.anvil import fund
from webhooks.models import WebhookEvent
from webhooks.services import webhook_subscription_create

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def _member(user_factory: Any, name: str, organization_id: Any, role: str) -> tuple[User, Any]:
    body, client = user_factory(name)
    user = User.objects.get(pk=body["id"])
    Membership.objects.create(user=user, organization_id=organization_id, role=role)
    return user, client


@pytest.fixture
def setup(anvil_node, user_factory, settings):
    """X: an owner (who deployed the token), an issuer, an approver and a compliance officer; alice
    and bob eligible holders, alice holding 100 and able to send."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    owner_body, owner = user_factory("apr.owner")
    token = _deploy(owner)
    org = token.organization_id
    issuer_user, issuer = _member(user_factory, "apr.issuer", org, "issuer")
    approver_user, approver = _member(user_factory, "apr.approver", org, "approver")
    compliance_user, compliance = _member(user_factory, "apr.compliance", org, "compliance")
    alice, bob = Account.create(), Account.create()
    _allow(owner, token, alice.address, bob.address)
    fund(anvil_node.url, alice.address, 10**17)
    _op(owner, token, "transfer", {"to": alice.address, "amount": "100"})
    webhook_subscription_create(organization=token.organization, actor=User.objects.get(pk=owner_body["id"]),
                                url="http://127.0.0.1:9/hooks",
                                event_types=["approval.requested", "approval.approved", "approval.rejected",
                                             "approval.expired"])
    answer = owner.put(f"/api/v1/organizations/{org}/approval-policy", {"enabled": True}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["kinds"] == ["forced_transfer", "transfer_ownership", "set_roles", "destroy"]
    return {"token": token, "chain": _contract(anvil_node.url, token.contract_address), "owner": owner,
            "issuer": issuer, "issuer_user": issuer_user, "approver": approver, "approver_user": approver_user,
            "compliance": compliance, "compliance_user": compliance_user, "alice": alice, "bob": bob,
            "node": anvil_node}


def _balances(s: dict) -> list[int]:
    return [s["chain"].functions.balanceOf(a.address).call() for a in (s["alice"], s["bob"])]


def _forced(s: dict, client: Any, amount: str = "30", **headers: str) -> Any:
    body = {"from": s["alice"].address, "to": s["bob"].address, "amount": amount, "reason": "court order 2026/17"}
    return client.post(f"/api/v1/tokens/{s['token'].pk}/operations/forced_transfer", body, format="json", **headers)


def _forced_operations(token: Token) -> int:
    return Operation.objects.filter(token=token, kind="forced_transfer").count()


def _webhook_types(token: Token) -> list[str]:
    return list(WebhookEvent.objects.filter(organization_id=token.organization_id, type__startswith="approval.")
                .order_by("created_at").values_list("type", flat=True))


def test_forced_transfer_waits_for_an_approver_and_runs_only_once_approved(setup):
    s = setup
    token = s["token"]
    transactions_before = OperationTransaction.objects.count()
    answer = _forced(s, s["issuer"], HTTP_IDEMPOTENCY_KEY="apr-1")
    assert answer.status_code == 202, answer.content
    pending = answer.json()
    assert pending["status"] == "pending_approval" and pending["kind"] == "forced_transfer"
    assert pending["token_id"] == str(token.pk) and pending["requested_by"] == str(s["issuer_user"].pk)
    assert pending["approvals"] == [] and pending["approvals_required"] == 1 and pending["operation_id"] is None
    assert pending["request"]["from"] == s["alice"].address and pending["request"]["amount"] == "30"
    assert answer["Location"].endswith(f"/api/v1/approvals/{pending['id']}")
    # A replay with the same Idempotency-Key answers the same approval request; nothing new.
    replay = _forced(s, s["issuer"], HTTP_IDEMPOTENCY_KEY="apr-1")
    assert replay.status_code == 202 and replay.json()["id"] == pending["id"]
    assert replay["Idempotent-Replayed"] == "true"
    assert ApprovalRequest.objects.filter(token=token).count() == 1
    # Nothing is queued or signed, the chain is as it was.
    assert _forced_operations(token) == 0 and OperationTransaction.objects.count() == transactions_before
    assert _balances(s) == [100, 0]

    # The queue: pending requests of the organization, for every member.
    queue = s["approver"].get("/api/v1/approvals", {"status": "pending_approval"},
                              HTTP_X_ORGANIZATION_ID=str(token.organization_id)).json()["results"]
    assert [a["id"] for a in queue] == [pending["id"]]

    # The issuer holds no `approve`; the owner does, but not for a request of their own.
    refused = s["issuer"].post(f"/api/v1/approvals/{pending['id']}/approve", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_DENIED"
    own = _forced(s, s["owner"], amount="1").json()
    refused = s["owner"].post(f"/api/v1/approvals/{own['id']}/approve", {"comment": "mine"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "APPROVER_IS_REQUESTER"
    assert _forced_operations(token) == 0 and _balances(s) == [100, 0]

    approved = s["approver"].post(f"/api/v1/approvals/{pending['id']}/approve", {"comment": "checked the order"},
                                  format="json")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["status"] == "approved" and body["operation_id"]
    assert [a["user_id"] for a in body["approvals"]] == [str(s["approver_user"].pk)]
    assert body["approvals"][0]["comment"] == "checked the order"
    assert _balances(s) == [70, 30]  # the chain shows the transfer only now
    operation = Operation.objects.get(pk=body["operation_id"])
    assert operation.status == "completed" and operation.creator_id == s["issuer_user"].pk
    first = OperationEvent.objects.filter(operation=operation).order_by("id").first()
    assert first.facts["approval_id"] == pending["id"]
    assert first.facts["approved_by"] == [str(s["approver_user"].pk)]
    detail = s["issuer"].get(f"/api/v1/tokens/{token.pk}/operations/{operation.pk}").json()
    assert detail["history"][0]["facts"]["approval_id"] == pending["id"]
    # Decided once: a second approval is refused, nothing more is queued.
    again = s["compliance"].post(f"/api/v1/approvals/{pending['id']}/approve", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "APPROVAL_NOT_PENDING"
    assert _forced_operations(token) == 1

    actions = list(AuditEntry.objects.filter(object_id=pending["id"]).order_by("sequence")
                   .values_list("action", flat=True))
    assert actions == ["approval.requested", "approval.approved"]
    assert _webhook_types(token) == ["approval.requested", "approval.requested", "approval.approved"]


def test_rejection_and_expiry_leave_the_chain_untouched(setup):
    s = setup
    token = s["token"]
    rejected = _forced(s, s["issuer"]).json()
    answer = s["compliance"].post(f"/api/v1/approvals/{rejected['id']}/reject", {}, format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "VALIDATION_ERROR"  # a comment is required
    answer = s["compliance"].post(f"/api/v1/approvals/{rejected['id']}/reject", {"comment": "no court order attached"},
                                  format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "rejected"
    assert answer.json()["rejection"]["comment"] == "no court order attached"
    late = s["approver"].post(f"/api/v1/approvals/{rejected['id']}/approve", {}, format="json")
    assert late.status_code == 409 and late.json()["details"]["status"] == "rejected"

    expiring = _forced(s, s["issuer"]).json()
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        assert approvals_expire() == [expiring["id"]]
        assert approvals_expire() == []  # once
    assert ApprovalRequest.objects.get(pk=expiring["id"]).status == "expired"
    late = s["approver"].post(f"/api/v1/approvals/{expiring['id']}/approve", {}, format="json")
    assert late.status_code == 409 and late.json()["details"]["status"] == "expired"

    assert _forced_operations(token) == 0 and _balances(s) == [100, 0]
    assert _webhook_types(token) == ["approval.requested", "approval.rejected", "approval.requested",
                                     "approval.expired"]
    assert set(AuditEntry.objects.filter(object_type="approval_request").values_list("action", flat=True)) == {
        "approval.requested", "approval.rejected", "approval.expired"}


def test_two_of_n_needs_two_distinct_approvers(setup):
    s = setup
    token = s["token"]
    answer = s["owner"].put(f"/api/v1/organizations/{token.organization_id}/approval-policy",
                            {"approvals_required": 2}, format="json")
    assert answer.status_code == 200 and answer.json()["approvals_required"] == 2
    pending = _forced(s, s["issuer"]).json()
    assert pending["approvals_required"] == 2

    first = s["approver"].post(f"/api/v1/approvals/{pending['id']}/approve", {"comment": "one"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending_approval" and len(first.json()["approvals"]) == 1
    assert _forced_operations(token) == 0 and _balances(s) == [100, 0]
    twice = s["approver"].post(f"/api/v1/approvals/{pending['id']}/approve", {}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "APPROVAL_ALREADY_DECIDED"
    assert _forced_operations(token) == 0

    second = s["compliance"].post(f"/api/v1/approvals/{pending['id']}/approve", {"comment": "two"}, format="json")
    assert second.status_code == 200, second.content
    body = second.json()
    assert body["status"] == "approved"
    assert [a["user_id"] for a in body["approvals"]] == [str(s["approver_user"].pk), str(s["compliance_user"].pk)]
    assert _balances(s) == [70, 30]
    first_row = OperationEvent.objects.filter(operation_id=body["operation_id"]).order_by("id").first()
    assert first_row.facts["approved_by"] == [str(s["approver_user"].pk), str(s["compliance_user"].pk)]


def test_approval_rechecks_the_chain_state_and_a_refusal_leaves_the_request_pending(setup):
    s = setup
    token = s["token"]
    pending = _forced(s, s["issuer"], amount="100").json()
    assert pending["status"] == "pending_approval"
    # Alice moves part of her balance away while the request waits.
    _send(s["node"].url, s["alice"], token.contract_address, "transfer", s["bob"].address, 5)
    assert _balances(s) == [95, 5]
    refused = s["approver"].post(f"/api/v1/approvals/{pending['id']}/approve", {}, format="json")
    assert refused.status_code == 422 and refused.json()["code"] == "INSUFFICIENT_BALANCE"
    again = ApprovalRequest.objects.get(pk=pending["id"])
    assert again.status == "pending_approval" and again.decisions.count() == 0
    assert _forced_operations(token) == 0 and _balances(s) == [95, 5]
    # The approver rejects it instead.
    assert s["approver"].post(f"/api/v1/approvals/{pending['id']}/reject", {"comment": "balance moved"},
                              format="json").json()["status"] == "rejected"
