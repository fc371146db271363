"""Deployment API without chains: validation, idempotency, cancel/retry rules, isolation, support."""
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from deployments.models import Deployment, DeploymentEvent
from deployments.services import deployment_transition

ERC20 = {"network": "evm-local", "name": "Acme", "symbol": "ACME", "decimals": 18, "initial_supply": "1000",
         "cap": "5000"}


@pytest.fixture(autouse=True)
def _local_networks_configured(anvil_node, algod_devnet_node):
    """A create asks the node whether it answers (one short call, tokens.standards.validation), so the
    local networks are real nodes. The deployments themselves are not run here: on-commit callbacks
    do not fire inside these tests' transactions."""


@pytest.fixture
def alice(user_factory):
    return user_factory("dep.alice")


@pytest.fixture
def bob(user_factory):
    return user_factory("dep.bob")


def create(client, standard="erc20-mintable", body=None, **headers):
    return client.post(f"/api/v1/token/{standard}/create", body or ERC20, format="json", **headers)


@pytest.mark.django_db
def test_create_answers_202_queued_with_location_and_history(alice):
    _, client = alice
    response = create(client, HTTP_X_CORRELATION_ID="create-req-1")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["correlation_id"] == "create-req-1"
    assert response["Location"].endswith(f"/api/v1/token/deployments/{body['id']}")
    assert body["request"]["initial_supply"] == "1000"
    history = client.get(f"/api/v1/token/deployments/{body['id']}/history").json()["results"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "queued")]


@pytest.mark.django_db
@pytest.mark.parametrize(("standard", "body", "status", "code"), [
    ("erc99-magic", ERC20, 404, "UNSUPPORTED_STANDARD"),
    ("asa-ft", ERC20, 400, "INVALID_NETWORK"),
    ("erc20-mintable", {**ERC20, "network": "algorand-localnet"}, 400, "INVALID_NETWORK"),
    ("erc20-mintable", {**ERC20, "network": "nonexistent"}, 400, "INVALID_NETWORK"),
    ("erc20-mintable", {**ERC20, "network": "base-mainnet"}, 400, "NETWORK_UNAVAILABLE"),
    ("erc20-mintable", {**ERC20, "cap": "10"}, 400, "VALIDATION_ERROR"),
    ("asa-ft", {"network": "algorand-localnet", "name": "A", "unit_name": "TOOLONGUNIT", "total": "1"}, 400,
     "VALIDATION_ERROR"),
])
def test_create_errors(alice, standard, body, status, code):
    _, client = alice
    response = create(client, standard, body)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Deployment.objects.exists()


@pytest.mark.django_db
def test_validation_error_names_the_field(alice):
    _, client = alice
    body = {"network": "algorand-localnet", "name": "A", "unit_name": "ÄÄÄÄÄ", "total": "1"}  # 10 bytes UTF-8
    response = create(client, "asa-ft", body)
    assert "unit_name" in response.json()["details"]["fields"]


@pytest.mark.django_db
def test_idempotent_replay_and_mismatch(alice):
    _, client = alice
    first = create(client, HTTP_IDEMPOTENCY_KEY="key-1")
    second = create(client, HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == second.status_code == 202
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert Deployment.objects.count() == 1
    other = create(client, body={**ERC20, "name": "Other"}, HTTP_IDEMPOTENCY_KEY="key-1")
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_KEY_MISMATCH"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_identical_requests_make_one_deployment(user_factory, monkeypatch):
    from deployments import services

    # the node URL of this module is a closed port: keep the (committed) deployment out of the worker
    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    body, _ = user_factory("dep.concurrent")
    user = User.objects.get(pk=body["id"])
    answers: list = []
    barrier = threading.Barrier(2)

    def call():
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            answers.append(create(client, HTTP_IDEMPOTENCY_KEY="same-key"))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Deployment.objects.count() == 1
    codes = sorted(a.status_code for a in answers)
    assert codes in ([202, 202], [202, 409])
    ids = {a.json().get("id") for a in answers if a.status_code == 202}
    assert len(ids) == 1


@pytest.mark.django_db
def test_cancel_only_from_queued(alice):
    _, client = alice
    deployment_id = create(client).json()["id"]
    assert client.post(f"/api/v1/token/deployments/{deployment_id}/cancel", {}, format="json").status_code == 400
    cancelled = client.post(f"/api/v1/token/deployments/{deployment_id}/cancel", {"reason": "changed my mind"},
                            format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/token/deployments/{deployment_id}/cancel", {"reason": "again"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "INVALID_STATE_TRANSITION"

    later = create(client, body={**ERC20, "name": "Later"}).json()["id"]
    deployment_transition(deployment_id=later, to="submitted", reason="t", actor="t")
    response = client.post(f"/api/v1/token/deployments/{later}/cancel", {"reason": "too late"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "INVALID_STATE_TRANSITION"


@pytest.mark.django_db
def test_retry_only_failed_and_retryable(alice):
    _, client = alice
    deployment_id = create(client).json()["id"]
    assert client.post(f"/api/v1/token/deployments/{deployment_id}/retry").status_code == 409
    deployment_transition(deployment_id=deployment_id, to="failed", reason="t", actor="t",
                          error={"code": "TRANSACTION_FAILED", "message": "reverted", "retryable": False})
    assert client.post(f"/api/v1/token/deployments/{deployment_id}/retry").status_code == 409
    deployment_transition(deployment_id=deployment_id, to="queued", reason="t", actor="t")
    deployment_transition(deployment_id=deployment_id, to="failed", reason="t", actor="t",
                          error={"code": "INSUFFICIENT_FUNDS", "message": "fund me", "retryable": True,
                                 "details": {"needed_wei": "10"}})
    detail = client.get(f"/api/v1/token/deployments/{deployment_id}").json()
    assert detail["error"] == {"code": "INSUFFICIENT_FUNDS", "message": "fund me", "retryable": True,
                               "details": {"needed_wei": "10"}}
    retried = client.post(f"/api/v1/token/deployments/{deployment_id}/retry")
    assert retried.status_code == 202 and retried.json()["status"] == "queued" and retried.json()["error"] is None


@pytest.mark.django_db
def test_list_filters_and_cursor_pagination(alice):
    _, client = alice
    for i in range(3):
        create(client, body={**ERC20, "name": f"T{i}"})
    create(client, "asa-ft", {"network": "algorand-localnet", "name": "A", "unit_name": "A", "total": "10"})
    page = client.get("/api/v1/token/deployments?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = client.get(page["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    only_asa = client.get("/api/v1/token/deployments?standard=asa-ft").json()["results"]
    assert [d["standard"] for d in only_asa] == ["asa-ft"]
    assert len(client.get("/api/v1/token/deployments?network=evm-local").json()["results"]) == 3
    assert client.get("/api/v1/token/deployments?status=completed").json()["results"] == []


@pytest.mark.django_db
def test_audit_trail_json_and_csv(alice):
    _, client = alice
    deployment_id = create(client).json()["id"]
    deployment_transition(deployment_id=deployment_id, to="submitted", reason="signed", actor="system:worker")
    as_json = client.get(f"/api/v1/token/deployments/{deployment_id}/audit-trail?format=json").json()
    assert [e["to_status"] for e in as_json["events"]] == ["queued", "submitted"]
    as_csv = client.get(f"/api/v1/token/deployments/{deployment_id}/audit-trail?format=csv")
    assert as_csv["Content-Type"].startswith("text/csv")
    lines = as_csv.content.decode().strip().splitlines()
    assert lines[0].startswith("sequence,at,from_status,to_status") and len(lines) == 3


@pytest.mark.django_db
def test_tenant_isolation_and_support_lookup(alice, bob):
    _, alice_client = alice
    _, bob_client = bob
    created = create(alice_client, HTTP_X_CORRELATION_ID="alice-secret-req")
    deployment_id = created.json()["id"]
    # a later request touching it, with its own correlation ID
    alice_client.post(f"/api/v1/token/deployments/{deployment_id}/cancel", {"reason": "x"}, format="json",
                      HTTP_X_CORRELATION_ID="alice-cancel-req")
    for method, path in [
        ("get", f"/api/v1/token/deployments/{deployment_id}"),
        ("get", f"/api/v1/token/deployments/{deployment_id}/history"),
        ("get", f"/api/v1/token/deployments/{deployment_id}/audit-trail"),
        ("post", f"/api/v1/token/deployments/{deployment_id}/cancel"),
        ("post", f"/api/v1/token/deployments/{deployment_id}/retry"),
    ]:
        response = getattr(bob_client, method)(path, {"reason": "x"}, format="json")
        assert response.status_code == 404, path
        assert response.json()["code"] == "NOT_FOUND"
    assert bob_client.get("/api/v1/token/deployments").json()["results"] == []
    assert bob_client.get("/api/v1/token/deployments?correlation_id=alice-secret-req").json()["results"] == []
    assert bob_client.get("/api/v1/support/deployments?correlation_id=alice-secret-req").status_code == 404

    staff = User.objects.create_superuser("support.staff@example.com", "staff password long enough")
    support = APIClient()
    support.force_authenticate(staff)
    for cid in ("alice-secret-req", "alice-cancel-req"):
        found = support.get(f"/api/v1/support/deployments?correlation_id={cid}").json()["results"]
        assert [d["id"] for d in found] == [deployment_id]
    assert DeploymentEvent.objects.filter(correlation_id="alice-cancel-req").exists()


@pytest.mark.django_db
def test_viewer_role_cannot_issue(alice):
    body, client = alice
    from accounts.models import Membership

    membership = Membership.objects.get(user_id=body["id"])
    membership.role = "viewer"
    membership.save()
    response = create(client)
    assert response.status_code == 403 and response.json()["code"] == "PERMISSION_DENIED"
