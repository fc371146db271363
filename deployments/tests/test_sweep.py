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


def test_a_job_is_requeued_once_per_grace_period_while_it_waits(anvil_node, user_factory, monkeypatch, settings):
    """A job still waiting in the queue is not re-queued by every sweep: its deadline moved on."""
    from deployments import pipeline

    queued: list[str] = []
    monkeypatch.setattr(services, "_enqueue_submit_on_commit", lambda deployment_id: None)
    monkeypatch.setattr(pipeline, "job_enqueue", lambda job_type, job_id, status: queued.append(str(job_id)))
    _, client = user_factory("sweep.backlog")
    body = {"network": "evm-local", "name": "Backlog", "symbol": "BL", "decimals": 0, "initial_supply": "1"}
    waiting = client.post("/api/v1/token/erc20-preminted/create", body, format="json").json()["id"]
    Deployment.objects.filter(pk=waiting).update(next_action_at=timezone.now() - timedelta(seconds=1))
    assert deployments_sweep() == [waiting]
    assert deployments_sweep() == [] and deployments_sweep() == []  # still in the queue: not again
    deadline = Deployment.objects.get(pk=waiting).next_action_at
    assert deadline > timezone.now() + timedelta(seconds=settings.DEPLOYMENT_SWEEP_GRACE_SECONDS - 5)
    Deployment.objects.filter(pk=waiting).update(next_action_at=timezone.now() - timedelta(seconds=1))
    assert deployments_sweep() == [waiting]  # the grace period passed again: the message may be lost
    assert queued == [waiting, waiting]
    assert Deployment.history.filter(id=waiting).count() == 1  # a deadline, not a change of the job
