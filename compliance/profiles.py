"""The compliance profile of a token request (`compliance_metadata`): validation, normal form, hash."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from rest_framework import serializers

from biatec.audit.canonical import canonical_json
from biatec.core.errors import ValidationFailed
from biatec.core.serializers import StrictSerializer

from .countries import EU_MEMBER_STATES, ISO_3166_ALPHA2
from .lei import lei_is_valid
from .mica import CLASSIFICATIONS

INSTITUTION_TYPES = ("credit_institution", "e_money_institution", "investment_firm", "casp", "other")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class CountryField(serializers.CharField):
    """ISO 3166-1 alpha-2, upper-cased."""

    def __init__(self, *, eu_only: bool = False, **kwargs: Any) -> None:
        self.eu_only = eu_only
        super().__init__(max_length=2, min_length=2, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data).strip().upper()
        if code not in ISO_3166_ALPHA2:
            raise serializers.ValidationError(f"'{code}' is not an ISO 3166-1 alpha-2 country code.")
        if self.eu_only and code not in EU_MEMBER_STATES:
            raise serializers.ValidationError(f"'{code}' is not a member state of the European Union.")
        return code


class ComplianceProfileSerializer(StrictSerializer):
    issuer_legal_name = serializers.CharField(max_length=200)
    issuer_lei = serializers.CharField(required=False, allow_blank=True, max_length=20,
                                       help_text="ISO 17442 Legal Entity Identifier (20 characters).")
    issuer_country = CountryField(help_text="ISO 3166-1 alpha-2.")
    token_classification = serializers.ChoiceField(choices=CLASSIFICATIONS)
    offer_to_public_eu = serializers.BooleanField(default=False)
    member_states = serializers.ListField(child=CountryField(eu_only=True), required=False, default=list,
                                          max_length=27)
    expected_total_consideration_eur = serializers.DecimalField(max_digits=20, decimal_places=2, min_value=0,
                                                                required=False, allow_null=True)
    offerees_per_member_state = serializers.DictField(child=serializers.IntegerField(min_value=0), required=False,
                                                      default=dict)
    qualified_investors_only = serializers.BooleanField(default=False)
    white_paper_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    white_paper_sha256 = serializers.CharField(required=False, allow_blank=True, max_length=64)
    white_paper_publication_date = serializers.DateField(required=False, allow_null=True)
    competent_authority = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notification_date = serializers.DateField(required=False, allow_null=True)
    authorisation_reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    issuer_institution_type = serializers.ChoiceField(choices=INSTITUTION_TYPES, required=False, allow_blank=True)
    kyc_provider = serializers.CharField(required=False, allow_blank=True, max_length=200)
    max_holders = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    transfer_restrictions = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    accredited_investors_only = serializers.BooleanField(default=False)

    def validate_issuer_lei(self, value: str) -> str:
        value = value.strip().upper()
        if value and not lei_is_valid(value):
            raise serializers.ValidationError(
                "Not a valid LEI: 20 characters (18 alphanumeric + 2 check digits, ISO 17442 / ISO 7064 MOD 97-10).")
        return value

    def validate_white_paper_sha256(self, value: str) -> str:
        value = value.strip().lower()
        if value and not _SHA256.match(value):
            raise serializers.ValidationError("A SHA-256 digest is 64 hexadecimal characters.")
        return value

    def validate_offerees_per_member_state(self, value: dict[str, int]) -> dict[str, int]:
        normalised: dict[str, int] = {}
        for code, count in value.items():
            upper = str(code).strip().upper()
            if upper not in EU_MEMBER_STATES:
                raise serializers.ValidationError(f"'{code}' is not a member state of the European Union.")
            normalised[upper] = count
        return normalised

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        member_states = attrs.get("member_states") or []
        if len(set(member_states)) != len(member_states):
            errors["member_states"] = "Member states must not repeat."
        if attrs.get("offer_to_public_eu") and not member_states:
            errors["member_states"] = "An offer to the public in the EU names its member states."
        extra = set(attrs.get("offerees_per_member_state") or {}) - set(member_states)
        if extra:
            errors["offerees_per_member_state"] = f"Not member states of the offer: {', '.join(sorted(extra))}."
        if attrs.get("white_paper_sha256") and not attrs.get("white_paper_url"):
            errors["white_paper_url"] = "Give the URL of the white paper whose hash is recorded."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def profile_normalize(raw: Any) -> dict[str, Any]:
    """The validated profile in its JSON normal form (sorted member states, strings for amounts and
    dates); raises VALIDATION_ERROR with the field errors under `compliance_metadata`."""
    if not isinstance(raw, dict):
        raise ValidationFailed("compliance_metadata must be a JSON object.",
                               details={"fields": {"compliance_metadata": ["Must be a JSON object."]}})
    serializer = ComplianceProfileSerializer(data=raw)
    if not serializer.is_valid():
        raise ValidationFailed("The compliance profile is not valid.",
                               details={"fields": {"compliance_metadata": serializer.errors}})
    data = dict(serializer.validated_data)
    data["member_states"] = sorted(data.get("member_states") or [])
    for key in ("white_paper_publication_date", "notification_date"):
        if data.get(key) is not None:
            data[key] = data[key].isoformat()
    if data.get("expected_total_consideration_eur") is not None:
        data["expected_total_consideration_eur"] = str(data["expected_total_consideration_eur"])
    return {key: data[key] for key in sorted(data)}


def profile_sha256(profile: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(profile)).hexdigest()
