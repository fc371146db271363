"""Request serializers refuse what they do not know.

DRF ignores keys a serializer does not declare, so `{"regulated": true}` would be silently dropped and
the caller would believe it was applied. Every input serializer of the API derives from
`StrictSerializer` (or mixes in `StrictFieldsMixin`): a key that is not a writable field answers
400 `VALIDATION_ERROR` with `details.fields.<key> = ["Unknown field."]`, for nested serializers too.
The OpenAPI schema says the same (`additionalProperties: false`, set by `biatec.core.schema`).

Endpoints without a body call `body_empty_check(request)`, which applies the same rule to an
empty field set.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

UNKNOWN_FIELD = "Unknown field."


def unknown_fields(data: Any, known: Iterable[str]) -> list[str]:
    """Keys of `data` (a JSON object) that are not in `known`, sorted."""
    if not isinstance(data, Mapping):
        return []
    return sorted(set(data) - set(known))


def unknown_fields_error(unknown: Iterable[str]) -> dict[str, list[str]]:
    return {key: [UNKNOWN_FIELD] for key in unknown}


class StrictFieldsMixin:
    """Refuse keys that are not writable fields of the serializer (see the module docstring)."""

    strict_fields = True

    def writable_field_names(self) -> list[str]:
        fields: Mapping[str, serializers.Field] = self.fields  # type: ignore[attr-defined]
        return [name for name, field in fields.items() if not field.read_only]

    def to_internal_value(self, data: Any) -> Any:
        unknown = unknown_fields(data, self.writable_field_names())
        if unknown:
            raise serializers.ValidationError(unknown_fields_error(unknown))
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """The base class of every request body serializer."""


def body_empty_check(request: Any) -> None:
    """For an endpoint that takes no body: any JSON key is unknown (400 VALIDATION_ERROR)."""
    data = request.data
    if isinstance(data, Mapping) and data:
        raise serializers.ValidationError(unknown_fields_error(sorted(data)))
    if data not in (None, {}, "", b"") and not isinstance(data, Mapping):
        raise serializers.ValidationError({"non_field_errors": ["This endpoint takes no request body."]})


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.JSONField):
    """A free-form JSON object (documented as a map, not as an untyped value)."""


class IsoDateTimeField(serializers.DateTimeField):
    """ISO 8601 exactly as `datetime.isoformat()` writes it (offset `+00:00`), the form the webhook
    payloads, exports and signed evidence have always carried."""

    def to_representation(self, value: Any) -> Any:  # str, or None for a missing time
        return value.isoformat() if value is not None else None
