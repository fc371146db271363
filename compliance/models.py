"""Models of the compliance app: issuance policies, compliance decisions, the platform attestation key
and attestations, and the compliance view of deployments (the audit log is `biatec.audit`)."""
from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from biatec.core.models import AppendOnlyMixin, BaseModel
from deployments.models import Deployment


class IssuancePolicy(BaseModel):
    """What an organization may issue. Empty allow-lists allow everything."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        related_name="issuance_policy")
    allowed_networks = models.JSONField(default=list, blank=True, help_text="Network slugs; empty allows all.")
    allowed_standards = models.JSONField(default=list, blank=True, help_text="Standard slugs; empty allows all.")
    require_compliance_profile = models.BooleanField(default=False)
    require_mica_compliant = models.BooleanField(
        default=False, help_text="Refuse tokens whose MiCA result is non_compliant (or that have no profile).")
    allow_out_of_scope = models.BooleanField(
        default=True, help_text="Allow tokens outside MiCA (unique NFTs, security tokens under MiFID II).")
    blocked_issuer_countries = models.JSONField(default=list, blank=True,
                                                help_text="ISO 3166-1 alpha-2 codes of refused issuer countries.")
    require_operation_reason = models.BooleanField(
        default=False, help_text="Mints and forced transfers must say why (`reason`).")
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "issuance policies"

    def __str__(self) -> str:
        return f"Issuance policy of {self.organization_id}"


class ComplianceDecision(AppendOnlyMixin, BaseModel):
    """One evaluation of a token request against the policy and MiCA: every refusal of the create
    endpoint and every pre-flight evaluation (allowed creations are recorded on the deployment's
    first history row)."""

    class Source(models.TextChoices):
        CREATE = "create"
        PREFLIGHT = "preflight"
        OPERATION = "operation"  # a token operation (mint, forced transfer ...) refused at POST

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="compliance_decisions")
    actor = models.CharField(max_length=128)
    source = models.CharField(max_length=16, choices=Source.choices)
    standard = models.CharField(max_length=32)
    network = models.CharField(max_length=32)
    allowed = models.BooleanField()
    failing_rules = models.JSONField(default=list, blank=True)
    violations = models.JSONField(default=list, blank=True)
    mica_overall = models.CharField(max_length=32, blank=True, default="")
    mica = models.JSONField(null=True, blank=True)
    profile = models.JSONField(null=True, blank=True)
    profile_sha256 = models.CharField(max_length=64, blank=True, default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "source", "allowed", "-created_at"],
                                name="cdec_org_source_allowed")]

    def __str__(self) -> str:
        return f"{self.source} {self.standard} on {self.network}: {'allowed' if self.allowed else 'refused'}"


class AttestationKey(BaseModel):
    """The platform's Ed25519 attestation key: the public half in clear, the seed sealed in the key
    vault (opened only inside `compliance.attestation.attestation_signer`)."""

    key_id = models.CharField(max_length=32, unique=True)
    public_key = models.CharField(max_length=64, help_text="Hex, 32 bytes.")
    secret = models.OneToOneField("accounts.EncryptedSecret", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Ed25519 {self.key_id}"


class Attestation(AppendOnlyMixin, BaseModel):
    """A signed statement about a completed deployment. `statement` holds the exact signed text."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="attestations")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(help_text="Canonical JSON, exactly the signed bytes (UTF-8).")
    signature = models.CharField(max_length=128, help_text="Base64 Ed25519 signature.")
    key_id = models.CharField(max_length=32)
    issued_by = models.CharField(max_length=128)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Attestation of {self.deployment_id}"


class DeploymentComplianceRecord(Deployment):
    """The compliance view of a deployment in the admin (profile, MiCA result, evidence bundle)."""

    class Meta:
        proxy = True
        verbose_name = "deployment compliance record"


# ---- Holder registry (docs/architecture.md, "Holder registry") -----------------------------------------
class AllowListEntry(BaseModel):
    """One investor the issuer has checked, on one token: keyed by (token, address); `user` when the
    entry was named by the e-mail of a registered member of the organization."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        REVOKED = "revoked"

    class InvestorCategory(models.TextChoices):
        RETAIL = "retail"
        PROFESSIONAL = "professional"
        ELIGIBLE_COUNTERPARTY = "eligible_counterparty"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    token = models.ForeignKey("deployments.Token", on_delete=models.PROTECT, related_name="allowlist_entries")
    address = models.CharField(max_length=64, help_text="EIP-55 checksummed (EVM) or an Algorand address.")
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    kyc_verified = models.BooleanField(default=False)
    kyc_provider = models.CharField(max_length=128, blank=True, default="")
    kyc_verified_at = models.DateTimeField(null=True, blank=True)
    kyc_expires_at = models.DateTimeField(null=True, blank=True)
    investor_category = models.CharField(max_length=32, choices=InvestorCategory.choices,
                                         default=InvestorCategory.RETAIL)
    jurisdiction = models.CharField(max_length=2, blank=True, default="", help_text="ISO 3166-1 alpha-2.")
    reason = models.CharField(max_length=500, blank=True, default="")
    added_by = models.CharField(max_length=128, help_text="Actor (user:<id>, staff:<id>) who added the entry.")
    sync_operation = models.ForeignKey(
        "deployments.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The last allowlist_sync operation that carries this entry to the chain (on-chain enforcement).")

    history = HistoricalRecords(excluded_fields=["sync_operation"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "allow-list entry"
        verbose_name_plural = "allow-list entries"
        constraints = [models.UniqueConstraint(fields=["token", "address"], name="allowlist_token_address")]
        indexes = [models.Index(fields=["token", "status", "-created_at"], name="allowlist_token_status"),
                   models.Index(fields=["token", "jurisdiction", "-created_at"], name="allowlist_token_country")]

    def __str__(self) -> str:
        return f"{self.address} on {self.token_id} ({self.status})"


class BlockListEntry(BaseModel):
    """An address no token of the organization may have as an active holder (sanctions, fraud, AML),
    from `effective_from` until `expires_at` (open-ended when empty)."""

    class Category(models.TextChoices):
        SANCTIONS = "sanctions"
        FRAUD = "fraud"
        AML = "aml"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=64, db_index=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    effective_from = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    added_by = models.CharField(max_length=128)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "block-list entry"
        verbose_name_plural = "block-list entries"
        indexes = [models.Index(fields=["organization", "address"], name="blocklist_org_address")]

    def __str__(self) -> str:
        return f"{self.address} ({self.category})"


class JurisdictionRules(BaseModel):
    """The holder rules of one token. Empty `allowed_countries` allows every country not blocked."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    token = models.OneToOneField("deployments.Token", on_delete=models.PROTECT, related_name="jurisdiction_rules")
    allowed_countries = models.JSONField(default=list, blank=True, help_text="ISO 3166-1 alpha-2; empty: all.")
    blocked_countries = models.JSONField(default=list, blank=True, help_text="ISO 3166-1 alpha-2.")
    max_holders = models.PositiveIntegerField(null=True, blank=True, help_text="Active entries at most; empty: no cap.")
    retail_allowed = models.BooleanField(default=True, help_text="Off: professional investors and eligible "
                                                                 "counterparties only.")
    kyc_required = models.BooleanField(default=False)
    kyc_max_age_days = models.PositiveIntegerField(null=True, blank=True,
                                                   help_text="A verification older than this has expired.")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "jurisdiction rules"
        verbose_name_plural = "jurisdiction rules"

    def __str__(self) -> str:
        return f"Jurisdiction rules of {self.token_id}"


class AllowListDriftReport(AppendOnlyMixin, BaseModel):
    """One comparison of a token's allow list with its chain (the beat job's or a request's): every
    entry whose on-chain flag differs from what its status requires (`differences`)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    token = models.ForeignKey("deployments.Token", on_delete=models.PROTECT, related_name="allowlist_drift_reports")
    checked = models.PositiveIntegerField(help_text="Entries compared.")
    difference_count = models.PositiveIntegerField()
    differences = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True, default="", help_text="Why the chain could not be read.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["token", "-created_at"], name="allowlist_drift_token")]
        verbose_name = "allow-list drift report"

    def __str__(self) -> str:
        return f"drift of {self.token_id}: {self.difference_count} of {self.checked}"
