"""Two deployments of one Algorand account, the first signed and stored but not yet sent when the
second is funded and sent (two workers, or a worker killed after storing): funding for the second
counts what the first will still spend, so both land. Real devnet, exact top-ups (no buffer)."""
import pytest
from django.db import transaction

from deployments.models import Deployment, DeploymentTransaction
from deployments.pipeline import _prepare, _Run, _store, deployment_advance

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]
ASA = {"network": "algorand-localnet", "total": "10", "decimals": 0}


def test_second_deployment_is_funded_for_the_first_ones_stored_transaction(algod_devnet_node, user_factory,
                                                                           settings, no_dispatch):
    settings.LOCAL_FUNDING_BUFFER_STEPS = 0  # top up exactly what is asked: the race has no margin to hide in
    _, client = user_factory("signing.lock")
    ids = []
    for n in (1, 2):
        response = client.post("/api/v1/token/asa-ft/create", {**ASA, "name": f"Lock {n}", "unit_name": f"LK{n}"},
                               format="json")
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])
    first, second = ids

    run = _Run.of(Deployment.objects.get(pk=first))  # what a worker does before it is killed
    with transaction.atomic():
        _store(run, _prepare(run, "asset_create"))
    assert DeploymentTransaction.objects.get(deployment_id=first).status == "signed"

    assert deployment_advance(deployment_id=second) is None
    assert Deployment.objects.get(pk=second).status == "completed"
    # The first deployment is resumed from its stored bytes (queued with a live transaction).
    deployment_advance(deployment_id=first)
    detail = client.get(f"/api/v1/token/deployments/{first}").json()
    assert detail["status"] == "completed", detail
