"""Support's back office: find a deployment by id, correlation ID (any request that touched it),
transaction id or address; history and transactions inline; retry action through the service."""
import pytest
from django.test import Client

from accounts.models import Membership, User
from deployments.models import DeploymentTransaction
from deployments.services import deployment_transition
from deployments.tests.factories import DeploymentFactory
from tests.otp import otp_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    staff = User.objects.create_superuser("admin.support@example.com", "admin password long enough")
    client = Client()
    otp_force_login(client, staff)
    return client


@pytest.fixture
def deployment(user_factory):
    body, _ = user_factory("admin.search")
    membership = Membership.objects.select_related("organization", "user").get(user_id=body["id"])
    deployment = DeploymentFactory(organization=membership.organization, creator=membership.user,
                                   correlation_id="created-by-req-1")
    deployment_transition(deployment_id=deployment.pk, to="submitted", reason="signed", actor="system:worker")
    DeploymentTransaction.objects.create(deployment=deployment, step="create", family="evm", network="evm-local",
                                         tx_id="0xabc123", sender="0x1111111111111111111111111111111111111111",
                                         nonce=0, signed_bytes=b"\x02secret-bytes")
    return deployment


@pytest.mark.parametrize("term", ["created-by-req-1", "0xabc123", "0x1111111111111111111111111111111111111111"])
def test_search_finds_the_deployment(staff_client, deployment, term):
    page = staff_client.get(f"/admin/deployments/deployment/?q={term}")
    assert page.status_code == 200
    assert str(deployment.pk) in page.content.decode()


def test_search_by_id_and_by_a_later_requests_correlation_id(staff_client, deployment):
    from biatec.core.correlation import reset_correlation_id, set_correlation_id

    token = set_correlation_id("later-req-9")
    try:
        deployment_transition(deployment_id=deployment.pk, to="failed", reason="x", actor="t",
                              error={"code": "CHAIN_UNAVAILABLE", "message": "down", "retryable": True})
    finally:
        reset_correlation_id(token)
    for term in (str(deployment.pk), "later-req-9"):
        assert str(deployment.pk) in staff_client.get(f"/admin/deployments/deployment/?q={term}").content.decode()


def test_change_page_shows_history_and_transactions_but_not_signed_bytes(staff_client, deployment):
    page = staff_client.get(f"/admin/deployments/deployment/{deployment.pk}/change/").content.decode()
    assert "0xabc123" in page and "signed" in page
    assert "secret-bytes" not in page
    assert staff_client.get(f"/admin/deployments/deployment/{deployment.pk}/history/").status_code == 200


def test_retry_action_requeues_failed_retryable(staff_client, deployment, django_capture_on_commit_callbacks):
    deployment_transition(deployment_id=deployment.pk, to="failed", reason="x", actor="t",
                          error={"code": "INSUFFICIENT_FUNDS", "message": "fund", "retryable": True})
    response = staff_client.post("/admin/deployments/deployment/", {
        "action": "retry_failed", "_selected_action": [str(deployment.pk)]})
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert deployment.status == "queued"
    assert deployment.events.last().actor.startswith("user:")
