"""The active organization of a request, resolved in this one place.

A user may belong to several organizations. A request names the one it acts in with the header
`X-Organization-Id`; without it, the user's primary membership (the organization created at sign-up,
or the first one joined) is active. Collection routes (lists, creates) act inside the active
organization; routes naming an object act in that object's organization (if the caller belongs to it).
A header naming an organization the caller does not belong to, or no UUID, answers 404 NOT_FOUND,
exactly as an unknown organization (no existence leak)."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from biatec.core.errors import NotFound

from .models import Membership, User
from .principals import memberships_of
from .selectors import membership_in, membership_primary

ORGANIZATION_HEADER = "X-Organization-Id"
ORGANIZATION_PARAMETER = OpenApiParameter(
    ORGANIZATION_HEADER, OpenApiTypes.UUID, OpenApiParameter.HEADER, required=False,
    description="The organization to act in (one you belong to, else 404); default: your primary organization.")


def organization_header(request: Any) -> str | None:
    value = request.headers.get(ORGANIZATION_HEADER) if request is not None else None
    return value.strip() if value and value.strip() else None


def organization_ids_active(*, user: User, request: Any) -> QuerySet[Membership, Any]:
    """The active organization's id as a subquery (no statement of its own), for collection reads:
    `organization_id__in=organization_ids_active(...)`. A header naming an organization the caller does
    not belong to selects nothing (an empty list, never another tenant's rows); one that is no UUID: 404."""
    chosen = organization_header(request)
    memberships = memberships_of(user)  # with an API key: its organization only
    if chosen is None:
        return memberships.order_by("created_at").values("organization_id")[:1]  # `membership_primary`'s
    try:
        organization_id = uuid.UUID(chosen)
    except ValueError:
        raise NotFound("No such organization.") from None
    return memberships.filter(organization_id=organization_id).values("organization_id")


def membership_active(*, user: User, request: Any) -> Membership | None:
    """The caller's membership of the active organization (with `organization` loaded), or None when
    the header is absent and the user belongs to no organization."""
    chosen = organization_header(request)
    if chosen is None:
        return membership_primary(user=user)
    try:
        organization_id = uuid.UUID(chosen)
    except ValueError:
        raise NotFound("No such organization.") from None
    membership = membership_in(user=user, organization_id=organization_id)
    if membership is None:
        raise NotFound("No such organization.")
    return membership
