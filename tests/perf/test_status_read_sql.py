"""The status read's hand-written statement (deployments.selectors._DEPLOYMENT_OF_MEMBER_SQL) answers
exactly what the ORM filter it replaces answers, for members, non-members and unknown ids."""
import uuid

import pytest

from accounts.models import Membership, Organization, User
from accounts.selectors import organization_ids_of
from biatec.core.errors import NotFound
from deployments.models import Deployment
from deployments.selectors import deployment_get
from deployments.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db


def _orm(user: User, deployment_id) -> Deployment | None:
    return Deployment.objects.filter(pk=deployment_id, organization_id__in=organization_ids_of(user=user)).first()


def _answer(user: User, deployment_id) -> Deployment | None:
    try:
        return deployment_get(user=user, deployment_id=deployment_id)
    except NotFound:
        return None


def test_the_statement_answers_what_the_orm_filter_answers(user_factory):
    owner_body, _ = user_factory("sql.owner")
    other_body, _ = user_factory("sql.other")
    both_body, _ = user_factory("sql.both")
    owner, other, both = (User.objects.get(pk=b["id"]) for b in (owner_body, other_body, both_body))
    mine = Membership.objects.get(user=owner).organization
    theirs = Membership.objects.get(user=other).organization
    Membership.objects.create(user=both, organization=mine, role=Membership.Role.VIEWER)
    lonely = User.objects.create_user(email="sql.lonely@example.com", password=None)
    empty = Organization.objects.create(name="No deployments")
    deployments = [DeploymentFactory(organization=mine, creator=owner),
                   DeploymentFactory(organization=theirs, creator=other)]
    ids = [d.pk for d in deployments] + [uuid.uuid4()]
    for user in (owner, other, both, lonely):
        for deployment_id in ids:
            expected = _orm(user, deployment_id)
            got = _answer(user, deployment_id)
            assert (got.pk if got else None) == (expected.pk if expected else None), (user.email, deployment_id)
            if got is not None:  # every column loaded, none deferred
                assert {f.attname for f in Deployment._meta.concrete_fields} <= set(got.__dict__)
                assert got.request == expected.request and got.results == expected.results
    assert empty.pk  # an organization without members or deployments changes nothing
    assert _answer(owner, "not-a-uuid") is None
    assert (Deployment._meta.db_table, Membership._meta.db_table) == ("deployments_deployment", "accounts_membership")
    assert _answer(owner, str(deployments[0].pk)).pk == deployments[0].pk
