"""The one permission class of the API, `RoleRequired`, reading the role matrix (accounts/roles.py).

Every view under /api/ names the action of each HTTP method in `role_actions` (an action of the table,
or a marker of `roles.NO_ORGANIZATION`). Reads open to every role cost no query here: the tenant-scoped
selector's membership subquery is the check (a non-member gets 404 there, never 403). Any other action
is checked on the object the view resolved (`check_object_permissions`): the caller's role in the
object's organization must hold the action, else 403 `PERMISSION_DENIED`. Collection routes (creates)
check it on the active membership (accounts/organization_context.py), which carries the role already.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from biatec.core.errors import PermissionDenied

from . import roles
from .models import Membership, Organization, User
from .principals import key_grant_of


class AuthenticatedRequest(Request):
    """For the type checker only: the request of a view behind `IsAuthenticated`, whose `user` is a
    `User`, never `AnonymousUser`. Views annotate `request` with it; DRF still passes its `Request`."""

    user: User


def view_action(view: Any, method: str, obj: Any = None) -> str:
    """The action `view` declares for `method`; `{kind}` is the view's or the object's operation kind."""
    declared = getattr(view, "role_actions", None) or {}
    try:
        action: str = declared[method.lower()]
    except KeyError:
        raise ImproperlyConfigured(f"{type(view).__name__} declares no role action for {method}") from None
    if "{kind}" in action:
        action = action.format(kind=getattr(obj, "kind", None) or getattr(view, "kind", ""))
    return action


def organization_role(*, user: User, organization_id: Any) -> str | None:
    """The user's role in the organization, None for a non-member (one query); with an API key, the
    key's role in its organization (no query) and None in any other."""
    grant = key_grant_of(user)
    if grant is not None:
        return grant.role if str(organization_id) == str(grant.organization_id) else None
    role: str | None = (Membership.objects.filter(user=user, organization_id=organization_id)
                        .values_list("role", flat=True).first())
    return role


def role_require(*, user: User, organization_id: Any, action: str, role: str | None = None) -> str | None:
    """PermissionDenied unless the user's role in the organization (`role` when the caller read it
    already) holds `action` in the role matrix; the role."""
    if roles.open_to_every_member(action) and role is None:
        return None  # the tenant-scoped read that found the object checked the membership
    if role is None:
        role = organization_role(user=user, organization_id=organization_id)
    if not roles.role_allows(role, action):
        raise PermissionDenied("Your role does not allow this action.",
                               details={"action": action, "role": role})
    return role


def _method(request: Request) -> str:
    return "get" if request.method in (None, "HEAD") else str(request.method).lower()


def _organization_id(obj: Any) -> Any:
    return obj.pk if isinstance(obj, Organization) else obj.organization_id


class RoleRequired(BasePermission):
    """The role matrix, checked for every /api/ view (see the module docstring)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        method = _method(request)
        if method != "options" and callable(getattr(view, method, None)):  # one it lacks: DRF answers 405
            view_action(view, method)  # an implemented but undeclared method is a programming error
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        action = view_action(view, _method(request), obj)
        if action in roles.NO_ORGANIZATION:
            return True
        user: User = request.user  # type: ignore[assignment]
        known = obj.role if isinstance(obj, Membership) and obj.user_id == user.pk else None
        role_require(user=user, organization_id=_organization_id(obj), action=action, role=known)
        return True
