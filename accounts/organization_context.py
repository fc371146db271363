"""The active organization of a request, resolved in this one place.

A user may belong to several organizations. A request names the one it acts in with the header
`X-Organization-Id`, else with its access token's claim `org` (set by login, MFA login or refresh
with `organization_id`); with neither, the user's primary membership (the organization created at
sign-up, or the first one joined) is active. The claim grants nothing by itself: it is read exactly
as the header, so membership is checked on every request (a member removed since the token was
issued finds nothing: 404, empty lists). API keys carry no claim (their organization is the key's).
Collection routes (lists, creates) act inside the active organization; routes naming an object act
in that object's organization (if the caller belongs to it). A header (or claim) naming an
organization the caller does not belong to, or no UUID, answers 404 NOT_FOUND, exactly as an
unknown organization (no existence leak)."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework_simplejwt.tokens import Token

from biatec.core.errors import NotFound

from .models import Membership, User
from .principals import memberships_of
from .selectors import membership_in, membership_primary

ORGANIZATION_HEADER = "X-Organization-Id"
ORGANIZATION_CLAIM = "org"  # in access and refresh tokens: the organization chosen at login or refresh
ORGANIZATION_PARAMETER = OpenApiParameter(
    ORGANIZATION_HEADER, OpenApiTypes.UUID, OpenApiParameter.HEADER, required=False,
    description="The organization to act in (one you belong to, else 404); default: the access token's `org` "
                "claim (login or refresh with `organization_id`), else your primary organization.")


def organization_header(request: Any) -> str | None:
    value = request.headers.get(ORGANIZATION_HEADER) if request is not None else None
    return value.strip() if value and value.strip() else None


def organization_claim(request: Any) -> str | None:
    """The `org` claim of the request's access token (None for API keys and tokens without one)."""
    auth = getattr(request, "auth", None) if request is not None else None
    value = auth.get(ORGANIZATION_CLAIM) if isinstance(auth, Token) else None
    return value if isinstance(value, str) and value else None


def organization_chosen(request: Any) -> str | None:
    """The organization the request names: the header, else the token's claim (unchecked text)."""
    return organization_header(request) or organization_claim(request)


def organization_ids_active(*, user: User, request: Any) -> QuerySet[Membership, Any]:
    """The active organization's id as a subquery (no statement of its own), for collection reads:
    `organization_id__in=organization_ids_active(...)`. A header naming an organization the caller does
    not belong to selects nothing (an empty list, never another tenant's rows); one that is no UUID: 404.
    The token's claim is read the same way when there is no header."""
    chosen = organization_chosen(request)
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
    neither header nor claim names one and the user belongs to no organization."""
    chosen = organization_chosen(request)
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
