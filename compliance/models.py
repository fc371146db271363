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
