"""Four-eyes approval of issuance policy changes and allow-list bulk writes (issue 20 item 5;
docs/approvals.md, ADR 0113): a gated change answers 202 with the approval request and changes
nothing, queues nothing; the approval applies it through the existing services; rejection and
expiry change nothing. Without a chain: the tokens have none behind them (an erc20-security row, so
that the allow list's writer queues an `allowlist_sync`; on-commit callbacks do not run here). What
reaches the chain is test_approval_gating_on_chain.py."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import Membership, User
from biatec.audit.models import AuditEntry
from compliance.holder_services import member_address
from compliance.models import AllowListEntry, IssuancePolicy
from compliance.tests.allowlist_support import address, base, rules
from deployments.approval_decisions import approvals_expire
from deployments.models import ApprovalRequest, Operation
from deployments.tests.factories import DeploymentFactory, token_of
from webhooks.models import WebhookEvent
from webhooks.services import webhook_subscription_create

pytestmark = pytest.mark.django_db

POLICY = "/api/v1/compliance/policy"


@pytest.fixture
def org(user_factory):
    """An owner's organization with an admin, an issuer, a compliance officer and an approver."""
    clients, users = {}, {}
    body, clients["owner"] = user_factory("gate.owner")
    users["owner"] = User.objects.get(pk=body["id"])
    organization = Membership.objects.get(user=users["owner"]).organization
    for role in ("admin", "issuer", "compliance", "approver"):
        body, clients[role] = user_factory(f"gate.{role}")
        users[role] = User.objects.get(pk=body["id"])
        Membership.objects.filter(user=users[role]).delete()  # their sign-up organization: the only one
        Membership.objects.create(user=users[role], organization=organization, role=role)
    return SimpleNamespace(organization=organization, clients=clients, users=users)


def _approval_policy(org, **fields):
    answer = org.clients["owner"].put(f"/api/v1/organizations/{org.organization.pk}/approval-policy",
                                      {"enabled": True, **fields}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def _approve(org, role, approval_id, **body):
    return org.clients[role].post(f"/api/v1/approvals/{approval_id}/approve", body, format="json")


def _policy(org) -> dict | None:
    answer = org.clients["approver"].get(POLICY)
    assert answer.status_code == 200, answer.content
    return answer.json()["policy"]


# ---- issuance policy changes ----------------------------------------------------------------------------
def test_a_policy_change_waits_the_requester_cannot_approve_and_an_approver_applies_it(org):
    webhook_subscription_create(organization=org.organization, url="http://127.0.0.1:9/hook",
                                event_types=["approval.requested", "approval.approved"], networks=["evm-local"],
                                actor=org.users["owner"])
    _approval_policy(org)
    answer = org.clients["compliance"].put(POLICY, {"allowed_networks": ["evm-local"],
                                                    "require_operation_reason": True}, format="json")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["status"] == "pending_approval" and body["kind"] == "issuance_policy_change"
    assert body["token_id"] is None and body["gated_by"] == "issuance_policy_changes"
    assert body["request"]["changes"]["allowed_networks"] == {"from": [], "to": ["evm-local"]}
    assert answer["Location"].endswith(f"/api/v1/approvals/{body['id']}")
    assert _policy(org) is None and not IssuancePolicy.objects.exists()
    assert not AuditEntry.objects.filter(action="policy.changed").exists()
    requested = AuditEntry.objects.get(action="approval.requested")
    assert requested.payload["token_id"] is None and requested.payload["kind"] == "issuance_policy_change"
    # An organization-level request: the subscription's network filter does not hide it.
    assert WebhookEvent.objects.get(type="approval.requested").payload["data"]["id"] == body["id"]

    refused = _approve(org, "compliance", body["id"])
    assert refused.status_code == 403 and refused.json()["code"] == "APPROVER_IS_REQUESTER"
    assert _approve(org, "admin", body["id"]).status_code == 403  # no `approve`
    approved = _approve(org, "approver", body["id"], comment="ok")
    assert approved.status_code == 200, approved.content
    done = approved.json()
    assert done["status"] == "approved" and done["operation_id"] is None
    assert done["result"]["policy"]["allowed_networks"] == ["evm-local"]
    policy = _policy(org)
    assert policy["allowed_networks"] == ["evm-local"] and policy["require_operation_reason"] is True
    assert done["result"]["issuance_policy_id"] == policy["id"]
    changed = AuditEntry.objects.get(action="policy.changed")
    assert changed.actor == f"user:{org.users['approver'].pk}" and changed.payload["before"] is None
    assert AuditEntry.objects.get(action="approval.approved").payload["result"]["issuance_policy_id"] == policy["id"]
    assert WebhookEvent.objects.filter(type="approval.approved").count() == 1
    again = _approve(org, "owner", body["id"])
    assert again.status_code == 409 and again.json()["code"] == "APPROVAL_NOT_PENDING"


def test_a_rejected_or_expired_policy_change_changes_nothing(org):
    org.clients["owner"].put(POLICY, {"blocked_issuer_countries": ["de"]}, format="json")  # policy off: at once
    assert _policy(org)["blocked_issuer_countries"] == ["DE"]
    _approval_policy(org)
    first = org.clients["admin"].put(POLICY, {"blocked_issuer_countries": []}, format="json").json()
    second = org.clients["admin"].put(POLICY, {"allow_out_of_scope": False}, format="json").json()
    assert first["status"] == second["status"] == "pending_approval"
    rejected = org.clients["approver"].post(f"/api/v1/approvals/{first['id']}/reject", {"comment": "no"},
                                            format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    ApprovalRequest.objects.filter(pk=second["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert approvals_expire() == [second["id"]]
    policy = _policy(org)
    assert policy["blocked_issuer_countries"] == ["DE"] and policy["allow_out_of_scope"] is True
    assert AuditEntry.objects.filter(action="policy.changed").count() == 1
    assert AuditEntry.objects.get(action="approval.expired").payload["token_id"] is None


def test_policy_changes_are_not_gated_when_the_policy_is_off_or_does_not_gate_them(org):
    answer = org.clients["compliance"].put(POLICY, {"require_mica_compliant": True}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["policy"]["require_mica_compliant"] is True
    _approval_policy(org, issuance_policy_changes=False)
    answer = org.clients["compliance"].put(POLICY, {"require_mica_compliant": False}, format="json")
    assert answer.status_code == 200 and answer.json()["policy"]["require_mica_compliant"] is False
    assert not ApprovalRequest.objects.exists()


def test_policy_changes_are_validated_before_they_wait_and_need_the_role(org):
    _approval_policy(org)
    for body in ({}, {"allowed_networks": ["nope"]}, {"blocked_issuer_countries": ["XX"]}, {"unknown": True}):
        answer = org.clients["owner"].put(POLICY, body, format="json")
        assert answer.status_code == 400 and answer.json()["code"] == "VALIDATION_ERROR", body
    for role in ("issuer", "approver"):
        answer = org.clients[role].put(POLICY, {"allow_out_of_scope": False}, format="json")
        assert answer.status_code == 403 and answer.json()["code"] == "PERMISSION_DENIED", role
    assert not ApprovalRequest.objects.exists()


def test_a_replayed_idempotency_key_answers_the_same_approval_request(org):
    _approval_policy(org)
    first = org.clients["admin"].put(POLICY, {"allow_out_of_scope": False}, format="json",
                                     HTTP_IDEMPOTENCY_KEY="policy-1")
    again = org.clients["admin"].put(POLICY, {"allow_out_of_scope": False}, format="json",
                                     HTTP_IDEMPOTENCY_KEY="policy-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert ApprovalRequest.objects.count() == 1
    other = org.clients["admin"].put(POLICY, {"allow_out_of_scope": True}, format="json",
                                     HTTP_IDEMPOTENCY_KEY="policy-1")
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_KEY_MISMATCH"


def test_a_requester_demoted_while_it_waited_does_not_get_the_change_made(org):
    _approval_policy(org)
    body = org.clients["compliance"].put(POLICY, {"allow_out_of_scope": False}, format="json").json()
    Membership.objects.filter(user=org.users["compliance"]).update(role="issuer")  # no manage_issuance_policy
    refused = _approve(org, "approver", body["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "REQUESTER_NOT_PERMITTED"
    assert _policy(org) is None and ApprovalRequest.objects.get(pk=body["id"]).status == "pending_approval"


# ---- allow-list bulk writes ----------------------------------------------------------------------------
@pytest.fixture
def token(org):
    return token_of(DeploymentFactory(organization=org.organization, creator=org.users["owner"], status="completed"),
                    standard="erc20-security")


def _bulk(org, token, rows, role="issuer", **headers):
    return org.clients[role].post(f"{base(token)}/allowlist/bulk", {"entries": rows}, format="json", **headers)


def _syncs(token) -> int:
    return Operation.objects.filter(token=token, kind="allowlist_sync").count()


def test_a_bulk_above_the_threshold_waits_writes_nothing_and_queues_nothing_until_approved(org, token):
    _approval_policy(org, allowlist_bulk_above=2)
    rows = [{"address": address(), "jurisdiction": "DE"} for _ in range(2)] + [{"email": org.users["approver"].email}]
    answer = _bulk(org, token, rows)
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["kind"] == "allowlist_bulk" and body["token_id"] == str(token.pk)
    assert body["gated_by"] == "allowlist_bulk_above" and body["request"]["rows"] == 3
    member, _ = member_address(token=token, email=org.users["approver"].email)  # given by e-mail, shown by address
    assert [e["address"] for e in body["request"]["entries"]] == [rows[0]["address"], rows[1]["address"], member]
    assert "email" not in body["request"]["entries"][2]
    assert not AllowListEntry.objects.filter(token=token).exists() and _syncs(token) == 0
    assert not AuditEntry.objects.filter(action__startswith="allowlist.").exists()

    assert _approve(org, "issuer", body["id"]).status_code == 403  # the issuer holds no `approve`
    approved = _approve(org, "approver", body["id"])
    assert approved.status_code == 200, approved.content
    result = approved.json()["result"]
    entries = AllowListEntry.objects.filter(token=token).order_by("created_at")
    assert sorted(e.address for e in entries) == sorted([rows[0]["address"], rows[1]["address"], member])
    assert _syncs(token) == 1
    sync = Operation.objects.get(token=token, kind="allowlist_sync")
    assert result["count"] == 3 and result["sync_operation_ids"] == [str(sync.pk)]
    assert sorted(result["entry_ids"]) == sorted(str(e.pk) for e in entries)
    assert {e.sync_operation_id for e in entries} == {sync.pk}
    assert AuditEntry.objects.filter(action="allowlist.added").count() == 3


def test_a_bulk_at_the_threshold_is_written_at_once_and_a_disabled_policy_gates_nothing(org, token):
    _approval_policy(org, allowlist_bulk_above=2)
    answer = _bulk(org, token, [{"address": address()} for _ in range(2)])
    assert answer.status_code == 200 and answer.json()["count"] == 2
    _approval_policy(org, enabled=False)
    answer = _bulk(org, token, [{"address": address()} for _ in range(5)])
    assert answer.status_code == 200 and answer.json()["count"] == 5
    _approval_policy(org, allowlist_bulk_above=None)
    assert _bulk(org, token, [{"address": address()} for _ in range(3)]).status_code == 200
    assert not ApprovalRequest.objects.exists() and _syncs(token) == 3


def test_a_bulk_is_checked_before_it_waits_and_again_when_approved(org, token):
    _approval_policy(org, allowlist_bulk_above=1)
    owner = SimpleNamespace(client=org.clients["owner"])  # what `rules` takes
    rules(owner, token, blocked_countries=["KP"])
    refused = _bulk(org, token, [{"address": address(), "jurisdiction": "DE"},
                                 {"address": address(), "jurisdiction": "KP"}])
    assert refused.status_code == 422 and refused.json()["code"] == "ALLOWLIST_RULE_VIOLATION"
    assert not ApprovalRequest.objects.exists()

    body = _bulk(org, token, [{"address": address(), "jurisdiction": "DE"},
                              {"address": address(), "jurisdiction": "FR"}], role="compliance").json()
    assert body["status"] == "pending_approval"
    assert _approve(org, "compliance", body["id"]).json()["code"] == "APPROVER_IS_REQUESTER"
    rules(owner, token, blocked_countries=["FR"])  # the state changes
    late = _approve(org, "approver", body["id"])
    assert late.status_code == 422 and late.json()["code"] == "ALLOWLIST_RULE_VIOLATION"
    assert late.json()["details"]["rows"][0]["row"] == 1
    waiting = ApprovalRequest.objects.get(pk=body["id"])
    assert waiting.status == "pending_approval" and not waiting.decisions.exists()  # rolled back
    assert not AllowListEntry.objects.filter(token=token).exists() and _syncs(token) == 0
    rules(owner, token, blocked_countries=[])
    assert _approve(org, "approver", body["id"]).status_code == 200
    assert AllowListEntry.objects.filter(token=token).count() == 2


def test_a_rejected_bulk_writes_nothing(org, token):
    _approval_policy(org, allowlist_bulk_above=1, approvals_required=2)
    body = _bulk(org, token, [{"address": address()}, {"address": address()}]).json()
    first = _approve(org, "approver", body["id"])
    assert first.status_code == 200 and first.json()["status"] == "pending_approval"  # 1 of 2
    assert _approve(org, "approver", body["id"]).json()["code"] == "APPROVAL_ALREADY_DECIDED"
    rejected = org.clients["owner"].post(f"/api/v1/approvals/{body['id']}/reject", {"comment": "no"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert not AllowListEntry.objects.filter(token=token).exists() and _syncs(token) == 0


def test_a_csv_import_above_the_threshold_waits_and_is_imported_when_approved(org, token):
    _approval_policy(org, allowlist_bulk_above=2)
    addresses = [address() for _ in range(3)]
    csv = "address,jurisdiction,kyc_verified_at\n" + "".join(f"{a},DE,2026-01-02T03:04:05Z\n" for a in addresses)
    answer = org.clients["issuer"].post(f"{base(token)}/allowlist/import", csv, content_type="text/csv",
                                        HTTP_IDEMPOTENCY_KEY="csv-1")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["request"]["source"] == "csv" and body["request"]["csv"]["bytes"] == len(csv.encode())
    replay = org.clients["issuer"].post(f"{base(token)}/allowlist/import", csv, content_type="text/csv",
                                        HTTP_IDEMPOTENCY_KEY="csv-1")
    assert replay.json()["id"] == body["id"] and ApprovalRequest.objects.count() == 1
    assert not AllowListEntry.objects.filter(token=token).exists() and _syncs(token) == 0
    assert not AuditEntry.objects.filter(action="import.allowlist").exists()

    assert _approve(org, "owner", body["id"]).status_code == 200
    entries = AllowListEntry.objects.filter(token=token)
    assert sorted(e.address for e in entries) == sorted(addresses) and _syncs(token) == 1
    assert all(e.kyc_verified_at.isoformat() == "2026-01-02T03:04:05+00:00" for e in entries)
    imported = AuditEntry.objects.get(action="import.allowlist")
    assert imported.payload["rows"] == 3 and imported.payload["sha256"] == body["request"]["csv"]["sha256"]


def test_the_admin_queue_shows_the_requests_about_no_operation(org, token, client):
    from django.contrib.auth.models import Group

    from tests.otp import otp_force_login

    _approval_policy(org, allowlist_bulk_above=1)
    change = org.clients["admin"].put(POLICY, {"allow_out_of_scope": False}, format="json").json()
    bulk = _bulk(org, token, [{"address": address()}, {"address": address()}]).json()
    staff = org.users["approver"]
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    staff.groups.add(Group.objects.get(name="compliance"))
    otp_force_login(client, staff)
    page = client.get("/admin/deployments/approvalrequest/")
    assert page.status_code == 200
    assert change["id"] in page.content.decode() and bulk["id"] in page.content.decode()
    answer = client.post("/admin/deployments/approvalrequest/", {
        "action": "approve_selected", "_selected_action": [change["id"], bulk["id"]]}, follow=True)
    assert answer.status_code == 200
    assert set(ApprovalRequest.objects.values_list("status", flat=True)) == {"approved"}
    assert _policy(org)["allow_out_of_scope"] is False and AllowListEntry.objects.filter(token=token).count() == 2


def test_the_approvers_mail_of_an_issuance_policy_change_names_no_token(org):
    from accounts.notifications_models import EmailNotification, NotificationKind
    from accounts.notifications_render import email_render

    _approval_policy(org)
    org.clients["admin"].put(POLICY, {"allow_out_of_scope": False}, format="json")
    mail = EmailNotification.objects.filter(kind=NotificationKind.APPROVAL_REQUESTED).first()
    assert mail is not None and mail.context["token_id"] == ""
    text = email_render(mail.kind, mail.context)
    assert "a change of the organization: issuance_policy_change" in text.text and "on token" not in text.text
