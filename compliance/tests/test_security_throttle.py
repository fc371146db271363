"""Issue 14, defect 13: `compliance/evaluate` writes a decision row per call, so it is throttled
per user (429 RATE_LIMITED with Retry-After; no row for a refused call)."""
from __future__ import annotations

import pytest

from accounts.tests.throttling import throttle_sandbox  # noqa: F401 - fixture
from compliance.models import ComplianceDecision

pytestmark = pytest.mark.django_db


def test_evaluate_is_throttled_per_user(alice, bob, throttle_sandbox):  # noqa: F811
    throttle_sandbox(compliance_evaluate="2/minute")
    assert [alice.evaluate().status_code for _ in range(2)] == [200, 200]
    before = ComplianceDecision.objects.count()
    refused = alice.evaluate()
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED" and refused["Retry-After"]
    assert ComplianceDecision.objects.count() == before
    assert bob.evaluate().status_code == 200  # another user has a budget of their own
