"""Defect 5 of issue 14: a viewer of the organization can read its deployments but neither cancel
nor retry them (403 PERMISSION_DENIED, nothing changes); issuers, admins and owners can."""
from __future__ import annotations

import pytest

from accounts.models import Membership
from deployments.models import Deployment, DeploymentStatus
from deployments.services import deployment_transition
from deployments.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization_with(user_factory):
    owner_body, _ = user_factory("roles.owner")
    owner = Membership.objects.select_related("organization", "user").get(user_id=owner_body["id"])

    def member(name: str, role: str):
        body, client = user_factory(name)
        Membership.objects.create(user_id=body["id"], organization=owner.organization, role=role)
        return client

    return owner, member


def _deployment(owner: Membership, **fields) -> Deployment:
    return DeploymentFactory(organization=owner.organization, creator=owner.user, **fields)


def test_viewer_cannot_cancel_or_retry(organization_with):
    owner, member = organization_with
    viewer = member("roles.viewer", Membership.Role.VIEWER)
    queued = _deployment(owner)
    assert viewer.get(f"/api/v1/token/deployments/{queued.pk}").status_code == 200  # reads stay open

    cancel = viewer.post(f"/api/v1/token/deployments/{queued.pk}/cancel", {"reason": "not mine"}, format="json")
    assert cancel.status_code == 403 and cancel.json()["code"] == "PERMISSION_DENIED"
    queued.refresh_from_db()
    assert queued.status == DeploymentStatus.QUEUED

    failed = _deployment(owner)
    deployment_transition(deployment_id=failed.pk, to="failed", reason="t", actor="t",
                          error={"code": "CHAIN_UNAVAILABLE", "message": "down", "retryable": True})
    retry = viewer.post(f"/api/v1/token/deployments/{failed.pk}/retry")
    assert retry.status_code == 403 and retry.json()["code"] == "PERMISSION_DENIED"
    failed.refresh_from_db()
    assert failed.status == DeploymentStatus.FAILED


def test_issuer_can_cancel(organization_with):
    owner, member = organization_with
    issuer = member("roles.issuer", Membership.Role.ISSUER)
    queued = _deployment(owner)
    cancel = issuer.post(f"/api/v1/token/deployments/{queued.pk}/cancel", {"reason": "ours"}, format="json")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
