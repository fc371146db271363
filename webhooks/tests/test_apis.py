"""The webhooks API: subscriptions CRUD (tenant-scoped, secret shown once), target checks, test
pings, deliveries list/detail/redeliver, roles."""
from __future__ import annotations

import pytest

from accounts.models import EncryptedSecret, Membership
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

from .conftest import signature_valid, transition

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhooks"


def test_subscription_crud(member, receiver):
    created = member.subscribe(receiver.url, event_types=["deployment.completed", "deployment.failed"],
                               networks=["evm-local"], standards=["erc20-mintable"], description="ops")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) == 6 + 43
    assert created["organization_id"] == str(member.organization.pk)
    assert (created["event_types"], created["networks"], created["standards"], created["is_active"],
            created["description"]) == (["deployment.completed", "deployment.failed"], ["evm-local"],
                                        ["erc20-mintable"], True, "ops")
    url = f"{BASE}/subscriptions/{created['id']}"

    detail = member.client.get(url)
    assert detail.status_code == 200
    assert "secret" not in detail.json()
    listed = member.client.get(f"{BASE}/subscriptions").json()
    assert [s["id"] for s in listed["results"]] == [created["id"]]
    assert "secret" not in listed["results"][0]

    patched = member.client.patch(url, {"is_active": False, "event_types": ["*"]}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["is_active"], patched.json()["event_types"]) == (False, ["*"])
    assert member.client.get(f"{BASE}/subscriptions?is_active=true").json()["results"] == []

    subscription = WebhookSubscription.objects.get(pk=created["id"])
    secret_id = subscription.secret_id
    assert EncryptedSecret.objects.get(pk=secret_id).purpose == "webhook-secret:v1"
    assert created["secret"].encode() not in bytes(EncryptedSecret.objects.get(pk=secret_id).ciphertext)
    assert member.client.delete(url).status_code == 204
    assert member.client.get(url).status_code == 404
    assert not EncryptedSecret.objects.filter(pk=secret_id).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"event_types": []}, "event_types"),
    ({"event_types": ["deployment.exploded"]}, "event_types"),
    ({"networks": ["no-such-net"]}, "networks"),
    ({"standards": ["erc9999"]}, "standards"),
    ({"url": "ftp://example.com/hook"}, "url"),
])
def test_subscription_validation(member, receiver, body, field):
    response = member.client.post(f"{BASE}/subscriptions", {"url": receiver.url, "event_types": ["*"], **body},
                                  format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert field in response.json()["details"]["fields"]


def test_https_required_unless_allowed(member, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    response = member.client.post(f"{BASE}/subscriptions", {"url": "http://127.0.0.1:9/x", "event_types": ["*"]},
                                  format="json")
    assert response.status_code == 400
    assert response.json()["details"]["fields"]["url"] == ["The URL must use https."]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://[::1]:8080/hook", "http://localhost/hook",
                                 "http://10.1.2.3/hook", "http://192.168.0.10/hook", "http://169.254.1.1/hook",
                                 "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/hook", "http://224.0.0.1/hook"])
def test_loopback_and_private_targets_are_refused_when_not_allowed(member, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = member.client.post(f"{BASE}/subscriptions", {"url": url, "event_types": ["*"]}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert "webhook targets must be public" in body["details"]["fields"]["url"][0]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/"])
def test_metadata_addresses_are_refused_even_when_private_targets_are_allowed(member, url):
    response = member.client.post(f"{BASE}/subscriptions", {"url": url, "event_types": ["*"]}, format="json")
    assert response.status_code == 400
    assert "metadata" in response.json()["details"]["fields"]["url"][0]


def test_url_change_is_checked_again(member, receiver, settings):
    created = member.subscribe(receiver.url)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = member.client.patch(f"{BASE}/subscriptions/{created['id']}", {"url": "http://10.0.0.1/x"},
                                   format="json")
    assert response.status_code == 400
    assert WebhookSubscription.objects.get(pk=created["id"]).url == receiver.url


def test_other_organizations_subscriptions_and_deliveries_answer_404(
        member, other_member, receiver, django_capture_on_commit_callbacks):
    theirs = other_member.subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        transition(other_member.deployment(), "submitted")
    delivery = WebhookDelivery.objects.get(subscription_id=theirs["id"])

    for method, path in [("get", f"subscriptions/{theirs['id']}"), ("patch", f"subscriptions/{theirs['id']}"),
                         ("delete", f"subscriptions/{theirs['id']}"),
                         ("post", f"subscriptions/{theirs['id']}/rotate-secret"),
                         ("post", f"subscriptions/{theirs['id']}/test"), ("get", f"deliveries/{delivery.pk}"),
                         ("post", f"deliveries/{delivery.pk}/redeliver")]:
        response = getattr(member.client, method)(f"{BASE}/{path}", {}, format="json")
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["code"] == "NOT_FOUND"
    assert member.client.get(f"{BASE}/subscriptions").json()["results"] == []
    assert member.client.get(f"{BASE}/deliveries").json()["results"] == []
    assert member.client.get(f"{BASE}/deliveries?subscription={theirs['id']}").json()["results"] == []
    assert WebhookSubscription.objects.filter(pk=theirs["id"]).exists()


def test_viewers_read_but_do_not_manage(member, other_member, receiver):
    created = member.subscribe(receiver.url)
    Membership.objects.create(user=other_member.user, organization=member.organization,
                              role=Membership.Role.VIEWER)
    url = f"{BASE}/subscriptions/{created['id']}"
    assert other_member.client.get(url).status_code == 200
    for method, path in [("patch", url), ("delete", url), ("post", f"{url}/rotate-secret"), ("post", f"{url}/test")]:
        response = getattr(other_member.client, method)(path, {"is_active": False}, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "PERMISSION_DENIED"


def test_unauthenticated_requests_are_refused(api_client):
    assert api_client.get(f"{BASE}/subscriptions").json()["code"] == "NOT_AUTHENTICATED"


def test_ping_via_test_endpoint(member, receiver, django_capture_on_commit_callbacks):
    created = member.subscribe(receiver.url, event_types=["deployment.completed"])
    with django_capture_on_commit_callbacks(execute=True):
        response = member.client.post(f"{BASE}/subscriptions/{created['id']}/test")
    assert response.status_code == 202, response.content
    assert response.json()["event_type"] == "ping"
    assert receiver.types() == ["ping"]
    request = receiver.requests[0]
    assert signature_valid(created["secret"], request)
    assert request.json["type"] == "ping"
    assert request.json["data"]["subscription_id"] == created["id"]
    delivery = WebhookDelivery.objects.get(pk=response.json()["id"])
    assert delivery.status == DeliveryStatus.DELIVERED

    member.client.patch(f"{BASE}/subscriptions/{created['id']}", {"is_active": False}, format="json")
    response = member.client.post(f"{BASE}/subscriptions/{created['id']}/test")
    assert response.status_code == 409


def test_deliveries_list_filters_detail_and_pagination(
        member, make_receiver, django_capture_on_commit_callbacks):
    ok, gone = make_receiver(), make_receiver(default_status=410)
    sub_ok = member.subscribe(ok.url)
    sub_gone = member.subscribe(gone.url, event_types=["deployment.pending"])
    deployment = member.deployment()
    for status in ["submitted", "pending", "confirmed"]:
        with django_capture_on_commit_callbacks(execute=True):
            transition(deployment, status)

    def ids(query: str) -> list[str]:
        response = member.client.get(f"{BASE}/deliveries{query}")
        assert response.status_code == 200, response.content
        return [d["event_type"] for d in response.json()["results"]]

    assert ids("") == ["deployment.confirmed", "deployment.pending", "deployment.pending", "deployment.submitted"]
    assert ids(f"?subscription={sub_ok['id']}") == ["deployment.confirmed", "deployment.pending",
                                                    "deployment.submitted"]
    assert ids("?event_type=deployment.pending") == ["deployment.pending"] * 2
    assert ids("?status=failed") == ["deployment.pending"]
    assert ids(f"?status=delivered&subscription={sub_gone['id']}") == []
    assert member.client.get(f"{BASE}/deliveries?status=nope").status_code == 400

    page = member.client.get(f"{BASE}/deliveries?page_size=3").json()
    assert len(page["results"]) == 3 and page["next"]
    rest = member.client.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None

    failed = WebhookDelivery.objects.get(subscription_id=sub_gone["id"])
    detail = member.client.get(f"{BASE}/deliveries/{failed.pk}").json()
    assert detail["status"] == "failed" and detail["last_status_code"] == 410
    assert detail["payload"]["id"] == str(failed.event_id)
    assert [(a["number"], a["status_code"], a["outcome"]) for a in detail["attempt_history"]] == [(1, 410, "failed")]


def test_secret_is_never_logged(member, receiver, json_logs, django_capture_on_commit_callbacks):
    created = member.subscribe(receiver.url)
    rotated = member.client.post(f"{BASE}/subscriptions/{created['id']}/rotate-secret").json()
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    assert receiver.requests
    for secret in (created["secret"], rotated["secret"]):
        assert secret not in json_logs.text
        assert secret[6:] not in json_logs.text


def test_readme_receiver_snippet_verifies_a_real_delivery(member, receiver, django_capture_on_commit_callbacks):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Webhooks", 1)[1]
    snippet = section.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    verify = namespace["verify_biatec_webhook"]

    created = member.subscribe(receiver.url)
    rotated = member.client.post(f"{BASE}/subscriptions/{created['id']}/rotate-secret").json()
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    request = receiver.requests[0]
    for secret in (created["secret"], rotated["secret"]):
        event = verify(request.body, request.headers["Biatec-Signature"], secret)
        assert event["id"] == request.event_id
    with pytest.raises(ValueError, match="bad webhook signature"):
        verify(request.body + b" ", request.headers["Biatec-Signature"], rotated["secret"])
    stale = "t=1000," + request.headers["Biatec-Signature"].split(",", 1)[1]
    with pytest.raises(ValueError, match="stale"):
        verify(request.body, stale, rotated["secret"])
