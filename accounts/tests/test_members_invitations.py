"""Members and invitations (issue 20, item 1): the invitation lifecycle (accept as a new or an
existing user, expiry, reuse refused, wrong e-mail refused, revocation), the last owner protected,
the role ceiling, and the active organization chosen per request (`X-Organization-Id`)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import members_services
from accounts.models import Invitation, Membership, User
from biatec.audit.models import AuditEntry
from conftest import DEFAULT_PASSWORD, auth_client
from deployments.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db


def _org(body: dict) -> str:
    return str(Membership.objects.get(user_id=body["id"]).organization_id)


def _invite(client: APIClient, organization_id: str, email: str, role: str = "issuer", expect: int = 201) -> dict:
    response = client.post(f"/api/v1/organizations/{organization_id}/invitations", {"email": email, "role": role},
                           format="json")
    assert response.status_code == expect, response.content
    return response.json()


def _accept(client: APIClient, token: str, **extra: str) -> object:
    return client.post("/api/v1/invitations/accept", {"token": token, **extra}, format="json")


def _joined(client: APIClient, token: str) -> None:
    response = _accept(client, token)
    assert response.status_code == 200, response.content


@pytest.fixture
def owner(user_factory) -> tuple[dict, APIClient, str]:
    body, client = user_factory("inv.owner")
    return body, client, _org(body)


def test_a_new_user_accepts_and_is_registered_as_at_sign_up(owner, json_logs):
    _, client, org = owner
    invitation = _invite(client, org, "New.Person@Example.com", role="compliance")
    assert invitation["email"] == "new.person@example.com" and invitation["status"] == "pending"
    token = invitation["token"]
    assert token not in json_logs.text  # never logged

    response = _accept(APIClient(), token, password=DEFAULT_PASSWORD)
    assert response.status_code == 201, response.content
    body = response.json()
    user = User.objects.get(email="new.person@example.com")
    assert body["user_id"] == str(user.pk) and body["role"] == "compliance" and body["tokens"]["access"]
    assert user.algorand_address and user.arc76_secret_id  # the ARC-76 account, as at sign-up
    roles = dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))
    assert roles[Membership.objects.get(pk=body["membership_id"]).organization_id] == "compliance"
    assert "owner" in roles.values()  # their own organization, as every sign-up gets

    listed = client.get(f"/api/v1/organizations/{org}/invitations").json()["results"]
    assert listed[0]["status"] == "accepted" and "token" not in listed[0]
    assert Invitation.objects.get(pk=invitation["id"]).token_hash not in token  # only a hash is stored
    actions = set(AuditEntry.objects.filter(organization_id=org).values_list("action", flat=True))
    assert {"invitation.created", "invitation.accepted", "membership.added"} <= actions


def test_an_existing_user_accepts_signed_in_as_the_invited_e_mail(owner, user_factory):
    _, client, org = owner
    bob, bob_client = user_factory("inv.bob")
    token = _invite(client, org, "inv.bob@example.com", role="viewer")["token"]
    assert _accept(APIClient(), token, password=DEFAULT_PASSWORD).json()["code"] == "INVITATION_LOGIN_REQUIRED"

    response = _accept(bob_client, token)
    assert response.status_code == 200, response.content
    assert response.json()["tokens"] is None
    assert Membership.objects.get(user_id=bob["id"], organization_id=org).role == "viewer"
    members = client.get(f"/api/v1/organizations/{org}/members").json()["results"]
    assert {m["email"]: m["role"] for m in members} == {"inv.owner@example.com": "owner",
                                                         "inv.bob@example.com": "viewer"}


def test_reuse_is_refused(owner):
    _, client, org = owner
    token = _invite(client, org, "inv.once@example.com")["token"]
    assert _accept(APIClient(), token, password=DEFAULT_PASSWORD).status_code == 201
    again = _accept(APIClient(), token, password=DEFAULT_PASSWORD)
    assert (again.status_code, again.json()["code"]) == (409, "INVITATION_ALREADY_USED")
    assert Membership.objects.filter(organization_id=org).count() == 2


def test_a_wrong_e_mail_is_refused(owner, user_factory):
    _, client, org = owner
    _, mallory = user_factory("inv.mallory")
    token = _invite(client, org, "inv.victim@example.com")["token"]
    for response in (_accept(mallory, token), _accept(APIClient(), token, email="inv.mallory@example.com",
                                                      password=DEFAULT_PASSWORD)):
        assert (response.status_code, response.json()["code"]) == (403, "INVITATION_EMAIL_MISMATCH")
    assert Invitation.objects.get(email="inv.victim@example.com").status == "pending"
    assert Membership.objects.filter(organization_id=org).count() == 1


def test_expiry_is_refused(owner, settings):
    _, client, org = owner
    invitation = _invite(client, org, "inv.late@example.com")
    Invitation.objects.filter(pk=invitation["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _accept(APIClient(), invitation["token"], password=DEFAULT_PASSWORD)
    assert (response.status_code, response.json()["code"]) == (410, "INVITATION_EXPIRED")
    assert not User.objects.filter(email="inv.late@example.com").exists()

    settings.INVITATION_TTL_SECONDS = 0  # the signature's own age is checked as well
    fresh = _invite(client, org, "inv.late@example.com")  # the expired one is superseded
    assert _accept(APIClient(), fresh["token"], password=DEFAULT_PASSWORD).json()["code"] == "INVITATION_EXPIRED"


def test_a_forged_or_revoked_token_is_refused(owner):
    _, client, org = owner
    invitation = _invite(client, org, "inv.revoked@example.com")
    forged = signing.dumps({"i": invitation["id"], "s": "guess"}, salt=members_services.TOKEN_SALT)
    for token in (forged, invitation["token"] + "x", "nonsense"):
        response = _accept(APIClient(), token, password=DEFAULT_PASSWORD)
        assert (response.status_code, response.json()["code"]) == (400, "INVITATION_INVALID")
    assert client.delete(f"/api/v1/organizations/{org}/invitations/{invitation['id']}").status_code == 204
    response = _accept(APIClient(), invitation["token"], password=DEFAULT_PASSWORD)
    assert (response.status_code, response.json()["code"]) == (410, "INVITATION_REVOKED")


def test_the_last_owner_cannot_leave_be_removed_or_be_demoted(owner, user_factory):
    body, client, org = owner
    own = str(Membership.objects.get(user_id=body["id"]).pk)
    assert client.post(f"/api/v1/organizations/{org}/members/leave").json()["code"] == "LAST_OWNER"
    assert client.patch(f"/api/v1/organizations/{org}/members/{own}", {"role": "admin"},
                        format="json").json()["code"] == "LAST_OWNER"
    assert client.delete(f"/api/v1/organizations/{org}/members/{own}").json()["code"] == "LAST_OWNER"
    assert Membership.objects.get(pk=own).role == "owner"

    carol, carol_client = user_factory("inv.carol")
    _joined(carol_client, _invite(client, org, "inv.carol@example.com", role="owner")["token"])
    assert client.patch(f"/api/v1/organizations/{org}/members/{own}", {"role": "admin"},
                        format="json").status_code == 200  # another owner exists now
    carols = str(Membership.objects.get(user_id=carol["id"], organization_id=org).pk)
    response = carol_client.patch(f"/api/v1/organizations/{org}/members/{carols}", {"role": "viewer"},
                                  format="json")
    assert (response.status_code, response.json()["code"]) == (409, "LAST_OWNER")
    assert carol_client.post(f"/api/v1/organizations/{org}/members/leave").json()["code"] == "LAST_OWNER"
    assert client.post(f"/api/v1/organizations/{org}/members/leave").status_code == 204  # the admin leaves
    assert client.get(f"/api/v1/organizations/{org}/members").status_code == 404  # no member any more


def test_no_role_above_ones_own_is_granted(owner, user_factory):
    _, client, org = owner
    _, dave_client = user_factory("inv.dave")
    _joined(dave_client, _invite(client, org, "inv.dave@example.com", role="admin")["token"])
    response = _invite(dave_client, org, "inv.eve@example.com", role="owner", expect=403)
    assert response["code"] == "ROLE_NOT_GRANTABLE"
    owner_membership = Membership.objects.get(organization_id=org, role="owner")
    for call in (dave_client.patch(f"/api/v1/organizations/{org}/members/{owner_membership.pk}", {"role": "viewer"},
                                   format="json"),
                 dave_client.delete(f"/api/v1/organizations/{org}/members/{owner_membership.pk}")):
        assert (call.status_code, call.json()["code"]) == (403, "ROLE_NOT_GRANTABLE")
    assert _invite(dave_client, org, "inv.eve@example.com", role="issuer")["role"] == "issuer"
    assert _invite(dave_client, org, "inv.eve@example.com", role="issuer", expect=409)["code"] == "INVITATION_PENDING"
    assert _invite(dave_client, org, "inv.owner@example.com", expect=409)["code"] == "ALREADY_MEMBER"


def test_the_active_organization_is_chosen_per_request(owner, user_factory):
    _, client, org = owner
    frank, frank_client = user_factory("inv.frank")
    own = _org(frank)
    _joined(frank_client, _invite(client, org, "inv.frank@example.com", role="admin")["token"])
    hook = {"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}
    default = frank_client.post("/api/v1/webhooks/subscriptions", hook, format="json")
    chosen = frank_client.post("/api/v1/webhooks/subscriptions", hook, format="json", HTTP_X_ORGANIZATION_ID=org)
    assert default.json()["organization_id"] == own and chosen.json()["organization_id"] == org
    listed = frank_client.get("/api/v1/webhooks/subscriptions", HTTP_X_ORGANIZATION_ID=org).json()["results"]
    assert [s["organization_id"] for s in listed] == [org]
    assert [s["organization_id"] for s in frank_client.get("/api/v1/webhooks/subscriptions").json()["results"]] == [own]
    frank_user = User.objects.get(pk=frank["id"])
    theirs = DeploymentFactory(organization_id=org, creator=frank_user)
    mine = DeploymentFactory(organization_id=own, creator=frank_user)
    for header, expected in (({"HTTP_X_ORGANIZATION_ID": org}, theirs), ({}, mine)):
        rows = frank_client.get("/api/v1/token/deployments", **header).json()["results"]
        assert [r["id"] for r in rows] == [str(expected.pk)]
    assert frank_client.get(f"/api/v1/token/deployments/{theirs.pk}").status_code == 200  # objects: any of theirs
    stranger = _org(user_factory("inv.stranger")[0])
    for value in (stranger, "not-a-uuid"):
        response = frank_client.post("/api/v1/webhooks/subscriptions", hook, format="json",
                                     HTTP_X_ORGANIZATION_ID=value)
        assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


def test_a_removed_member_loses_access_at_once(owner, user_factory):
    body, client, org = owner
    grace, grace_client = user_factory("inv.grace")
    _joined(grace_client, _invite(client, org, "inv.grace@example.com", role="issuer")["token"])
    membership = Membership.objects.get(user_id=grace["id"], organization_id=org)
    assert grace_client.get(f"/api/v1/organizations/{org}/members").status_code == 200
    assert client.delete(f"/api/v1/organizations/{org}/members/{membership.pk}").status_code == 204
    assert grace_client.get(f"/api/v1/organizations/{org}/members").status_code == 404
    assert auth_client(grace["tokens"]).get(f"/api/v1/account/organizations/{org}").status_code == 404
    assert AuditEntry.objects.filter(organization_id=org, action="membership.removed").exists()


def test_the_admin_shows_invitations_read_only_to_the_compliance_group(owner):
    from django.contrib.auth.models import Group
    from django.test import Client

    from tests.otp import otp_force_login

    _, client, org = owner
    invitation = _invite(client, org, "inv.admin@example.com")
    officer = User.objects.create_user("inv.officer@example.com", "an officer's long password 1", is_staff=True)
    officer.groups.add(Group.objects.get(name="compliance"))
    staff = Client()
    otp_force_login(staff, officer)
    page = staff.get(f"/admin/accounts/invitation/{invitation['id']}/change/")
    assert page.status_code == 200 and b"inv.admin@example.com" in page.content
    assert Invitation.objects.get(pk=invitation["id"]).token_hash.encode() not in page.content
    assert staff.get("/admin/accounts/invitation/add/").status_code == 403
    assert staff.post(f"/admin/accounts/invitation/{invitation['id']}/delete/", {"post": "yes"}).status_code == 403
    assert Invitation.objects.filter(pk=invitation["id"]).exists()


def test_membership_changes_are_webhook_events(owner, user_factory):
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_subscription_create

    body, client, org = owner
    webhook_subscription_create(organization=Membership.objects.get(user_id=body["id"]).organization,
                                actor=User.objects.get(pk=body["id"]), url="http://127.0.0.1:9/hooks",
                                event_types=["member.added", "member.role_changed", "member.removed"],
                                networks=["evm-local"])  # organization-level events ignore the filters
    henry, henry_client = user_factory("inv.henry")
    _joined(henry_client, _invite(client, org, "inv.henry@example.com", role="viewer")["token"])
    membership = Membership.objects.get(user_id=henry["id"], organization_id=org)
    assert client.patch(f"/api/v1/organizations/{org}/members/{membership.pk}", {"role": "approver"},
                        format="json").status_code == 200
    assert client.delete(f"/api/v1/organizations/{org}/members/{membership.pk}").status_code == 204
    sent = list(WebhookEvent.objects.filter(organization_id=org).order_by("created_at").values_list("type", "payload"))
    assert [t for t, _ in sent] == ["member.added", "member.role_changed", "member.removed"]
    assert sent[1][1]["data"] == {"membership_id": str(membership.pk), "organization_id": org,
                                  "user_id": henry["id"], "role": "approver", "previous_role": "viewer"}
