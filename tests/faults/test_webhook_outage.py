"""The webhook receiver is down for longer than the whole retry window (issue 15, fault suite).

A real deployment on anvil through a real worker (embedded beat, private Redis, a retry schedule of
a fraction of a second) emits its six transitions to a subscription whose receiver does not listen.
Every delivery runs out of attempts and is dead-lettered (`dead`, visible in the API and in the
admin changelist to staff). The receiver comes back on the same port; the owner redelivers every
dead delivery through the API (docs/architecture.md, "The event bus"; webhooks/services.py): each
event arrives exactly once, in the order of the transitions, and every delivery ends `delivered`.
"""
from __future__ import annotations

import pytest

from deployments.models import Deployment
from deployments.tasks import deployment_submit_task
from tests.celery_worker import WorkerProcess, publish, wait_for
from tests.faults.conftest import broker_on
from tests.faults.deployment_jobs import deployment_statuses
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tasks import webhook_delivery_task
from webhooks.tests.conftest import HAPPY_PATH, Receiver, free_port

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.faults, pytest.mark.django_db(transaction=True)]
RETRY_DELAYS = [0.2, 0.3, 0.4]
TRANSITIONS = ["queued", *HAPPY_PATH]  # the creation (queued) first, then every transition


def _deliveries(subscription_id: str) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(subscription_id=subscription_id).select_related("event")
                .order_by("sequence"))


def test_receiver_down_past_retry_window_dead_letters_then_redeliver_delivers_once_in_order(
        anvil_node, private_redis, user_factory, no_dispatch, monkeypatch, admin_client):
    broker = broker_on(private_redis)
    # This process publishes redeliveries to the worker instead of sending them inline.
    monkeypatch.setattr(services, "delivery_dispatch",
                        lambda delivery_id, countdown=None: publish(webhook_delivery_task, broker, str(delivery_id)))
    _, client = user_factory("faults.webhooks")
    port = free_port()  # nothing listens here until the receiver comes back
    url = f"http://127.0.0.1:{port}/hooks/biatec"
    response = client.post("/api/v1/webhooks/subscriptions", {"url": url, "event_types": ["*"]}, format="json")
    assert response.status_code == 201, response.content
    subscription_id = response.json()["id"]

    worker = WorkerProcess(broker, {
        "WEBHOOKS_RETRY_DELAYS_SECONDS": ",".join(str(d) for d in RETRY_DELAYS), "WEBHOOKS_RETRY_JITTER": "0",
        "WEBHOOKS_TIMEOUT_SECONDS": "2", "WEBHOOKS_SWEEP_INTERVAL_SECONDS": "1",
        "DEPLOYMENT_POLL_SECONDS": "0.3", "DEPLOYMENT_PENDING_FALLBACK_SECONDS": "0.5",
    }, pool="prefork", concurrency=2, beat=True)
    receiver = None
    try:
        response = client.post("/api/v1/token/erc20-preminted/create",
                               {"network": "evm-local", "name": "Hooked", "symbol": "HK", "decimals": 0,
                                "initial_supply": "3"}, format="json")
        assert response.status_code == 202, response.content
        deployment_id = response.json()["id"]
        publish(deployment_submit_task, broker, deployment_id)
        assert wait_for(lambda: deployment_statuses([deployment_id]) == {deployment_id: "completed"}, timeout=90), \
            (deployment_statuses([deployment_id]), worker.output()[-3000:])

        def all_dead() -> bool:
            rows = _deliveries(subscription_id)
            return len(rows) == len(TRANSITIONS) and all(r.status == DeliveryStatus.DEAD for r in rows)

        assert wait_for(all_dead, timeout=90), ([(d.event_type, d.status, d.attempts)
                                                 for d in _deliveries(subscription_id)], worker.output()[-3000:])
        dead = _deliveries(subscription_id)
        assert all(d.attempts == len(RETRY_DELAYS) + 1 for d in dead)  # the whole schedule was tried
        assert [d.event_type for d in dead] == [f"deployment.{s}" for s in TRANSITIONS]

        # Dead letters are visible: in the API to the organization, in the admin to staff.
        listed = client.get("/api/v1/webhooks/deliveries", {"status": "dead"}).json()["results"]
        assert {d["id"] for d in listed} >= {str(d.pk) for d in dead}
        page = admin_client.get("/admin/webhooks/webhookdelivery/", {"status__exact": "dead"})
        assert page.status_code == 200
        html = page.content.decode()
        assert all(str(d.pk) in html for d in dead), "every dead delivery is listed in the admin"

        receiver = Receiver(port=port)  # back, on the same URL
        for delivery in dead:
            response = client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver")
            assert response.status_code == 202, response.content

        def all_delivered() -> bool:
            return all(d.status == DeliveryStatus.DELIVERED for d in _deliveries(subscription_id))

        assert wait_for(all_delivered, timeout=60), ([(d.event_type, d.status) for d in _deliveries(subscription_id)],
                                                     worker.output()[-3000:])
        wait_for(lambda: False, timeout=2)  # a duplicate would arrive now (sweep, lapsed claim): none may
        event_ids = [r.event_id for r in receiver.requests]
        assert event_ids == [str(d.event_id) for d in dead]  # each event exactly once, in transition order
        assert receiver.types() == [f"deployment.{s}" for s in TRANSITIONS]
        assert Deployment.objects.get(pk=deployment_id).status == "completed"
    finally:
        worker.stop()
        if receiver is not None:
            receiver.close()
