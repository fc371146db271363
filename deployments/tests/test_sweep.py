"""The beat sweep: a deployment whose deadline passed (its worker died, the broker lost the message)
is re-queued and finishes; one still within its deadline is left to its worker."""
from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import services
from deployments.models import Deployment, DeploymentEvent
from deployments.pipeline import deployments_sweep
from devchain.anvil import rpc

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def test_sweep_requeues_only_overdue_deployments(anvil_node, user_factory, monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the re-queued task runs inline here
    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)  # message lost
    _, client = user_factory("sweep.user")
    body = {"network": "evm-local", "name": "Swept", "symbol": "SW", "decimals": 0, "initial_supply": "1"}
    lost = client.post("/api/v1/token/erc20-preminted/create", body, format="json").json()["id"]
    fresh = client.post("/api/v1/token/erc20-preminted/create", {**body, "name": "Fresh"}, format="json").json()["id"]
    assert Deployment.objects.get(pk=fresh).next_action_at > timezone.now()  # created with a deadline

    Deployment.objects.filter(pk=lost).update(next_action_at=timezone.now() - timedelta(seconds=1))
    assert deployments_sweep() == [lost]
    swept = Deployment.objects.get(pk=lost)
    assert swept.status == "completed"
    assert rpc(anvil_node.url, "eth_getCode", [swept.results["contract_address"], "latest"]) not in ("0x", None)
    assert Deployment.objects.get(pk=fresh).status == "queued"
    # transitions, polling and scheduling add no simple-history rows (the transitions' record is the
    # append-only DeploymentEvent with its audit entry): only the creation's
    assert Deployment.history.filter(id=lost).count() == 1
    assert DeploymentEvent.objects.filter(deployment_id=lost).count() == 1 + 5
