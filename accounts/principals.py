"""Who a request acts as when it came with an organization's API key (docs/api-keys.md).

The key authenticates as its creator's `User` (the services and their chain accounts stay those of a
person of the organization), and that `User` instance carries a `KeyGrant` in the attribute
`biatec.core.actors.API_KEY_GRANT`: the key's id, its organization and its role. Every membership
read of accounts honours it: the user belongs to the key's organization only, with the key's role
(`memberships_of`, `grant_applied`), so a key of organization A finds none of B's objects (404, as a
non-member) and the one permission class checks the key's role; `actor_of` records `api_key:<id>`.
The instance is the request's own, so the grant never outlives the request."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from biatec.core.actors import API_KEY_GRANT

from .models import Membership, User


@dataclass(frozen=True)
class KeyGrant:
    key_id: uuid.UUID
    organization_id: uuid.UUID
    role: str  # the effective role: the key's, or its creator's current one when lower


def key_grant_of(user: Any) -> KeyGrant | None:
    grant = getattr(user, API_KEY_GRANT, None) if user is not None else None
    return grant if isinstance(grant, KeyGrant) else None


def grant_attach(user: User, grant: KeyGrant) -> User:
    setattr(user, API_KEY_GRANT, grant)
    return user


def memberships_of(user: User) -> QuerySet[Membership]:
    """The user's memberships; with an API key, only that of the key's organization."""
    memberships = Membership.objects.filter(user=user)
    grant = key_grant_of(user)
    if grant is not None:
        memberships = memberships.filter(organization_id=grant.organization_id)
    return memberships


def grant_applied(user: User, membership: Membership | None) -> Membership | None:
    """The membership as the request may use it: with an API key, holding the key's role (an
    in-memory view for permission checks; never saved) and the request's user instance (so that
    `actor_of(membership.user)` names the key too)."""
    grant = key_grant_of(user)
    if grant is not None and membership is not None:
        membership.role = grant.role
        membership.user = user
    return membership
