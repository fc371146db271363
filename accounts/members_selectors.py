"""Reads of an organization's members and invitations, for its members only (others: 404)."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from biatec.core.errors import NotFound

from .models import Invitation, Membership, User
from .selectors import membership_in


def membership_of(*, user: User, organization_id: Any) -> Membership:
    """The caller's membership of the organization named by the route; a non-member gets 404, as
    for an organization that does not exist."""
    membership = membership_in(user=user, organization_id=organization_id)
    if membership is None:
        raise NotFound("No such organization.")
    return membership


def member_list(*, organization_id: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(organization_id=organization_id).select_related("user").order_by("created_at")


def member_get(*, organization_id: Any, membership_id: Any) -> Membership:
    membership = member_list(organization_id=organization_id).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound("No such member.")
    return membership


def invitation_list(*, organization_id: Any) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organization_id=organization_id).order_by("-created_at")


def invitation_get(*, organization_id: Any, invitation_id: Any) -> Invitation:
    invitation = invitation_list(organization_id=organization_id).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation


def member_row(membership: Membership) -> dict[str, Any]:
    return {"id": str(membership.pk), "user_id": str(membership.user_id), "email": membership.user.email,
            "role": membership.role, "created_at": membership.created_at}


def invitation_row(invitation: Invitation) -> dict[str, Any]:
    return {"id": str(invitation.pk), "organization_id": str(invitation.organization_id), "email": invitation.email,
            "role": invitation.role, "status": invitation.status,
            "invited_by": str(invitation.invited_by_id) if invitation.invited_by_id else None,
            "expires_at": invitation.expires_at, "accepted_at": invitation.accepted_at,
            "revoked_at": invitation.revoked_at, "created_at": invitation.created_at}
