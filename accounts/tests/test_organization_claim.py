"""The active organization chosen by the access token's claim `org` (login, MFA login, refresh with
`organization_id`), under the header X-Organization-Id and over the primary membership
(accounts/organization_context.py)."""
from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.state import token_backend

from accounts.models import Membership, Organization, User
from conftest import DEFAULT_PASSWORD, auth_client
from deployments.tests.factories import DeploymentFactory
from webhooks.models import WebhookSubscription

pytestmark = pytest.mark.django_db
HOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}


def _login(email: str, **extra):
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": DEFAULT_PASSWORD, **extra},
                            format="json")


def _claim(tokens: dict) -> str | None:
    return token_backend.decode(tokens["access"], verify=True).get("org")


def _listed(client: APIClient, **headers) -> set[str]:
    response = client.get("/api/v1/token/deployments", **headers)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def two_organizations(user_factory):
    """`member` owns their own organization and is an admin of `owner`'s; one deployment in each."""
    owner_body, _ = user_factory("claim.owner")
    member_body, _ = user_factory("claim.member")
    owner = User.objects.get(pk=owner_body["id"])
    member = User.objects.get(pk=member_body["id"])
    theirs = Membership.objects.get(user=owner).organization
    own = Membership.objects.get(user=member).organization
    Membership.objects.create(user=member, organization=theirs, role=Membership.Role.ADMIN)
    in_theirs = DeploymentFactory(organization=theirs, creator=owner)
    in_own = DeploymentFactory(organization=own, creator=member)
    return member, own, theirs, str(in_own.pk), str(in_theirs.pk)


def test_the_claim_chooses_the_organization_of_lists_and_creates(two_organizations):
    member, own, theirs, in_own, in_theirs = two_organizations
    plain = _login(member.email)
    assert plain.status_code == 200 and _claim(plain.json()) is None
    assert _listed(auth_client(plain.json())) == {in_own}  # the primary organization
    chosen = _login(member.email, organization_id=str(theirs.pk))
    assert chosen.status_code == 200, chosen.content
    tokens = chosen.json()
    assert _claim(tokens) == str(theirs.pk)
    client = auth_client(tokens)
    assert _listed(client) == {in_theirs}
    created = client.post("/api/v1/webhooks/subscriptions", HOOK, format="json")
    assert created.status_code == 201, created.content
    assert WebhookSubscription.objects.get(pk=created.json()["id"]).organization_id == theirs.pk
    policy = client.get("/api/v1/compliance/policy")  # the organization-wide compliance reads too
    assert policy.status_code == 200 and policy.json()["organization_id"] == str(theirs.pk)
    # The header overrides the claim, for reads and creates.
    assert _listed(client, HTTP_X_ORGANIZATION_ID=str(own.pk)) == {in_own}
    other = client.post("/api/v1/webhooks/subscriptions", HOOK, format="json", HTTP_X_ORGANIZATION_ID=str(own.pk))
    assert other.status_code == 201
    assert WebhookSubscription.objects.get(pk=other.json()["id"]).organization_id == own.pk
    # Routes naming an object are unaffected: the member reads their own deployment with either claim.
    assert client.get(f"/api/v1/token/deployments/{in_own}").status_code == 200


def test_a_claim_of_an_organization_left_gives_nothing(two_organizations):
    member, own, theirs, in_own, in_theirs = two_organizations
    tokens = _login(member.email, organization_id=str(theirs.pk)).json()
    client = auth_client(tokens)
    assert _listed(client) == {in_theirs}
    Membership.objects.filter(user=member, organization=theirs).delete()
    assert _listed(client) == set()  # never the primary organization's, never the other tenant's
    refused = client.post("/api/v1/webhooks/subscriptions", HOOK, format="json")
    assert refused.status_code == 404 and refused.json()["code"] == "NOT_FOUND"
    assert not WebhookSubscription.objects.exists()
    assert client.get(f"/api/v1/token/deployments/{in_theirs}").status_code == 404
    # A refresh keeps the claim (it grants nothing), so the client still sees nothing rather than
    # silently acting in another organization.
    refreshed = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200 and _claim(refreshed.json()) == str(theirs.pk)
    assert _listed(auth_client(refreshed.json())) == set()


def test_refresh_keeps_the_claim_and_can_switch(two_organizations):
    member, own, theirs, in_own, in_theirs = two_organizations
    tokens = _login(member.email, organization_id=str(theirs.pk)).json()
    kept = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert kept.status_code == 200, kept.content
    assert _claim(kept.json()) == str(theirs.pk) and _listed(auth_client(kept.json())) == {in_theirs}
    stranger = Organization.objects.create(name="Not the member's")
    refused = APIClient().post("/api/v1/auth/refresh", {"refresh": kept.json()["refresh"],
                                                        "organization_id": str(stranger.pk)}, format="json")
    assert refused.status_code == 404 and refused.json()["code"] == "NOT_FOUND"
    switched = APIClient().post("/api/v1/auth/refresh", {"refresh": kept.json()["refresh"],  # still usable
                                                         "organization_id": str(own.pk)}, format="json")
    assert switched.status_code == 200, switched.content
    assert _claim(switched.json()) == str(own.pk) and _listed(auth_client(switched.json())) == {in_own}
    # Reuse of the rotated-out token is still reuse, whatever organization it asks for: all revoked.
    reused = APIClient().post("/api/v1/auth/refresh", {"refresh": kept.json()["refresh"],
                                                       "organization_id": str(stranger.pk)}, format="json")
    assert reused.status_code == 401
    assert auth_client(switched.json()).get("/api/v1/token/deployments").status_code == 401


def test_an_organization_not_of_the_user_at_login_is_a_stable_error(two_organizations):
    member, _own, _theirs, _, _ = two_organizations
    stranger = Organization.objects.create(name="Not the member's")
    refused = _login(member.email, organization_id=str(stranger.pk))
    assert refused.status_code == 404
    body = refused.json()
    assert body["code"] == "NOT_FOUND" and "access" not in body and "refresh" not in body
    malformed = _login(member.email, organization_id="not-a-uuid")
    assert malformed.status_code == 400 and malformed.json()["code"] == "VALIDATION_ERROR"
    assert "organization_id" in malformed.json()["details"]["fields"]
    wrong_password = APIClient().post("/api/v1/auth/login", {"email": member.email, "password": "wrong" * 4,
                                                             "organization_id": str(stranger.pk)}, format="json")
    assert wrong_password.status_code == 401  # credentials first: the organization tells nothing before them


def test_the_mfa_login_carries_the_first_steps_organization(two_organizations):
    member, own, theirs, _in_own, in_theirs = two_organizations
    client = auth_client(_login(member.email).json())
    secret = client.post("/api/v1/account/mfa/totp").json()["secret"]
    key = b32decode(secret + "=" * (-len(secret) % 8))
    assert client.post("/api/v1/account/mfa/totp/confirm", {"code": str(totp(key)).zfill(6)},
                       format="json").status_code == 200
    TOTPDevice.objects.filter(user=member).update(last_t=-1)
    first = _login(member.email, organization_id=str(theirs.pk))
    assert first.status_code == 401 and first.json()["code"] == "MFA_REQUIRED"
    done = APIClient().post("/api/v1/auth/login/mfa", {"challenge": first.json()["details"]["challenge"],
                                                       "code": str(totp(key)).zfill(6)}, format="json")
    assert done.status_code == 200, done.content
    assert _claim(done.json()) == str(theirs.pk) and _listed(auth_client(done.json())) == {in_theirs}
    stranger = Organization.objects.create(name="Not the member's")
    TOTPDevice.objects.filter(user=member).update(last_t=-1)
    again = _login(member.email).json()["details"]["challenge"]
    refused = APIClient().post("/api/v1/auth/login/mfa", {"challenge": again, "code": str(totp(key)).zfill(6),
                                                          "organization_id": str(stranger.pk)}, format="json")
    assert refused.status_code == 404 and refused.json()["code"] == "NOT_FOUND"
