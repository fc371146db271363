"""Organization API keys (issue 20 item 4; docs/api-keys.md): create, use, the secret never
retrievable again, revoke effective on the next request, expiry, the IP allow list, the role
ceiling, the key's role applied by the one permission class on existing endpoints, the key as the
actor of audit entries, history rows and security events, the key's own throttle."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, Membership, SecurityEvent, User
from biatec.audit.models import AuditEntry
from deployments.models import DeploymentEvent
from deployments.tests.factories import DeploymentFactory
from webhooks.models import WebhookSubscription

from .throttling import throttle_sandbox  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _org(body: dict) -> str:
    return str(Membership.objects.get(user_id=body["id"]).organization_id)


def _create(client: APIClient, org: str, expect: int = 201, **values: object) -> dict:
    body = {"name": "server", "role": "viewer", **values}
    response = client.post(f"/api/v1/organizations/{org}/api-keys", body, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def _key_client(key: str, *, header: str = "authorization", **extra: str) -> APIClient:
    client = APIClient(**extra)
    if header == "authorization":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    else:
        client.credentials(HTTP_X_API_KEY=key)
    return client


@pytest.fixture
def owner(user_factory) -> tuple[dict, APIClient, str]:
    body, client = user_factory("keys.owner")
    return body, client, _org(body)


def _member(user_factory, org: str, name: str, role: str) -> tuple[User, APIClient]:
    body, client = user_factory(name)
    user = User.objects.get(pk=body["id"])
    Membership.objects.create(user=user, organization_id=org, role=role)
    return user, client


def test_create_returns_the_key_once_stored_hashed_never_shown_again(owner, json_logs):
    body, client, org = owner
    created = _create(client, org, name="billing server", role="issuer")
    key = created["key"]
    assert key.startswith(created["prefix"] + ".") and created["role"] == "issuer"
    assert created["status"] == "active" and created["last_used_at"] is None
    row = ApiKey.objects.get(pk=created["id"])
    assert row.organization_id.hex == org.replace("-", "") and str(row.created_by_id) == body["id"]
    assert key not in str(list(ApiKey.objects.filter(pk=row.pk).values()))  # only prefix and hash
    assert row.hashed_key.startswith("sha512$$") and row.secret_matches(key)

    listed = client.get(f"/api/v1/organizations/{org}/api-keys")
    detail = client.get(f"/api/v1/organizations/{org}/api-keys/{row.pk}")
    assert listed.status_code == 200 and detail.status_code == 200
    assert [k["id"] for k in listed.json()["results"]] == [created["id"]]
    for response in (listed, detail):
        text = response.content.decode()
        assert key not in text and key.split(".")[1] not in text and row.hashed_key.split("$$")[1] not in text
        assert "key" not in (response.json().get("results") or [response.json()])[0]
    assert key.split(".")[1] not in json_logs.text  # never logged

    event = SecurityEvent.objects.get(event_type=SecurityEvent.Type.API_KEY_CREATED)
    assert event.details["api_key_id"] == created["id"] and key not in str(event.details)
    entry = AuditEntry.objects.get(action="api_key.created")
    assert entry.actor == f"user:{body['id']}" and entry.object_id == created["id"]


def test_a_key_acts_in_its_organization_with_its_role(owner, user_factory):
    body, client, org = owner
    owner_user = User.objects.get(pk=body["id"])
    mine = DeploymentFactory(organization_id=org, creator=owner_user)
    other_body, _ = user_factory("keys.other")
    theirs = DeploymentFactory(organization_id=_org(other_body), creator=User.objects.get(pk=other_body["id"]))
    key = _create(client, org, role="viewer")["key"]

    for keyed in (_key_client(key), _key_client(key, header="x-api-key")):
        listed = keyed.get("/api/v1/token/deployments")
        assert listed.status_code == 200, listed.content
        assert [d["id"] for d in listed.json()["results"]] == [str(mine.pk)]
        assert keyed.get(f"/api/v1/token/deployments/{mine.pk}").status_code == 200
        # Another organization's objects: 404, exactly as for a non-member.
        assert keyed.get(f"/api/v1/token/deployments/{theirs.pk}").json()["code"] == "NOT_FOUND"
        assert keyed.get(f"/api/v1/organizations/{_org(other_body)}/members").json()["code"] == "NOT_FOUND"
        assert keyed.get("/api/v1/token/deployments", HTTP_X_ORGANIZATION_ID=_org(other_body)).json()[
            "results"] == []
    assert ApiKey.objects.get(prefix=key.split(".")[0]).last_used_at is not None


def test_the_key_role_is_applied_by_the_one_permission_class(owner, user_factory):
    body, client, org = owner
    owner_user = User.objects.get(pk=body["id"])
    deployment = DeploymentFactory(organization_id=org, creator=owner_user)
    viewer = _key_client(_create(client, org, role="viewer")["key"])
    hook = {"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}

    refused = viewer.post("/api/v1/webhooks/subscriptions", hook, format="json")
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "PERMISSION_DENIED"
    assert refused.json()["details"] == {"action": "manage_webhooks", "role": "viewer"}
    cancel = viewer.post(f"/api/v1/token/deployments/{deployment.pk}/cancel", {"reason": "no"}, format="json")
    assert cancel.json()["code"] == "PERMISSION_DENIED" and cancel.json()["details"]["role"] == "viewer"
    assert not WebhookSubscription.objects.filter(organization_id=org).exists()

    admin_key = _create(client, org, role="admin")
    admin = _key_client(admin_key["key"])
    made = admin.post("/api/v1/webhooks/subscriptions", hook, format="json")
    assert made.status_code == 201, made.content
    subscription = WebhookSubscription.objects.get(pk=made.json()["id"])
    history = subscription.history.first()
    assert history.history_change_reason == f"api_key:{admin_key['id']}"  # the key, in the history row

    cancelled = admin.post(f"/api/v1/token/deployments/{deployment.pk}/cancel", {"reason": "by key"},
                           format="json")
    assert cancelled.status_code == 200, cancelled.content
    actor = f"api_key:{admin_key['id']}"
    assert DeploymentEvent.objects.filter(deployment=deployment, actor=actor).exists()
    assert AuditEntry.objects.filter(organization_id=org, actor=actor, object_id=str(deployment.pk)).exists()


def test_revoke_takes_effect_on_the_next_request(owner):
    body, client, org = owner
    created = _create(client, org)
    keyed = _key_client(created["key"])
    assert keyed.get("/api/v1/token/deployments").status_code == 200
    response = client.delete(f"/api/v1/organizations/{org}/api-keys/{created['id']}")
    assert response.status_code == 204
    refused = keyed.get("/api/v1/token/deployments")
    assert refused.status_code == 401 and refused.json()["code"] == "API_KEY_REVOKED"
    detail = client.get(f"/api/v1/organizations/{org}/api-keys/{created['id']}").json()
    assert detail["status"] == "revoked" and detail["revoked_by"] == body["id"]
    assert client.delete(f"/api/v1/organizations/{org}/api-keys/{created['id']}").status_code == 204  # again
    assert AuditEntry.objects.filter(action="api_key.revoked", object_id=created["id"]).count() == 1
    assert SecurityEvent.objects.filter(event_type=SecurityEvent.Type.API_KEY_REVOKED).count() == 1


def test_expiry(owner):
    _, client, org = owner
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    refused = _create(client, org, expect=400, expires_at=past)
    assert refused["code"] == "VALIDATION_ERROR" and "expires_at" in refused["details"]["fields"]
    created = _create(client, org, expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    keyed = _key_client(created["key"])
    assert keyed.get("/api/v1/token/deployments").status_code == 200
    ApiKey.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = keyed.get("/api/v1/token/deployments")
    assert response.status_code == 401 and response.json()["code"] == "API_KEY_EXPIRED"
    assert client.get(f"/api/v1/organizations/{org}/api-keys/{created['id']}").json()["status"] == "expired"


def test_ip_allow_list(owner, settings):
    body, client, org = owner
    bad = _create(client, org, expect=400, allowed_ips=["10.0.0.0/8", "not a network"])
    assert "allowed_ips" in bad["details"]["fields"]
    created = _create(client, org, allowed_ips=["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])
    assert created["allowed_ips"] == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]
    key = created["key"]

    refused = _key_client(key, REMOTE_ADDR="203.0.113.9").get("/api/v1/token/deployments")
    assert refused.status_code == 403 and refused.json()["code"] == "API_KEY_IP_NOT_ALLOWED"
    event = SecurityEvent.objects.get(event_type=SecurityEvent.Type.API_KEY_IP_REFUSED)
    assert event.ip_address == "203.0.113.9" and event.details["api_key_id"] == created["id"]
    assert AuditEntry.objects.filter(action="security.api_key_ip_refused", actor=f"api_key:{created['id']}",
                                     organization_id=org).exists()
    # X-Forwarded-For is believed only as deep as the trusted proxies (accounts/client.py).
    forged = _key_client(key, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert forged.get("/api/v1/token/deployments").status_code == 403
    for address in ("10.1.2.3", "192.0.2.7", "2001:db8::1"):
        assert _key_client(key, REMOTE_ADDR=address).get("/api/v1/token/deployments").status_code == 200
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxied = _key_client(key, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert proxied.get("/api/v1/token/deployments").status_code == 200


def test_role_ceiling(owner, user_factory):
    body, client, org = owner
    admin_user, admin_client = _member(user_factory, org, "keys.admin", "admin")
    refused = _create(admin_client, org, expect=403, role="owner")
    assert refused["code"] == "ROLE_NOT_GRANTABLE"
    _, issuer_client = _member(user_factory, org, "keys.issuer", "issuer")
    assert _create(issuer_client, org, expect=403)["code"] == "PERMISSION_DENIED"  # manage_api_keys

    # An admin cannot revoke an owner's key either.
    owner_key = _create(client, org, role="owner")
    assert (admin_client.delete(f"/api/v1/organizations/{org}/api-keys/{owner_key['id']}").json()["code"]
            == "ROLE_NOT_GRANTABLE")

    # A key never manages keys (nor members), whatever its role.
    keyed = _key_client(owner_key["key"])
    response = keyed.post(f"/api/v1/organizations/{org}/api-keys", {"name": "x", "role": "owner"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "API_KEY_ROUTE_NOT_ALLOWED"
    assert keyed.get(f"/api/v1/organizations/{org}/api-keys").json()["code"] == "API_KEY_ROUTE_NOT_ALLOWED"
    assert keyed.post(f"/api/v1/organizations/{org}/members/leave").json()["code"] == "API_KEY_ROUTE_NOT_ALLOWED"
    assert keyed.get("/api/v1/auth/profile").json()["code"] == "API_KEY_ROUTE_NOT_ALLOWED"  # a person's account
    assert keyed.get("/api/v1/account/mfa").json()["code"] == "API_KEY_ROUTE_NOT_ALLOWED"
    assert ApiKey.objects.filter(organization_id=org).count() == 1

    # The key never acts above its creator's current role: an admin key of a creator demoted to viewer
    # acts as a viewer; a creator who left the organization takes the key with them.
    admin_key = _create(admin_client, org, role="admin")
    Membership.objects.filter(user=admin_user, organization_id=org).update(role="viewer")
    hook = {"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}
    demoted = _key_client(admin_key["key"]).post("/api/v1/webhooks/subscriptions", hook, format="json")
    assert demoted.status_code == 403 and demoted.json()["details"]["role"] == "viewer"
    Membership.objects.filter(user=admin_user, organization_id=org).delete()
    gone = _key_client(admin_key["key"]).get("/api/v1/token/deployments")
    assert gone.status_code == 401 and gone.json()["code"] == "API_KEY_INVALID"


def test_unknown_or_wrong_keys_are_refused_alike(owner):
    _, client, org = owner
    key = _create(client, org)["key"]
    prefix = key.split(".")[0]
    for wrong in (f"{prefix}.{'x' * 32}", "nope.nope", "no-dot", key + "x", "a" * 500):  # pragma: allowlist secret
        response = _key_client(wrong).get("/api/v1/token/deployments")
        assert response.status_code == 401 and response.json()["code"] == "API_KEY_INVALID", wrong
        assert wrong not in response.content.decode()


def test_a_key_request_costs_one_statement_and_last_use_is_written_at_most_once_a_minute(owner):
    body, client, org = owner
    created = _create(client, org)
    keyed = _key_client(created["key"])
    assert keyed.get("/api/v1/token/deployments").status_code == 200  # first use: writes last_used_at
    first_use = ApiKey.objects.get(pk=created["id"]).last_used_at
    assert first_use is not None
    with CaptureQueriesContext(connection) as by_key:
        assert keyed.get("/api/v1/token/deployments").status_code == 200
    with CaptureQueriesContext(connection) as by_token:
        assert client.get("/api/v1/token/deployments").status_code == 200
    assert len(by_key) == len(by_token) + 1  # the key's SELECT (with its creator and their role)
    assert ApiKey.objects.get(pk=created["id"]).last_used_at == first_use
    ApiKey.objects.filter(pk=created["id"]).update(last_used_at=first_use - timedelta(minutes=2))
    keyed.get("/api/v1/token/deployments")
    assert ApiKey.objects.get(pk=created["id"]).last_used_at > first_use


def test_keys_have_their_own_throttle(owner, throttle_sandbox):  # noqa: F811
    _, client, org = owner
    first, second = _create(client, org)["key"], _create(client, org)["key"]
    throttle_sandbox(api_key="2/minute")
    keyed = _key_client(first)
    assert [keyed.get("/api/v1/token/deployments").status_code for _ in range(2)] == [200, 200]
    refused = keyed.get("/api/v1/token/deployments")
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
    assert refused.headers["Retry-After"]
    assert _key_client(second).get("/api/v1/token/deployments").status_code == 200  # per key
    assert client.get("/api/v1/token/deployments").status_code == 200  # people are not counted


def test_the_admin_shows_keys_without_their_hash(owner, admin_client):
    _, client, org = owner
    created = _create(client, org)
    row = ApiKey.objects.get(pk=created["id"])
    listing = admin_client.get("/admin/accounts/apikey/").content.decode()
    page = admin_client.get(f"/admin/accounts/apikey/{row.pk}/change/").content.decode()
    assert created["prefix"] in listing and created["prefix"] in page
    for text in (listing, page):
        assert row.hashed_key not in text and row.hashed_key.split("$$")[1] not in text
        assert created["key"] not in text


def test_compliance_reads_follow_the_key_organization_and_role(owner, user_factory):
    _, client, org = owner
    other_body, _ = user_factory("keys.compliance.other")
    viewer = _key_client(_create(client, org, role="viewer")["key"])
    compliance = _key_client(_create(client, org, role="compliance")["key"])
    denied = viewer.get("/api/v1/compliance/audit-log", {"organization": org})
    assert denied.status_code == 403 and denied.json()["details"] == {"action": "compliance_read", "role": "viewer"}
    allowed = compliance.get("/api/v1/compliance/audit-log", {"organization": org})
    assert allowed.status_code == 200, allowed.content
    assert any(e["action"] == "api_key.created" for e in allowed.json()["results"])
    assert compliance.get("/api/v1/compliance/audit-log").status_code == 200  # the key's organization
    elsewhere = compliance.get("/api/v1/compliance/audit-log", {"organization": _org(other_body)})
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "NOT_FOUND"
