"""Back office for compliance staff: deployment compliance records (profile, MiCA result with failing
rules, evidence-bundle download), issuance policies (editable, history-tracked), decisions, the
audit log and attestations (read-only)."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from biatec.audit.models import AuditEntry
from biatec.core.actors import staff_actor
from biatec.core.admin_mixins import GrowingTableAdminMixin, ReadOnlyAdminMixin
from biatec.core.errors import ApplicationError, ValidationFailed
from deployments.models import DeploymentEvent
from deployments.token_models import Token
from tokens.networks import NETWORKS
from tokens.standards import STANDARDS

from . import holder_services, services
from .apis_holders import EntryCreateSerializer
from .models import (
    AllowListDriftReport,
    AllowListEntry,
    Attestation,
    AttestationKey,
    BlockListEntry,
    ComplianceDecision,
    DeploymentComplianceRecord,
    IssuancePolicy,
    JurisdictionRules,
)
from .selectors import deployment_compliance


def _pretty(value: Any) -> str:
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>",
                       json.dumps(value, indent=2, sort_keys=True, default=str))


class IssuancePolicyForm(forms.ModelForm):
    allowed_networks = forms.MultipleChoiceField(choices=[(s, s) for s in sorted(NETWORKS)], required=False,
                                                 widget=forms.CheckboxSelectMultiple,
                                                 help_text="None ticked: every network is allowed.")
    allowed_standards = forms.MultipleChoiceField(choices=[(s, s) for s in sorted(STANDARDS)], required=False,
                                                  widget=forms.CheckboxSelectMultiple,
                                                  help_text="None ticked: every standard is allowed.")
    blocked_issuer_countries = forms.CharField(required=False,
                                               help_text="ISO 3166-1 alpha-2 codes, separated by commas.")

    class Meta:
        model = IssuancePolicy
        fields = ("organization", "allowed_networks", "allowed_standards", "require_compliance_profile",
                  "require_mica_compliant", "allow_out_of_scope", "blocked_issuer_countries",
                  "require_operation_reason")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["blocked_issuer_countries"] = ", ".join(self.instance.blocked_issuer_countries or [])

    def clean_blocked_issuer_countries(self) -> list[str]:
        return [c.strip().upper() for c in self.cleaned_data["blocked_issuer_countries"].split(",") if c.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        values = {name: cleaned.get(name) for name in ("allowed_networks", "allowed_standards",
                                                       "blocked_issuer_countries")}
        try:
            services.issuance_policy_validate(values)
        except ValidationFailed as exc:
            for name, problems in (exc.details or {}).get("fields", {}).items():
                self.add_error(name, problems)
        return cleaned


@admin.register(IssuancePolicy)
class IssuancePolicyAdmin(SimpleHistoryAdmin):
    form = IssuancePolicyForm
    list_display = ("organization", "require_compliance_profile", "require_mica_compliant", "allow_out_of_scope",
                    "updated_at")
    list_filter = ("require_compliance_profile", "require_mica_compliant")
    search_fields = ("organization__name",)
    autocomplete_fields = ("organization",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("organization",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: IssuancePolicy, form: Any, change: bool) -> None:
        """Through the service, so the change is validated and audited (django-simple-history keeps
        the versions)."""
        values = {name: form.cleaned_data[name] for name in services.POLICY_FIELDS}
        saved = services.issuance_policy_set(organization=obj.organization, actor=staff_actor(request.user),
                                             **values)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at
        obj._state.adding = False


@admin.register(ComplianceDecision)
class ComplianceDecisionAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "organization", "source", "standard", "network", "allowed", "mica_overall",
                    "failing_rules_text")
    list_filter = ("source", "allowed", "mica_overall", "standard", "network")
    search_fields = ("correlation_id", "organization__name", "profile_sha256")
    list_select_related = ("organization",)
    readonly_fields = ("created_at", "organization", "actor", "source", "standard", "network", "allowed",
                       "failing_rules_text", "violations_view", "mica_view", "profile_view", "profile_sha256",
                       "correlation_id")
    fields = readonly_fields

    @admin.display(description="failing rules")
    def failing_rules_text(self, obj: ComplianceDecision) -> str:
        return ", ".join(obj.failing_rules or []) or "-"

    @admin.display(description="violations")
    def violations_view(self, obj: ComplianceDecision) -> str:
        return _pretty(obj.violations)

    @admin.display(description="MiCA evaluation")
    def mica_view(self, obj: ComplianceDecision) -> str:
        return _pretty(obj.mica)

    @admin.display(description="profile")
    def profile_view(self, obj: ComplianceDecision) -> str:
        return _pretty(obj.profile)


@admin.register(AuditEntry)
class AuditEntryAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("chain", "sequence", "occurred_at", "action", "actor", "organization", "object_type", "object_id",
                    "correlation_id")
    list_filter = ("action", "object_type")
    search_fields = ("correlation_id", "object_id", "actor", "entry_hash")
    list_select_related = ("organization",)
    ordering = ("-id",)
    readonly_fields = ("chain", "sequence", "occurred_at", "organization", "actor", "action", "object_type",
                       "object_id", "correlation_id", "payload_view", "prev_hash", "entry_hash")
    fields = readonly_fields

    @admin.display(description="payload")
    def payload_view(self, obj: AuditEntry) -> str:
        return _pretty(obj.payload)


@admin.register(Attestation)
class AttestationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "deployment", "organization", "key_id", "issued_by")
    search_fields = ("deployment__id", "key_id")
    readonly_fields = ("created_at", "deployment", "organization", "key_id", "issued_by", "statement", "signature")
    fields = readonly_fields


@admin.register(AttestationKey)
class AttestationKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key_id", "public_key", "active", "created_at")
    fields = ("key_id", "public_key", "active", "created_at")  # never the sealed secret
    readonly_fields = fields


@admin.register(DeploymentComplianceRecord)
class DeploymentComplianceRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "organization", "standard", "network", "status", "mica_overall",
                    "evidence_bundle_link")
    list_filter = ("status", "standard", "network")
    search_fields = ("id", "correlation_id", "organization__name")
    list_select_related = ("organization",)
    readonly_fields = ("id", "organization", "creator", "standard", "network", "status", "correlation_id",
                       "created_at", "completed_at", "mica_overall", "failing_rules", "mica_checks",
                       "profile_view", "results_view", "evidence_bundle_link")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        first = DeploymentEvent.objects.filter(deployment=OuterRef("pk"), from_status="").order_by("id")
        return super().get_queryset(request).annotate(
            recorded_mica_overall=Subquery(first.values("facts__compliance__mica_overall")[:1]))

    @admin.display(description="MiCA")
    def mica_overall(self, obj: DeploymentComplianceRecord) -> str:
        value = getattr(obj, "recorded_mica_overall", None)
        return value if value else deployment_compliance(obj).get("mica_overall", "-")

    @admin.display(description="failing rules")
    def failing_rules(self, obj: DeploymentComplianceRecord) -> str:
        mica = deployment_compliance(obj).get("mica") or {}
        return ", ".join(mica.get("failing_rules") or []) or "-"

    @admin.display(description="MiCA checks")
    def mica_checks(self, obj: DeploymentComplianceRecord) -> str:
        mica = deployment_compliance(obj).get("mica") or {}
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td><b>{}</b></td><td>{}</td></tr>",
                                ((c["rule"], c["article"], c["status"], c["reason"]) for c in mica.get("checks", [])))
        return format_html("<table><tr><th>rule</th><th>article</th><th>status</th><th>reason</th></tr>{}</table>",
                           rows) if mica else "-"

    @admin.display(description="compliance profile")
    def profile_view(self, obj: DeploymentComplianceRecord) -> str:
        return _pretty(obj.compliance_metadata)

    @admin.display(description="on-chain results")
    def results_view(self, obj: DeploymentComplianceRecord) -> str:
        return _pretty(obj.results)

    @admin.display(description="evidence bundle")
    def evidence_bundle_link(self, obj: DeploymentComplianceRecord) -> str:
        url = reverse("admin:compliance_deploymentcompliancerecord_evidence", args=[obj.pk])
        return format_html('<a class="button" href="{}">Download evidence bundle</a>', url)

    def get_urls(self) -> list:
        return [
            path("<uuid:object_id>/evidence-bundle/", self.admin_site.admin_view(self.evidence_bundle_view),
                 name="compliance_deploymentcompliancerecord_evidence"),
            *super().get_urls(),
        ]

    def evidence_bundle_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        deployment = self.get_object(request, str(object_id))
        if deployment is None:
            raise Http404("No such deployment.")
        bundle = services.evidence_bundle_export(deployment=deployment, actor=staff_actor(request.user))
        response = HttpResponse(bundle, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="evidence-{deployment.pk}.zip"'
        return response


# ---- Holder registry -------------------------------------------------------------------------------------
class KycExpiringFilter(admin.SimpleListFilter):
    """`kyc_expires_at`: within the next 30 days, already past, or none recorded."""

    title = "KYC expiring"
    parameter_name = "kyc_expiry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("30d", "Within 30 days"), ("expired", "Expired"), ("none", "No expiry")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "30d":
            return queryset.filter(kyc_expires_at__gt=now, kyc_expires_at__lte=now + timedelta(days=30))
        if self.value() == "expired":
            return queryset.filter(kyc_expires_at__lte=now)
        if self.value() == "none":
            return queryset.filter(kyc_expires_at__isnull=True)
        return queryset


class AllowListEntryAddForm(forms.ModelForm):
    """A compliance officer adds an entry: validated as the API's add body, written by the service (the
    token's rules and block list, audit entry, webhook event, on-chain sync), as the staff member."""

    token = forms.ModelChoiceField(queryset=Token.objects.order_by("name"))
    address = forms.CharField(max_length=64, required=False, help_text="The holder's address on the token's chain.")
    email = forms.EmailField(required=False, help_text="Instead of an address: a member of the token's organization.")
    status = forms.ChoiceField(choices=AllowListEntry.Status.choices, initial=AllowListEntry.Status.ACTIVE)
    kyc_verified = forms.BooleanField(required=False)
    kyc_provider = forms.CharField(max_length=100, required=False)
    kyc_verified_at = forms.DateTimeField(required=False)
    kyc_expires_at = forms.DateTimeField(required=False)
    investor_category = forms.ChoiceField(choices=AllowListEntry.InvestorCategory.choices,
                                          initial=AllowListEntry.InvestorCategory.RETAIL)
    jurisdiction = forms.CharField(max_length=2, required=False, help_text="ISO 3166 alpha-2.")
    reason = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    actor = ""  # set by the admin: the staff member the entry is recorded as added by
    created: AllowListEntry | None = None

    class Meta:
        model = AllowListEntry
        fields: tuple[str, ...] = ()

    def _post_clean(self) -> None:
        """No model validation of an unsaved instance: the service validated and wrote the entry."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        token = cleaned.get("token")
        if token is None or self.errors:
            return cleaned
        body = {name: (value.isoformat() if hasattr(value, "isoformat") else value)
                for name, value in cleaned.items() if name != "token" and value not in (None, "")}
        serializer = EntryCreateSerializer(data=body, context={"family": token.family})
        if not serializer.is_valid():
            for name, problems in serializer.errors.items():
                self.add_error(name if name in self.fields else None, [str(p) for p in problems])
            return cleaned
        values = dict(serializer.validated_data)
        address, email = values.pop("address", None), values.pop("email", None)
        try:
            self.created = holder_services.allowlist_entry_create(token=token, address=address, email=email,
                                                                  values=values, actor=self.actor)
        except ApplicationError as exc:
            rules = ", ".join(str(r) for r in (exc.details or {}).get("rules", []))
            self.add_error(None, f"{exc.code}: {exc.message}" + (f" ({rules})" if rules else ""))
        return cleaned


@admin.register(AllowListEntry)
class AllowListEntryAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Entries are changed through the API or the add form and actions here (services: rules, audit,
    webhooks, on-chain sync), recorded as the staff member's action. The compliance group (view
    permission) may add, suspend and activate."""

    list_display = ("address", "token", "status", "investor_category", "jurisdiction", "kyc_verified",
                    "kyc_expires_at", "updated_at")
    list_filter = ("status", "jurisdiction", "investor_category", "kyc_verified", KycExpiringFilter)
    search_fields = ("address", "token__name", "token__contract_address", "user__email")
    list_select_related = ("token",)
    actions = ["suspend_entries", "activate_entries"]

    @admin.action(description="Suspend the selected entries")
    def suspend_entries(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, AllowListEntry.Status.SUSPENDED, "suspended")

    @admin.action(description="Activate the selected entries (the token's rules are checked)")
    def activate_entries(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, AllowListEntry.Status.ACTIVE, "activated")

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str, done: str) -> None:
        if not request.user.has_perm("compliance.view_allowlistentry"):
            raise PermissionDenied
        changed = 0
        for entry in queryset.select_related("token"):
            try:
                holder_services.allowlist_entry_update(entry=entry, values={"status": status},
                                                       actor=staff_actor(request.user))
                changed += 1
            except ApplicationError as exc:
                rules = ", ".join(str(r) for r in (exc.details or {}).get("rules", []))
                self.message_user(request, f"{entry.address}: {exc.code} {rules}".strip(), level=messages.ERROR)
        self.message_user(request, f"{changed} entries {done}.")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("compliance.view_allowlistentry"))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        form = type("StaffAllowListEntryAddForm", (AllowListEntryAddForm,), {"actor": staff_actor(request.user)})
        return form

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return list(AllowListEntryAddForm.base_fields)
        return super().get_fields(request, obj)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        return form.created if not change else super().save_form(request, form, change)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """The add form's service call has written the entry already."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """An entry has no relations the add form writes."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BlockListEntry)
class BlockListEntryAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("address", "organization", "category", "effective_from", "expires_at", "added_by")
    list_filter = ("category",)
    search_fields = ("address", "organization__name", "reason")


class InSyncFilter(admin.SimpleListFilter):
    """In sync: the chain was read and no entry differs; `unread`: the chain did not answer (`error`)."""

    title = "in sync"
    parameter_name = "in_sync"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No: entries differ"), ("unread", "Chain not read")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(difference_count=0, error="")
        if self.value() == "no":
            return queryset.filter(difference_count__gt=0)
        if self.value() == "unread":
            return queryset.exclude(error="")
        return queryset


@admin.register(AllowListDriftReport)
class AllowListDriftReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The kept comparisons of allow lists with their chains (GET .../allowlist/drift, the beat job)."""

    list_display = ("created_at", "token", "organization", "in_sync", "difference_count", "checked", "error")
    list_filter = (InSyncFilter,)
    search_fields = ("token__name", "token__contract_address", "organization__name")
    list_select_related = ("token", "organization")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "token", "organization", "in_sync", "checked", "difference_count", "error",
                       "differences_view")
    fields = readonly_fields

    @admin.display(description="in sync", boolean=True)
    def in_sync(self, obj: AllowListDriftReport) -> bool | None:
        return None if obj.error else obj.difference_count == 0

    @admin.display(description="differences")
    def differences_view(self, obj: AllowListDriftReport) -> str:
        return _pretty(obj.differences)


@admin.register(JurisdictionRules)
class JurisdictionRulesAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("token", "max_holders", "retail_allowed", "kyc_required", "kyc_max_age_days", "updated_at")
    list_filter = ("retail_allowed", "kyc_required")
    search_fields = ("token__name", "token__contract_address")
