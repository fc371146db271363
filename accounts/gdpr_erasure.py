"""GDPR erasure (docs/gdpr.md, ADR 0112): `POST /api/v1/account/erase` pseudonymises the user.

After the password re-entry, every registered erasure blocker is asked (accounts/personal_data.py):
409 ACCOUNT_CONTROLS_TOKENS while the user's addresses still hold a role of a token (the issuer /
owner / manager ... : move it first), 409 ACCOUNT_HOLDS_ASSETS while they hold a balance of a platform
token, 409 LAST_OWNER while the user is the only owner of an organization that has other members.
Then, in one transaction, every refresh token is blacklisted and the token version bumped (issued
access tokens die), and every provider's `erase` runs: the e-mail becomes `erased-<random>@invalid`
everywhere, personal fields are cleared, sealed keys destroyed, memberships ended, the audit log's
personal values deleted. Records the regulation requires us to keep (audit entries, deployments,
operations, attestations, allow-list entries) stay, pointing at the pseudonymised user.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from biatec.audit.chain import AuditRecord, audit_records
from biatec.core.actors import user_actor

from . import roles
from .auth_state import auth_state_forget
from .errors import AccountControlsTokens, AccountHoldsAssets
from .members_errors import LastOwner
from .models import Membership, User
from .personal_data import Erasure, erasure_blockers, personal_data_providers, user_addresses
from .services import ClientInfo, password_reentry_check, refresh_tokens_revoke_all

CONTROLS_TOKENS = "ACCOUNT_CONTROLS_TOKENS"
HOLDS_ASSETS = "ACCOUNT_HOLDS_ASSETS"
ERASED_DOMAIN = "invalid"  # RFC 2606: never deliverable


def pseudonym_email() -> str:
    return f"erased-{uuid.uuid4().hex}@{ERASED_DOMAIN}"


def erasure_blocked_by(user: User) -> dict[str, list[dict[str, Any]]]:
    """{code: [what blocks]} of every registered blocker (empty: the erasure may go ahead)."""
    addresses = user_addresses(user)
    found: dict[str, list[dict[str, Any]]] = {}
    for blocker in erasure_blockers():
        for item in blocker.check(user, addresses):
            item = dict(item)
            found.setdefault(item.pop("code"), []).append(item)
    return found


def _last_owner_of(user: User) -> list[str]:
    """Organizations where the user is the only owner and other members remain."""
    owned = Membership.objects.filter(user=user, role=roles.OWNER).values_list("organization_id", flat=True)
    stuck = (Membership.objects.filter(organization_id__in=list(owned)).values("organization_id")
             .annotate(owners=Count("pk", filter=Q(role=roles.OWNER)), members=Count("pk"))
             .filter(owners=1, members__gt=1))
    return [str(row["organization_id"]) for row in stuck]


def account_erase(*, user: User, password: str, client: ClientInfo | None = None) -> None:
    password_reentry_check(user=user, password=password, client=client, context="account_erase")
    blocked = erasure_blocked_by(user)
    if blocked.get(CONTROLS_TOKENS):
        raise AccountControlsTokens(details={"tokens": blocked[CONTROLS_TOKENS],
                                             "holdings": blocked.get(HOLDS_ASSETS, [])})
    if blocked.get(HOLDS_ASSETS):
        raise AccountHoldsAssets(details={"holdings": blocked[HOLDS_ASSETS]})
    stuck = _last_owner_of(user)
    if stuck:
        raise LastOwner(details={"organizations": stuck})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        history = User.history.model.objects.filter(id=user.pk).values_list("email", flat=True)
        emails = tuple(dict.fromkeys([locked.email, *history]))
        addresses = user_addresses(locked)
        memberships = list(Membership.objects.filter(user=locked).values_list("organization_id", "role"))
        refresh_tokens_revoke_all(user=locked)
        erasure = Erasure(user=locked, pseudonym_email=pseudonym_email(), emails=emails, addresses=addresses)
        ran = []
        for provider in personal_data_providers():
            if provider.erase is not None:
                provider.erase(erasure)
                ran.append(provider.name)
        actor = user_actor(locked.pk)
        audit_records([
            *[AuditRecord(action="membership.removed", actor=actor, organization_id=organization_id,
                          object_type="user", object_id=locked.pk,
                          payload={"user_id": str(locked.pk), "role": role, "reason": "account_erased"})
              for organization_id, role in memberships],
            AuditRecord(action="account.erased", actor=actor, object_type="user", object_id=locked.pk,
                        payload={"user_id": str(locked.pk), "erased": ran}),
        ])
        auth_state_forget(locked.pk)
    user.refresh_from_db()
