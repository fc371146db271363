"""A key used for an organization's job is audited in that organization, also when the key's owner
belongs to several and the job is not in their first one."""
import pytest

from accounts.models import Membership, Organization
from biatec.audit.models import AuditEntry
from deployments.models import Deployment
from deployments.pipeline import deployment_advance

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def test_the_key_use_of_a_deployment_is_audited_in_its_organization(anvil_node, user_factory, monkeypatch):
    from deployments import services

    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)  # we are the worker
    body, client = user_factory("keyuse.twoorgs")
    first = Membership.objects.get(user_id=body["id"]).organization
    second = Organization.objects.create(name="Second issuer")
    Membership.objects.create(user_id=body["id"], organization=second, role=Membership.Role.ISSUER)
    response = client.post("/api/v1/token/erc20-mintable/create", {
        "network": "evm-local", "name": "Second", "symbol": "SEC", "decimals": 18, "initial_supply": "1",
        "cap": "10"}, format="json", HTTP_X_ORGANIZATION_ID=str(second.pk))
    assert response.status_code == 202, response.content
    deployment = Deployment.objects.get(pk=response.json()["id"])
    assert deployment.organization_id == second.pk
    for _ in range(20):
        if deployment_advance(deployment_id=deployment.pk) is None:
            break
    deployment.refresh_from_db()
    assert deployment.status == "completed"
    key_uses = AuditEntry.objects.filter(action="security.key_use", object_id=str(body["id"]))
    assert key_uses.filter(organization_id=second.pk).count() == 1
    assert not key_uses.filter(organization_id=first.pk).exists()
