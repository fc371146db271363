"""The documented shapes of the compliance endpoints' answers (OpenAPI). The answers themselves are
built by the selectors and services; the API contract tests (tests/api_contract) validate every answer
they receive against these, so the two cannot drift silently."""
from __future__ import annotations

from functools import cache
from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from biatec.core.serializers import JsonObjectField
from tokens.standards import STANDARDS

from .mica import CLASSIFICATIONS, COMPLIANT, FAIL, NON_COMPLIANT, NOT_APPLICABLE, OUT_OF_SCOPE, PASS


class CountsField(serializers.DictField):
    """A map of name -> count."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.IntegerField(), **kwargs)


class MicaCheckSerializer(serializers.Serializer):
    rule = serializers.CharField()
    article = serializers.CharField()
    status = serializers.ChoiceField(choices=[PASS, FAIL, NOT_APPLICABLE])
    reason = serializers.CharField()


class MicaTokenSerializer(serializers.Serializer):
    standard = serializers.CharField()
    fungibility = serializers.ChoiceField(choices=["unique", "fractional", "fungible"])
    supply = serializers.CharField(allow_null=True)
    decimals = serializers.IntegerField(allow_null=True)


class MicaResultSerializer(serializers.Serializer):
    regulation = serializers.CharField()
    overall = serializers.ChoiceField(choices=[COMPLIANT, NON_COMPLIANT, OUT_OF_SCOPE])
    regime = serializers.CharField()
    classification = serializers.ChoiceField(choices=list(CLASSIFICATIONS))
    failing_rules = serializers.ListField(child=serializers.CharField())
    flags = serializers.ListField(child=serializers.CharField())
    checks = MicaCheckSerializer(many=True)
    token = MicaTokenSerializer()
    as_of = serializers.DateField()


class PolicySnapshotSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    updated_at = serializers.DateTimeField()
    allowed_networks = serializers.ListField(child=serializers.CharField())
    allowed_standards = serializers.ListField(child=serializers.CharField())
    require_compliance_profile = serializers.BooleanField()
    require_mica_compliant = serializers.BooleanField()
    allow_out_of_scope = serializers.BooleanField()
    blocked_issuer_countries = serializers.ListField(child=serializers.CharField())
    require_operation_reason = serializers.BooleanField(help_text="Mints and forced transfers must say why.")


class ViolationSerializer(serializers.Serializer):
    schema_additional_properties = True  # rule-specific facts (e.g. `allowed`)

    rule = serializers.CharField()
    message = serializers.CharField()


class EvaluationSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    code = serializers.ChoiceField(choices=["COMPLIANCE_VIOLATION"], allow_null=True)
    violations = ViolationSerializer(many=True)
    failing_rules = serializers.ListField(child=serializers.CharField())
    mica = MicaResultSerializer(allow_null=True)
    policy_id = serializers.UUIDField(allow_null=True)
    profile_sha256 = serializers.CharField(allow_null=True)
    policy = PolicySnapshotSerializer(allow_null=True)
    decision_id = serializers.UUIDField()


def _discriminator(slug: str) -> serializers.ChoiceField:
    """`standard` of one variant: a one-value enum inline (not 11 enum components)."""
    field = extend_schema_field({"type": "string", "enum": [slug], "description": "The token standard."})(
        type("StandardDiscriminatorField", (serializers.ChoiceField,), {}))
    return field(choices=[slug])


@cache
def evaluate_request() -> PolymorphicProxySerializer:
    """The body of POST /compliance/evaluate: a create request of one standard plus `standard`
    (the discriminator)."""
    from deployments.apis import create_request_serializer

    variants = []
    for slug, spec in STANDARDS.items():
        base = create_request_serializer(spec)
        name = base.__name__.replace("CreateSerializer", "EvaluateSerializer")
        variants.append(type(name, (base,), {
            "__module__": __name__, "__doc__": f"Evaluate a `{slug}` token request.",
            "standard": _discriminator(slug),
        }))
    return PolymorphicProxySerializer(component_name="ComplianceEvaluateRequest", serializers=variants,
                                      resource_type_field_name="standard", many=False)


class AuditEntrySerializer(serializers.Serializer):
    chain = serializers.CharField(help_text="The hash chain the entry belongs to: the organization's id "
                                            "(`global` for entries written before chains were per organization).")
    sequence = serializers.IntegerField(help_text="The entry's number in its chain, from 1.")
    occurred_at = serializers.DateTimeField()
    organization_id = serializers.UUIDField(allow_null=True)
    actor = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    correlation_id = serializers.CharField()
    payload = JsonObjectField()
    prev_hash = serializers.CharField()
    entry_hash = serializers.CharField()
    personal = serializers.DictField(
        child=serializers.CharField(),
        help_text="The values of the payload's `pd:` references (e-mails, IP addresses, user agents), kept outside "
                  "the hashed content (docs/gdpr.md); an erased person's are gone.")


class AuditLogPageSerializer(serializers.Serializer):
    """Without `format`: a cursor page. With `format=json`: the export (`organization_id`, `count`,
    `truncated`, `results`)."""

    next = serializers.URLField(allow_null=True, required=False)
    previous = serializers.URLField(allow_null=True, required=False)
    organization_id = serializers.UUIDField(required=False)
    count = serializers.IntegerField(required=False)
    truncated = serializers.BooleanField(required=False)
    results = AuditEntrySerializer(many=True)


class _Organization(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class _ReportDeployments(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = CountsField()
    by_network = CountsField()
    by_standard = CountsField()


class _ReportMica(serializers.Serializer):
    by_overall = CountsField()
    by_regime = CountsField()
    failing_rules = CountsField()


class _ReportRefused(serializers.Serializer):
    total = serializers.IntegerField()
    by_rule = CountsField()


class ComplianceReportSerializer(serializers.Serializer):
    organization = _Organization()
    deployments = _ReportDeployments()
    mica = _ReportMica()
    violations_refused = _ReportRefused()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField()  # reserved words: added by name
        fields["to"] = serializers.DateTimeField()
        return fields


class AttestationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    deployment_id = serializers.UUIDField()
    statement = JsonObjectField(help_text="The signed statement (parsed).")
    statement_canonical = serializers.CharField(help_text="The exact signed bytes (UTF-8, sorted keys).")
    signature = serializers.CharField(help_text="Ed25519, base64.")
    algorithm = serializers.CharField()
    key_id = serializers.CharField()
    issued_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class AttestationKeySerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="base64")
    public_key_hex = serializers.CharField()
    created_at = serializers.DateTimeField()


class AttestationIssuedSerializer(AttestationSerializer):
    public_key = AttestationKeySerializer()


class AttestationListSerializer(serializers.Serializer):
    results = AttestationSerializer(many=True)


class IssuancePolicySerializer(serializers.Serializer):
    organization_id = serializers.UUIDField()
    policy = PolicySnapshotSerializer(allow_null=True)
