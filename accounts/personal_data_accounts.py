"""The accounts app's personal-data providers (accounts/personal_data.py), registered by
`AccountsConfig.ready`: the user, memberships, chain accounts, security events, invitations, login
throttles, MFA devices, refresh tokens, admin log entries, exports, and the audit log (below accounts
in the layers: it cannot register itself, so accounts does it for it)."""
from __future__ import annotations

import re
from typing import Any

from django.contrib.admin.models import LogEntry
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from biatec.audit.chain import audit_entry_rows
from biatec.audit.models import AuditEntry
from biatec.audit.personal import personal_data_erase, personal_data_of
from biatec.core.actors import user_actor

from .models import (
    AccountExport,
    EncryptedSecret,
    EvmAccount,
    Invitation,
    LoginThrottle,
    Membership,
    Organization,
    SecurityEvent,
    User,
)
from .personal_data import Erasure, PersonalDataProvider, personal_data_provider_register, rows

HistoricalUser = User.history.model
HistoricalMembership = Membership.history.model
HistoricalInvitation = Invitation.history.model
HistoricalOrganization = Organization.history.model
USER_SECRETS = ("password",)


def _emails_q(field: str, emails: tuple[str, ...]) -> Q:
    q = Q(pk__in=[])
    for email in emails:
        q |= Q(**{f"{field}__iexact": email})
    return q


def _export_profile(user: User) -> Any:
    return {
        "user": rows(User.objects.filter(pk=user.pk), exclude=USER_SECRETS),
        "history": rows(HistoricalUser.objects.filter(id=user.pk), exclude=USER_SECRETS),
        "evm_accounts": rows(EvmAccount.objects.filter(user=user), exclude=("secret",)),
        "mfa_devices": [{"type": "totp", "name": d.name, "confirmed": d.confirmed}
                        for d in TOTPDevice.objects.filter(user=user)]
                       + [{"type": "recovery_codes", "name": d.name, "confirmed": d.confirmed}
                          for d in StaticDevice.objects.filter(user=user)],
        "refresh_tokens": rows(OutstandingToken.objects.filter(user=user), exclude=("token",)),
        "exports": rows(AccountExport.objects.filter(user=user), exclude=("file",)),
    }


def _erase_profile(erasure: Erasure) -> None:
    user = erasure.user
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).delete()
    secrets = [pk for pk in [user.arc76_secret_id, *EvmAccount.objects.filter(user=user)
                             .values_list("secret_id", flat=True)] if pk]
    EvmAccount.objects.filter(user=user).delete()
    user.arc76_secret = None
    user.email, user.algorand_address, user.is_active, user.is_staff, user.is_superuser = (
        erasure.pseudonym_email, "", False, False, False)
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    # The sealed keys (ARC-76 seed, EVM keys): destroyed, so no one can sign for these addresses again.
    EncryptedSecret.objects.filter(Q(pk__in=secrets) | Q(owner_id=str(user.pk))).delete()
    HistoricalUser.objects.filter(id=user.pk).update(email=erasure.pseudonym_email, algorand_address="")
    for export in AccountExport.objects.filter(user=user):
        from .gdpr_export import export_file_delete

        export_file_delete(export)
    AccountExport.objects.filter(user=user).delete()


def _export_memberships(user: User) -> Any:
    return {"memberships": rows(Membership.objects.filter(user=user)),
            "history": rows(HistoricalMembership.objects.filter(Q(user=user) | Q(history_user=user))),
            "organization_changes": rows(HistoricalOrganization.objects.filter(history_user=user))}


def _erase_memberships(erasure: Erasure) -> None:
    """Memberships end; an organization named after the e-mail (the sign-up's default name) is renamed
    after the pseudonym, in its history too."""
    Membership.objects.filter(user=erasure.user).delete()
    for model in (Organization, HistoricalOrganization):
        for email in erasure.emails:
            for pk, name in model.objects.filter(name__icontains=email).values_list("pk", "name"):
                model.objects.filter(pk=pk).update(name=_replace(name, email, erasure.pseudonym_email))


def _export_security(user: User) -> Any:
    emails = (user.email,)
    return {"security_events": rows(SecurityEvent.objects.filter(Q(user=user) | _emails_q("email", emails))),
            "login_throttles": rows(LoginThrottle.objects.filter(_emails_q("email", emails)))}


def _erase_security(erasure: Erasure) -> None:
    SecurityEvent.objects.filter(Q(user=erasure.user) | _emails_q("email", erasure.emails)).update(
        email=erasure.pseudonym_email, ip_address=None, user_agent="", details={})
    LoginThrottle.objects.filter(_emails_q("email", erasure.emails)).delete()


def _export_invitations(user: User) -> Any:
    mine = Q(invited_by=user) | Q(accepted_by=user) | Q(email__iexact=user.email)
    return {"invitations": rows(Invitation.objects.filter(mine), exclude=("token_hash",)),
            "history": rows(HistoricalInvitation.objects.filter(mine | Q(history_user=user)),
                            exclude=("token_hash",))}


def _erase_invitations(erasure: Erasure) -> None:
    addressed = _emails_q("email", erasure.emails)
    Invitation.objects.filter(addressed, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    Invitation.objects.filter(addressed).update(email=erasure.pseudonym_email)
    HistoricalInvitation.objects.filter(addressed).update(email=erasure.pseudonym_email)


def _export_admin_log(user: User) -> Any:
    return {"admin_actions": rows(LogEntry.objects.filter(user=user)),
            "admin_entries_naming_you": rows(LogEntry.objects.filter(object_repr__icontains=user.email))}


def _erase_admin_log(erasure: Erasure) -> None:
    for email in erasure.emails:
        for entry in LogEntry.objects.filter(Q(object_repr__icontains=email) | Q(change_message__icontains=email)):
            LogEntry.objects.filter(pk=entry.pk).update(
                object_repr=_replace(entry.object_repr, email, erasure.pseudonym_email),
                change_message=_replace(entry.change_message, email, erasure.pseudonym_email))


def _replace(text: str, old: str, new: str) -> str:
    return re.sub(re.escape(old), new, text or "", flags=re.IGNORECASE)


def _export_audit(user: User) -> Any:
    actor = user_actor(user.pk)
    entries = list(AuditEntry.objects.filter(Q(actor=actor) | Q(object_type="user", object_id=str(user.pk)))
                   .order_by("chain", "sequence"))
    named = {d.ref for d in personal_data_of(subject=actor, values=[user.email])}
    if named:
        seen = {e.pk for e in entries}
        entries += [e for e in _entries_naming(named) if e.pk not in seen]
    rows_ = audit_entry_rows(entries)
    for row in rows_:  # only the values that are the user's (others' e-mails in the same entries are not)
        row["personal"] = {ref: value for ref, value in row["personal"].items() if ref in named}
    return {"audit_entries": rows_}


def _entries_naming(refs: set[str]) -> list[AuditEntry]:
    """Entries whose payload holds one of `refs` (a text search of the jsonb column)."""
    q = Q(pk__in=[])
    for ref in refs:
        q |= Q(payload_text__contains=ref)
    return list(AuditEntry.objects.annotate(payload_text=Cast("payload", TextField())).filter(q)
                .order_by("chain", "sequence"))


def _erase_audit(erasure: Erasure) -> None:
    personal_data_erase(subject=user_actor(erasure.user.pk), values=erasure.emails)


def register() -> None:
    for provider in (
        PersonalDataProvider(
            name="profile", order=900,  # last: the other providers still find the user by the original e-mail
            description="Your account: e-mail, sign-up date, chain addresses (ARC-76, EVM), MFA devices (no "
                        "secrets), refresh tokens issued (ids and dates), your earlier exports, and the "
                        "account's change history.",
            models=("accounts.User", "accounts.HistoricalUser", "accounts.EvmAccount", "otp_totp.TOTPDevice",
                    "otp_static.StaticDevice", "token_blacklist.OutstandingToken", "accounts.AccountExport"),
            export=_export_profile, erase=_erase_profile),
        PersonalDataProvider(
            name="memberships",
            description="Your organization memberships and roles, their history, and changes you made to "
                        "organizations.",
            models=("accounts.Membership", "accounts.HistoricalMembership", "accounts.HistoricalOrganization"),
            export=_export_memberships, erase=_erase_memberships),
        PersonalDataProvider(
            name="security_events",
            description="Security events of your account or e-mail (sign-ups, logins, failures, lockouts, "
                        "key uses) with IP address and user agent, and the login-failure counters.",
            models=("accounts.SecurityEvent", "accounts.LoginThrottle"),
            export=_export_security, erase=_erase_security),
        PersonalDataProvider(
            name="invitations",
            description="Invitations you sent, accepted or that were sent to your e-mail, and their history.",
            models=("accounts.Invitation", "accounts.HistoricalInvitation"),
            export=_export_invitations, erase=_erase_invitations),
        PersonalDataProvider(
            name="admin_log",
            description="Back-office (admin) actions you took, and admin log entries naming your e-mail.",
            models=("admin.LogEntry",),
            export=_export_admin_log, erase=_erase_admin_log),
        PersonalDataProvider(
            name="audit_entries",
            description="Entries of the hash-chained audit log that you acted in, that are about your "
                        "account, or that name your e-mail; `personal` gives the values of the entry's "
                        "`pd:` references (kept outside the hashed content).",
            models=("audit.AuditEntry", "audit.AuditPersonalDatum"),
            export=_export_audit, erase=_erase_audit),
    ):
        personal_data_provider_register(provider)
