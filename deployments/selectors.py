"""Reads of deployments, always scoped to the user's organizations (others answer 404)."""
from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from accounts.models import EvmAccount, User
from accounts.selectors import organization_ids_of
from biatec.core.api import filter_given
from biatec.core.errors import NotFound

from .models import Deployment, DeploymentEvent, DeploymentTransaction


def deployment_list(*, user: User, filters: dict[str, Any] | None = None,
                    organization_ids: QuerySet[Any, Any] | None = None) -> QuerySet[Deployment]:
    """The deployments of `organization_ids` (the list's active organization), default all of the user's."""
    filters = filters or {}
    scope = organization_ids if organization_ids is not None else organization_ids_of(user=user)
    qs = Deployment.objects.filter(organization_id__in=scope).select_related("creator")
    return filter_given(qs, filters, {"status": "status", "standard": "standard", "network": "network",
                                      "correlation_id": "correlation_id", "created_after": "created_at__gte",
                                      "created_before": "created_at__lt"})


_DEPLOYMENT_OF_MEMBER_SQL = (
    'SELECT * FROM "deployments_deployment" WHERE "id" = %s AND "organization_id" IN '
    '(SELECT "organization_id" FROM "accounts_membership" WHERE "user_id" = %s)'
)
"""`Deployment.objects.filter(pk=..., organization_id__in=organization_ids_of(user=...))`, written out
once: compiling that filter took twice the CPU of running it (0.58 of 0.88 ms per status read), on the
API's most frequent request. tests/perf/test_status_read_sql.py holds it to the ORM's answer."""


def deployment_get(*, user: User, deployment_id: Any) -> Deployment:
    """A deployment of one of the user's organizations; any other answers 404. One indexed statement
    (the primary key and the membership subquery); the detail needs no joined rows."""
    try:
        pk = deployment_id if isinstance(deployment_id, uuid.UUID) else uuid.UUID(str(deployment_id))
    except ValueError:
        raise NotFound("No such deployment.") from None
    # Parameters as the fields store them (a UUID object on PostgreSQL, hex text on SQLite).
    database = connections[Deployment.objects.db]
    params = [Deployment._meta.pk.get_db_prep_value(pk, database),
              User._meta.pk.get_db_prep_value(user.pk, database)]
    found = list(Deployment.objects.raw(_DEPLOYMENT_OF_MEMBER_SQL, params))
    if not found:
        raise NotFound("No such deployment.")
    return found[0]


def deployment_events(*, deployment: Deployment) -> QuerySet[DeploymentEvent]:
    return DeploymentEvent.objects.filter(deployment=deployment).order_by("id")


def deployment_transactions(*, deployment: Deployment) -> QuerySet[DeploymentTransaction]:
    return DeploymentTransaction.objects.filter(deployment=deployment).defer("signed_bytes").order_by("created_at")


def _ids_touched_by(correlation_id: str) -> set[Any]:
    """Deployments created or moved by a request with this correlation ID: two index lookups (an OR
    of the two conditions in one statement makes PostgreSQL scan the whole table,
    tests/perf/test_query_plans.py)."""
    return {*Deployment.objects.filter(correlation_id=correlation_id).values_list("pk", flat=True),
            *DeploymentEvent.objects.filter(correlation_id=correlation_id).values_list("deployment_id", flat=True)}


def deployment_find_by_correlation_id(*, correlation_id: str) -> QuerySet[Deployment]:
    """Support: any organization's deployment touched by a request with this correlation ID."""
    return Deployment.objects.filter(pk__in=_ids_touched_by(correlation_id)).select_related("organization", "creator")


def deployment_search_ids(term: str) -> tuple[set[Any], set[Any]]:
    """Support search (the admin changelist): (deployment ids, creator ids) that an exact deployment
    id, correlation ID (of the creating request or of any transition), transaction id, sender or
    contract address, or the creator's Algorand / EVM address names. Every lookup is an index lookup,
    and the caller filters `pk IN ... OR creator_id IN ...`, which PostgreSQL answers with two index
    scans whatever the table size (tests/perf/test_query_plans.py)."""
    term = term.strip()
    if not term:
        return set(), set()
    ids: set[Any] = set()
    with contextlib.suppress(ValueError):
        ids.add(uuid.UUID(term))
    ids.update(_ids_touched_by(term))
    ids.update(Deployment.objects.filter(results__contract_address=term).values_list("pk", flat=True))
    ids.update(DeploymentTransaction.objects.filter(tx_id=term).values_list("deployment_id", flat=True))
    ids.update(DeploymentTransaction.objects.filter(sender=term).values_list("deployment_id", flat=True))
    creators = {*User.objects.filter(algorand_address=term).values_list("pk", flat=True),
                *EvmAccount.objects.filter(address=term).values_list("user_id", flat=True)}
    return ids, creators


def is_support_staff(user: User) -> bool:
    return bool(user.is_staff or user.groups.filter(name="support").exists())
