"""Admin: pages render without secrets; the redeliver action requeues dead deliveries only."""
from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.otp import otp_force_login
from webhooks.models import DeliveryStatus, WebhookDelivery

from .conftest import free_port, transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    otp_force_login(client, User.objects.create_superuser("webhooks.staff@example.com", "staff password 1234567"))
    return client


def test_admin_pages_and_redeliver_dead_action(member, make_receiver, staff_client, settings,
                                               django_capture_on_commit_callbacks):
    settings.WEBHOOKS_RETRY_DELAYS_SECONDS = [0.0]
    port = free_port()
    created = member.subscribe(f"http://127.0.0.1:{port}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        transition(member.deployment(), "submitted")
    delivery = WebhookDelivery.objects.get(subscription_id=created["id"])
    assert delivery.status == DeliveryStatus.DEAD

    for path in ["/admin/webhooks/webhooksubscription/", f"/admin/webhooks/webhooksubscription/{created['id']}/change/",
                 "/admin/webhooks/webhookevent/", f"/admin/webhooks/webhookevent/{delivery.event_id}/change/",
                 "/admin/webhooks/webhookdelivery/", f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/"]:
        response = staff_client.get(path)
        assert response.status_code == 200, path
        assert created["secret"].encode() not in response.content
    assert b"ConnectError" in staff_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").content

    receiver = make_receiver(port=port)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/admin/webhooks/webhookdelivery/",
                                     {"action": "redeliver_dead", "_selected_action": [str(delivery.pk)]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [r.event_id for r in receiver.requests] == [str(delivery.event_id)]
