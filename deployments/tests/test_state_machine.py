"""Every allowed transition works; every other pair raises INVALID_STATE_TRANSITION."""
import itertools

import pytest

from accounts.models import Membership
from deployments.models import DeploymentEvent, DeploymentStatus
from deployments.services import deployment_transition
from deployments.state_machine import ALLOWED_TRANSITIONS, InvalidStateTransition
from deployments.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db
STATES = [s.value for s in DeploymentStatus]


@pytest.fixture
def owner(user_factory):
    body, _ = user_factory("state.machine")
    return Membership.objects.select_related("user", "organization").get(user_id=body["id"])


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATES, STATES)))
def test_transition_matrix(owner, source, target):
    deployment = DeploymentFactory(organization=owner.organization, creator=owner.user, status=source)
    if target in ALLOWED_TRANSITIONS[source]:
        moved = deployment_transition(deployment_id=deployment.pk, to=target, reason="test", actor="test")
        assert moved.status == target
        event = DeploymentEvent.objects.get(deployment=deployment)
        assert (event.from_status, event.to_status, event.actor, event.reason) == (source, target, "test", "test")
    else:
        with pytest.raises(InvalidStateTransition) as info:
            deployment_transition(deployment_id=deployment.pk, to=target, reason="test", actor="test")
        assert info.value.code == "INVALID_STATE_TRANSITION"
        deployment.refresh_from_db()
        assert deployment.status == source
        assert not DeploymentEvent.objects.filter(deployment=deployment).exists()


def test_failed_sets_error_and_retry_clears_it(owner):
    deployment = DeploymentFactory(organization=owner.organization, creator=owner.user, status="pending")
    failed = deployment_transition(deployment_id=deployment.pk, to="failed", reason="x", actor="t",
                                   error={"code": "INSUFFICIENT_FUNDS", "message": "m", "retryable": True,
                                          "details": {"needed_wei": "5"}})
    assert (failed.error_code, failed.error_retryable, failed.error_details) == ("INSUFFICIENT_FUNDS", True,
                                                                                 {"needed_wei": "5"})
    queued = deployment_transition(deployment_id=deployment.pk, to="queued", reason="retry", actor="t")
    assert (queued.error_code, queued.error_retryable, queued.error_details) == ("", False, {})


def test_history_rows_are_append_only(owner):
    deployment = DeploymentFactory(organization=owner.organization, creator=owner.user)
    deployment_transition(deployment_id=deployment.pk, to="submitted", reason="x", actor="t")
    event = DeploymentEvent.objects.get(deployment=deployment)
    event.reason = "rewritten"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
