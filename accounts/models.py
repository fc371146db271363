"""Users (e-mail login), organizations with role memberships, sealed keys, security events."""
from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework_api_key.crypto import KeyGenerator
from simple_history.models import HistoricalRecords

from biatec.core.models import AppendOnlyMixin, BaseModel


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased: the form used for login, uniqueness and ARC-76 derivation."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        """Staff accounts for the back office; they get no chain account (no ARC-76 derivation)."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    algorand_address = models.CharField(max_length=58, blank=True, default="", db_index=True)
    arc76_secret = models.OneToOneField(
        "accounts.EncryptedSecret", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Carried in every JWT as "tv"; bumping it voids all issued tokens (password change, reuse).
    token_version = models.PositiveIntegerField(default=0)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])
    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def refresh_from_db(self, using: str | None = None, fields: Any = None, from_queryset: Any = None) -> None:
        """A user built from token claims (accounts/auth_state.py) defers every other field: the first
        one read loads all of them in one query, not one query per field."""
        deferred = self.get_deferred_fields()
        if fields is not None and deferred and set(fields) <= deferred:
            fields = list(deferred)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class Organization(BaseModel):
    name = models.CharField(max_length=200)
    # The plan billed (accounts/plans_models.py); None: the BIATEC_DEFAULT_PLAN setting's.
    plan = models.ForeignKey("accounts.Plan", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="organizations")
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.name


class Membership(BaseModel):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        ISSUER = "issuer"
        COMPLIANCE = "compliance"
        APPROVER = "approver"
        VIEWER = "viewer"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="accounts_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organization_id} as {self.role}"


class EncryptedSecret(BaseModel):
    """A secret sealed with envelope encryption (see `accounts.keyvault`). Never shown anywhere."""

    owner_id = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=64)
    kek_id = models.CharField(max_length=64, db_index=True)
    wrapped_key = models.BinaryField()
    wrap_nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    nonce = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "purpose"], name="accounts_secret_owner_purpose")]

    def __str__(self) -> str:
        return f"sealed {self.purpose} of {self.owner_id}"

    def __repr__(self) -> str:
        return f"<EncryptedSecret {self.id} {self.purpose}>"


class EvmAccount(BaseModel):
    """The user's EVM account for one chain id, derived once from the ARC-76 account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="evm_accounts")
    chain_id = models.BigIntegerField()
    address = models.CharField(max_length=42, db_index=True)
    secret = models.OneToOneField(EncryptedSecret, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "chain_id"], name="accounts_evm_user_chain")]


class OrganizationAccount(BaseModel):
    """An organization's treasury account on one chain (docs/treasury.md): a random key generated by the
    server and sealed like a member's, never derivable from anybody's password, so a token it controls
    stays the organization's when a member leaves. `family` "algorand" (chain_id 0) or "evm"."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="treasury_accounts")
    family = models.CharField(max_length=16)
    chain_id = models.BigIntegerField(default=0)
    address = models.CharField(max_length=58, db_index=True)
    secret = models.OneToOneField(EncryptedSecret, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "family", "chain_id"],
                                               name="accounts_treasury_org_chain")]

    def __str__(self) -> str:
        return f"treasury of {self.organization_id} on {self.family}:{self.chain_id}"


class LoginThrottle(models.Model):
    """Consecutive failed password checks per (e-mail, source), known e-mail or not, so lockout
    reveals nothing. A lock holds only for the source that earned it: an attacker elsewhere cannot
    lock the owner out. Each further lock of the same pair lasts twice as long (`lock_count`)."""

    email = models.CharField(max_length=254)
    # accounts.client.client_source: an IPv4 address, an IPv6 /64, or "unknown".
    source = models.CharField(max_length=64, default="unknown")
    failures = models.PositiveIntegerField(default=0)
    lock_count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email", "source"], name="accounts_loginthrottle_email_source")]
        indexes = [models.Index(fields=["email"], name="accounts_loginthrottle_email")]

    def __str__(self) -> str:
        return f"{self.email} from {self.source}"


class SecurityEvent(AppendOnlyMixin, BaseModel):
    """Append-only audit of sign-ups, logins, lockouts, logouts, password changes and key uses."""

    class Type(models.TextChoices):
        SIGNUP = "signup"
        LOGIN_SUCCESS = "login_success"
        LOGIN_FAILURE = "login_failure"
        LOGIN_LOCKED = "login_locked"
        LOCKOUT = "lockout"
        UNLOCK = "unlock"
        LOGOUT = "logout"
        TOKEN_REFRESH = "token_refresh"
        REFRESH_REUSE = "refresh_reuse"
        PASSWORD_CHANGE = "password_change"
        KEY_USE = "key_use"
        KEY_DERIVED = "key_derived"
        API_KEY_CREATED = "api_key_created"  # pragma: allowlist secret
        API_KEY_REVOKED = "api_key_revoked"  # pragma: allowlist secret
        API_KEY_IP_REFUSED = "api_key_ip_refused"  # pragma: allowlist secret
        KEY_DESTROYED = "key_destroyed"

    event_type = models.CharField(max_length=32, choices=Type.choices, db_index=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.CharField(max_length=254, blank=True, default="", db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Invitation(BaseModel):
    """An invitation to join `organization` as `role`, sent to `email` (accounts/members_services.py).
    The link's token is signed and carries a secret of which only the SHA-256 is kept (`token_hash`):
    single use (`accepted_at`), revocable (`revoked_at`), expiring (`expires_at`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254, db_index=True)
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(
            fields=["organization", "email"], condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
            name="accounts_invitation_one_open_per_email")]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization_id} as {self.role}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "pending"


class ApiKeyManager(models.Manager["ApiKey"]):
    """Keys made and checked by djangorestframework-api-key's `KeyGenerator` (its models module
    cannot be imported without installing its app and its unused `APIKey` table; docs/decisions/0104)."""

    key_generator = KeyGenerator()

    def create_key(self, **values: Any) -> tuple[ApiKey, str]:
        """The saved key and its full text `prefix.secret` (shown once, never stored)."""
        key, prefix, hashed_key = self.key_generator.generate()
        obj = self.create(prefix=prefix, hashed_key=hashed_key, **values)
        return obj, key


class ApiKey(BaseModel):
    """An organization's API key for servers (docs/api-keys.md): `prefix.secret`, of which only the
    prefix (the lookup) and the SHA-512 of the whole key (`hashed_key`, the library's hasher: the
    secret is 32 random characters, no password) are stored. It acts in `organization` only, with
    `role` (never above its creator's when made, nor above the creator's current role when used),
    from the `allowed_ips` networks if any; it stops at `expires_at` or when revoked."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=150, editable=False)
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    allowed_ips = models.JSONField(default=list, blank=True,
                                   help_text="CIDR networks the key may be used from; empty: any address.")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history = HistoricalRecords(excluded_fields=["hashed_key"])

    objects = ApiKeyManager()
    # `request.auth` of a request made with a key is the key: what tells it from a JWT's token
    # (deployments/approval_decisions.request_is_api_key: keys approve only where the policy allows).
    is_api_key = True

    class Meta:
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def __repr__(self) -> str:
        return f"<ApiKey {self.pk} {self.prefix}>"

    def secret_matches(self, key: str) -> bool:
        """Whether `key` is this key's full text (a constant-time compare of the hashes)."""
        return bool(type(self).objects.key_generator.verify(key, self.hashed_key))

    def expired(self, now: Any = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expired() else "active"


class KeyRotation(BaseModel):
    """A password change's move of the user's chain accounts (docs/decisions/0107-key-rotation-on-password-change.md).

    The new ARC-76 account (derived from the new password) is the user's from the change on; the old
    keys are kept as `RetiredKey`s, usable by the server only, until every move of what the old
    addresses held or controlled (`moves`, token operations of the one pipeline, written by
    `deployments.key_rotation`) completed; then their sealed secrets are destroyed."""

    class Status(models.TextChoices):
        PLANNING = "planning"
        MOVING = "moving"
        COMPLETED = "completed"

    ACTIVE: ClassVar[tuple[str, ...]] = (Status.PLANNING, Status.MOVING)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="key_rotations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNING)
    old_algorand_address = models.CharField(max_length=58, blank=True, default="")
    new_algorand_address = models.CharField(max_length=58, blank=True, default="")
    moves = models.JSONField(default=list, blank=True, help_text="The planned token operations, in order: "
                             "{token_id, kind, request, operation_id, status}.")
    left_behind = models.JSONField(default=list, blank=True,
                                   help_text="What the old accounts still hold that no move covers (read from chain).")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user"], condition=models.Q(status__in=["planning", "moving"]),
                                               name="accounts_keyrotation_one_active_per_user")]

    def __str__(self) -> str:
        return f"key rotation of {self.user_id} ({self.status})"


class RetiredKey(BaseModel):
    """An account a key rotation replaced: its address, and its sealed key until the rotation completes
    (`secret` is then destroyed and set to null; the row stays as the record of the old address)."""

    rotation = models.ForeignKey(KeyRotation, on_delete=models.CASCADE, related_name="retired_keys")
    family = models.CharField(max_length=16)  # "algorand" | "evm"
    chain_id = models.BigIntegerField(null=True, blank=True)
    address = models.CharField(max_length=64, db_index=True)
    secret = models.OneToOneField(EncryptedSecret, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    destroyed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"retired {self.family} key {self.address}"


# Plans, overrides and metering live in their own module (re-exported here for the app's models).
from .plans_models import Plan, PlanOverride, UsageFee, UsageKind, UsageRecord  # noqa: E402

__all__ = ["ApiKey", "EncryptedSecret", "EvmAccount", "Invitation", "KeyRotation", "LoginThrottle", "Membership",
           "Organization", "OrganizationAccount", "Plan", "PlanOverride", "RetiredKey", "SecurityEvent", "UsageFee",
           "UsageKind", "UsageRecord", "User", "UserManager", "normalize_email"]

# E-mail notifications live in a module of their own (issue 21 item 4); imported so Django finds them.
from .gdpr_models import AccountExport  # noqa: E402,F401  (the GDPR export job; migrations see it here)
from .notifications_models import EmailNotification, NotificationPreference  # noqa: E402, F401
