"""Role checks inside an organization. Reads are open to every member; changing the state of the
organization's objects (deployments and the like) needs one of `WRITE_ROLES`. A member without the
role gets 403 `PERMISSION_DENIED`; a non-member never gets here (the selectors answer 404)."""
from __future__ import annotations

from typing import Any, cast

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from biatec.core.errors import PermissionDenied

from .models import Membership, User

WRITE_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.ISSUER})


class AuthenticatedRequest(Request):
    """For the type checker only: the request of a view behind `IsAuthenticated`, whose `user` is a
    `User`, never `AnonymousUser`. Views annotate `request` with it; DRF still passes its `Request`."""

    user: User


def organization_role_require(*, user: User, organization_id: Any, roles: frozenset[str] = WRITE_ROLES) -> str:
    """The user's role in the organization if it is one of `roles`, else PermissionDenied."""
    role = (Membership.objects.filter(user=user, organization_id=organization_id)
            .values_list("role", flat=True).first())
    if role not in roles:
        raise PermissionDenied("Your role does not allow this action.")
    return role


class HasWriteRole(BasePermission):
    """Object permission for views that call `check_object_permissions` on an object with an
    `organization_id`: the caller must hold one of `WRITE_ROLES` there."""

    roles = WRITE_ROLES

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        organization_role_require(user=cast(User, request.user), organization_id=obj.organization_id, roles=self.roles)
        return True
