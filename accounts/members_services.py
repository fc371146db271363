"""Writes of an organization's members and invitations (issue 20, item 1; docs/roles.md).

Every change of who belongs to an organization locks the organization's row first, so two requests
can never together leave it without an owner (`LAST_OWNER`), and is audited (`membership.*`,
`invitation.*` in the audit chain). A member may grant no role above their own and may not change
or remove a member whose role is above theirs (`ROLE_NOT_GRANTABLE`).

An invitation's token is `django.core.signing` over the invitation's id and a random secret, with a
timestamp (expiry `INVITATION_TTL_SECONDS`, default 7 days); only the secret's SHA-256 is stored,
so the token can be shown once and never again, and is never logged. Accepting is single use.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from biatec.audit.chain import audit_record
from biatec.core import events
from biatec.core.actors import actor_of
from biatec.core.correlation import get_correlation_id
from biatec.core.errors import ApplicationError, ValidationFailed

from . import member_hooks, roles
from . import members_errors as errors
from .models import Invitation, Membership, Organization, User, normalize_email
from .notifications_services import notify_invitation
from .plans_models import MEMBERS
from .quotas import quota_check
from .services import ClientInfo, TokenPair, user_register

logger = logging.getLogger(__name__)

TOKEN_SALT = "accounts.invitation"
DEFAULT_TTL_SECONDS = 7 * 24 * 3600


def invitation_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "INVITATION_TTL_SECONDS", DEFAULT_TTL_SECONDS)))


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _lock(organization_id: Any) -> None:
    Organization.objects.select_for_update().filter(pk=organization_id).first()


def _members_and_open_invitations(organization_id: Any, now: Any) -> int:
    """What the members quota counts at an invitation: members, plus invitations still open."""
    return (Membership.objects.filter(organization_id=organization_id).count()
            + Invitation.objects.filter(organization_id=organization_id, accepted_at__isnull=True,
                                        revoked_at__isnull=True, expires_at__gt=now).count())


def _ceiling_check(*, actor_role: str, role: str) -> None:
    if roles.role_rank(role) < roles.role_rank(actor_role):
        raise errors.RoleNotGrantable(details={"role": role, "your_role": actor_role})


def _owners_left_after(membership: Membership) -> int:
    return (Membership.objects.filter(organization_id=membership.organization_id, role=roles.OWNER)
            .exclude(pk=membership.pk).count())


def _last_owner_check(membership: Membership) -> None:
    if membership.role == roles.OWNER and _owners_left_after(membership) == 0:
        raise errors.LastOwner()


def _audit(action: str, *, actor: str, organization_id: Any, object_type: str, object_id: Any,
           payload: dict[str, Any]) -> None:
    audit_record(action=action, actor=actor, organization_id=organization_id, object_type=object_type,
                 object_id=str(object_id), payload=payload)


def _membership_payload(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {"user_id": str(membership.user_id), "role": membership.role, **extra}


def _membership_changed(change: str, *, actor: str, membership_id: Any, organization_id: Any,
                        payload: dict[str, Any]) -> None:
    """Audit entry `membership.<change>` and webhook event `member.<change>`, in the change's transaction."""
    _audit(f"membership.{change}", actor=actor, organization_id=organization_id, object_type="membership",
           object_id=membership_id, payload=payload)
    events.publish(events.MembershipChanged(
        correlation_id=get_correlation_id() or "", membership_id=str(membership_id),
        organization_id=str(organization_id), change=change, actor=actor,
        data={"membership_id": str(membership_id), "organization_id": str(organization_id), **payload}))


@transaction.atomic
def member_role_change(*, actor: Membership, membership: Membership, role: str) -> Membership:
    """`actor` (a member holding manage_members) gives `membership` the role `role`."""
    _lock(membership.organization_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _ceiling_check(actor_role=actor.role, role=membership.role)  # the member is not above the actor
    _ceiling_check(actor_role=actor.role, role=role)  # nor is the role granted
    if role == membership.role:
        return membership
    if role != roles.OWNER:
        _last_owner_check(membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    _membership_changed("role_changed", actor=actor_of(actor.user), membership_id=membership.pk,
                        organization_id=membership.organization_id,
                        payload=_membership_payload(membership, previous_role=previous))
    return membership


@transaction.atomic
def member_remove(*, actor: Membership, membership: Membership, move_tokens_to_treasury: bool = False) -> list[str]:
    """`actor` removes `membership` (themselves too: that is leaving). A member whose own keys still
    control tokens of the organization on chain is refused (409 MEMBER_CONTROLS_TOKENS) unless
    `move_tokens_to_treasury`: then the moves are queued and the membership stays until the last of
    them completes (`member_removal_complete`), so a removed member never controls a token. Returns
    the queued operations' ids (empty: removed now)."""
    _lock(membership.organization_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.pk != actor.pk:
        _ceiling_check(actor_role=actor.role, role=membership.role)
    _last_owner_check(membership)
    controlled = member_hooks.member_controlled_tokens(membership)
    if controlled and not move_tokens_to_treasury:
        raise errors.MemberControlsTokens(details={"tokens": controlled})
    if controlled:
        operation_ids = member_hooks.member_tokens_move(actor, membership)
        if operation_ids:
            _audit("membership.removal_pending", actor=actor_of(actor.user),
                   organization_id=membership.organization_id, object_type="membership", object_id=membership.pk,
                   payload=_membership_payload(membership, operations=operation_ids))
            return operation_ids
        if still := member_hooks.member_controlled_tokens(membership):
            raise errors.MemberControlsTokens(details={"tokens": still})
    # Nothing controlled, or every move needed no chain job (a fixed-supply token its address holds
    # none of is just the treasury's now): removed now.
    change = "left" if membership.pk == actor.pk else "removed"
    payload = _membership_payload(membership)
    membership_id, organization_id = membership.pk, membership.organization_id
    membership.delete()
    _membership_changed(change, actor=actor_of(actor.user), membership_id=membership_id,
                        organization_id=organization_id, payload=payload)
    return []


def member_leave(*, membership: Membership, move_tokens_to_treasury: bool = False) -> list[str]:
    return member_remove(actor=membership, membership=membership, move_tokens_to_treasury=move_tokens_to_treasury)


def member_removal_complete(*, membership_id: Any, actor_membership_id: Any) -> bool:
    """Finish a removal that waited for its tokens' moves to the treasury (called when each move
    completes, in its transaction): removed once the member controls nothing; a refusal now (the
    actor left, the member became the last owner) keeps the membership and is logged. True: removed."""
    membership = Membership.objects.filter(pk=membership_id).first()
    actor = Membership.objects.filter(pk=actor_membership_id).first()
    if membership is not None:
        # Serialises concurrent completions of the same removal's moves: the last one to take the lock
        # sees every other move committed, so it is the one that removes (none would, unlocked).
        _lock(membership.organization_id)
    if membership is None or actor is None or member_hooks.member_controlled_tokens(membership):
        return False
    try:
        with transaction.atomic():
            member_remove(actor=actor, membership=membership)
    except ApplicationError as refused:
        logger.warning("a pending member removal was refused after the moves to the treasury",
                       extra={"membership_id": str(membership_id), "code": refused.code})
        return False
    return True


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str) -> tuple[Invitation, str]:
    """A pending invitation and its token (shown once in the answer), e-mailed to the invitee with the
    accept link (accounts/notifications_services.notify_invitation). Never logged."""
    email = normalize_email(email)
    _ceiling_check(actor_role=actor.role, role=role)
    organization_id = actor.organization_id
    _lock(organization_id)
    if Membership.objects.filter(organization_id=organization_id, user__email__iexact=email).exists():
        raise errors.AlreadyMember()
    now = timezone.now()
    open_ones = Invitation.objects.select_for_update().filter(organization_id=organization_id, email=email,
                                                              accepted_at__isnull=True, revoked_at__isnull=True)
    for open_one in open_ones:
        if open_one.expires_at > now:
            raise errors.InvitationPending(details={"invitation_id": str(open_one.pk)})
        open_one.revoked_at = now  # an expired one is superseded
        open_one.save(update_fields=["revoked_at", "updated_at"])
    quota_check(actor.organization, MEMBERS, used=lambda: _members_and_open_invitations(organization_id, now))
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization_id=organization_id, email=email, role=role, invited_by=actor.user,
        token_hash=_secret_hash(secret), expires_at=now + invitation_ttl())
    token = signing.dumps({"i": str(invitation.pk), "s": secret}, salt=TOKEN_SALT, compress=True)
    _audit("invitation.created", actor=actor_of(actor.user), organization_id=organization_id,
           object_type="invitation", object_id=invitation.pk,
           payload={"email": email, "role": role, "expires_at": invitation.expires_at.isoformat()})
    # The invitation e-mail (accept link) joins the outbox in this transaction: sent after the commit.
    notify_invitation(invitation=invitation, token=token, inviter=actor.user)
    logger.info("invitation created", extra={"invitation_id": str(invitation.pk),
                                             "organization_id": str(organization_id)})
    return invitation, token


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise errors.InvitationUsed()
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        _audit("invitation.revoked", actor=actor_of(actor.user), organization_id=invitation.organization_id,
               object_type="invitation", object_id=invitation.pk, payload={"email": invitation.email})
    return invitation


def _invitation_of_token(token: str) -> Invitation:
    """The invitation the token names, locked; any failure of the token itself is INVITATION_INVALID
    (or INVITATION_EXPIRED past its signed age), saying nothing about which invitations exist."""
    try:
        claims = signing.loads(token, salt=TOKEN_SALT, max_age=invitation_ttl())
    except signing.SignatureExpired:
        raise errors.InvitationExpired() from None
    except signing.BadSignature:
        raise errors.InvitationInvalid() from None
    if not isinstance(claims, dict) or not isinstance(claims.get("i"), str) or not isinstance(claims.get("s"), str):
        raise errors.InvitationInvalid()
    invitation = (Invitation.objects.select_for_update().select_related("organization")
                  .filter(pk=claims["i"]).first())
    if invitation is None or not hmac.compare_digest(invitation.token_hash, _secret_hash(claims["s"])):
        raise errors.InvitationInvalid()
    if invitation.accepted_at is not None:
        raise errors.InvitationUsed()
    if invitation.revoked_at is not None:
        raise errors.InvitationRevoked()
    if invitation.expires_at <= timezone.now():
        raise errors.InvitationExpired()
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User | None, email: str | None = None, password: str | None = None,
                      client: ClientInfo | None = None) -> tuple[Membership, TokenPair | None]:
    """Join the invitation's organization with its role: as `user` (signed in as the invited
    e-mail), or, for an e-mail without an account, by registering it with `password` exactly as a
    sign-up does (ARC-76 account, personal organization). Tokens only for a new account."""
    invitation = _invitation_of_token(token)
    tokens = None
    if email is not None and normalize_email(email) != invitation.email:
        raise errors.InvitationEmailMismatch()
    if user is not None:
        if normalize_email(user.email) != invitation.email:
            raise errors.InvitationEmailMismatch()
    elif User.objects.filter(email__iexact=invitation.email).exists():
        raise errors.InvitationLoginRequired()
    elif not password:
        raise ValidationFailed(details={"fields": {"password": ["Required to create the invited account."]}})
    else:
        user, tokens = user_register(email=invitation.email, password=password, client=client)
    if Membership.objects.filter(user=user, organization_id=invitation.organization_id).exists():
        raise errors.AlreadyMember()
    _lock(invitation.organization_id)
    quota_check(invitation.organization, MEMBERS,  # the plan may have shrunk since the invitation
                used=lambda: Membership.objects.filter(organization_id=invitation.organization_id).count())
    membership = Membership.objects.create(user=user, organization_id=invitation.organization_id,
                                           role=invitation.role)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    actor = actor_of(user)
    _audit("invitation.accepted", actor=actor, organization_id=invitation.organization_id,
           object_type="invitation", object_id=invitation.pk,
           payload={"email": invitation.email, "role": invitation.role, "user_id": str(user.pk),
                    "registered": tokens is not None})
    _membership_changed("added", actor=actor, membership_id=membership.pk, organization_id=invitation.organization_id,
                        payload=_membership_payload(membership, invitation_id=str(invitation.pk)))
    return membership, tokens
