"""The event bus seam (docs/architecture.md, "The event bus"): a transition is published once, inside
the transaction that writes it. Its transactional subscribers (audit log, webhook outbox) commit or
roll back with it; `on_commit` subscribers run only after a commit."""
from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Membership, SecurityEvent, User
from accounts.security_events import security_event_record
from biatec.audit.models import AuditEntry
from biatec.core import events
from deployments.models import Deployment, DeploymentEvent
from deployments.services import deployment_transition
from deployments.tests.factories import DeploymentFactory
from webhooks.models import WebhookEvent
from webhooks.services import webhook_subscription_create

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@pytest.fixture
def deployment(user_factory) -> Deployment:
    body, _ = user_factory("events-alice")
    user = User.objects.get(pk=body["id"])
    organization = Membership.objects.get(user=user).organization
    webhook_subscription_create(organization=organization, url="http://127.0.0.1:9/hook",
                                event_types=["deployment.submitted"], actor=user)
    return DeploymentFactory(organization=organization, creator=user)


def _rows(deployment: Deployment) -> tuple[int, int, int]:
    return (DeploymentEvent.objects.filter(deployment=deployment).count(),
            WebhookEvent.objects.filter(deployment=deployment).count(),
            AuditEntry.objects.filter(action="deployment.transition", object_id=str(deployment.pk)).count())


def test_a_committed_transition_writes_one_history_row_one_outbox_event_and_one_audit_entry(deployment):
    seen: list[events.DeploymentTransitioned] = []
    with events.subscribed(events.DeploymentTransitioned, seen.append):
        deployment_transition(deployment_id=deployment.pk, to="submitted", reason="signed", actor="system:worker")

    assert _rows(deployment) == (1, 1, 1)
    history = DeploymentEvent.objects.get(deployment=deployment)
    assert [(e.deployment_id, e.event_id, e.from_status, e.to_status) for e in seen] == [
        (str(deployment.pk), history.pk, "queued", "submitted")]
    outbox = WebhookEvent.objects.get(deployment=deployment)
    assert (outbox.type, outbox.sequence) == ("deployment.submitted", history.pk)
    audit = AuditEntry.objects.get(action="deployment.transition", object_id=str(deployment.pk))
    assert audit.payload["event_id"] == history.pk
    assert audit.organization_id == deployment.organization_id
    assert audit.actor == "system:worker"


def test_a_rolled_back_transition_publishes_nothing(deployment, django_capture_on_commit_callbacks):
    after_commit: list[events.DeploymentTransitioned] = []
    with events.subscribed(events.DeploymentTransitioned, after_commit.append, on_commit=True), \
            django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Boom), transaction.atomic():
            deployment_transition(deployment_id=deployment.pk, to="submitted", reason="signed", actor="system:worker")
            raise Boom

    assert _rows(deployment) == (0, 0, 0)
    assert after_commit == [] and callbacks == []
    deployment.refresh_from_db()
    assert deployment.status == "queued"


def test_on_commit_subscribers_run_once_after_the_commit(deployment, django_capture_on_commit_callbacks):
    after_commit: list[events.DeploymentTransitioned] = []
    with events.subscribed(events.DeploymentTransitioned, after_commit.append, on_commit=True), \
            django_capture_on_commit_callbacks(execute=False) as callbacks:
        deployment_transition(deployment_id=deployment.pk, to="submitted", reason="signed", actor="system:worker")
        assert after_commit == []  # not before the commit
    for callback in callbacks:
        callback()
    assert [e.to_status for e in after_commit] == ["submitted"]


def test_a_failing_transactional_subscriber_rolls_the_transition_back(deployment):
    def refuse(event: events.DeploymentTransitioned) -> None:
        raise Boom

    with events.subscribed(events.DeploymentTransitioned, refuse), pytest.raises(Boom):
        deployment_transition(deployment_id=deployment.pk, to="submitted", reason="signed", actor="system:worker")
    assert _rows(deployment) == (0, 0, 0)


def test_security_events_reach_the_audit_log_only_when_committed(deployment):
    user = deployment.creator
    with pytest.raises(Boom), transaction.atomic():
        security_event_record(event_type=SecurityEvent.Type.KEY_USE, user=user, details={"reason": "test"})
        raise Boom
    assert not AuditEntry.objects.filter(action="security.key_use").exists()

    recorded = security_event_record(event_type=SecurityEvent.Type.KEY_USE, user=user, details={"reason": "test"})
    entry = AuditEntry.objects.get(action="security.key_use")
    assert entry.payload["security_event_id"] == str(recorded.pk)
    assert (entry.actor, entry.object_type, entry.organization_id) == (
        f"user:{user.pk}", "user", deployment.organization_id)


@pytest.mark.django_db(transaction=True)
def test_publishing_outside_a_transaction_is_refused():
    event = events.SecurityEventRecorded(correlation_id="", security_event_id="1", event_type="x", actor="anonymous",
                                         user_id=None, organization_id=None, email="", ip_address=None,
                                         user_agent="")
    with pytest.raises(events.PublishedOutsideTransaction):
        events.publish(event)
