"""Quotas meet the other features: API keys count against the plan's `api_keys` limit (402), and a
create that takes a quota to 80 % or 100 % queues the owners' e-mail in its own transaction."""
import pytest

from accounts.api_key_services import api_key_create
from accounts.models import Membership, PlanOverride
from accounts.notifications_models import EmailNotification
from accounts.quotas import QuotaExceeded

pytestmark = pytest.mark.django_db


def test_api_keys_count_against_the_plan_and_the_owner_is_told_at_80_and_100_percent(user_factory):
    body, _ = user_factory("quota.keys.owner")
    owner = Membership.objects.select_related("organization", "user").get(user_id=body["id"])
    PlanOverride.objects.create(organization=owner.organization, limit="api_keys", value=5, reason="test")
    for n in range(5):
        api_key_create(actor=owner, name=f"k{n}", role="viewer")
    kinds = list(EmailNotification.objects.filter(organization=owner.organization, user=owner.user)
                 .order_by("created_at").values_list("kind", flat=True))
    assert [k for k in kinds if k.startswith("quota")] == ["quota_warning", "quota_reached"]  # 4 of 5, 5 of 5
    with pytest.raises(QuotaExceeded) as refused:
        api_key_create(actor=owner, name="one too many", role="viewer")
    assert refused.value.details["quota"] == "api_keys" and refused.value.details["used"] == 5
    assert EmailNotification.objects.filter(organization=owner.organization, kind__startswith="quota").count() == 2
