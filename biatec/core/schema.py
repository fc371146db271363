"""OpenAPI schema class of the API (drf-spectacular), and the one place that documents errors.

- Nested `InputSerializer`/`OutputSerializer` classes get unique component names from their qualified
  name (`RegisterApi.InputSerializer` -> `RegisterApiInput`).
- Request bodies of strict serializers (`biatec.core.serializers.StrictFieldsMixin`) are
  `additionalProperties: false`, exactly what the server enforces.
- Every operation documents the error responses it can answer, each with the error shape
  `{"code", "message", "details", "correlation_id"}` whose `code` is an enum of the codes the API
  answers with that status (collected from the `ApplicationError` hierarchy and DRF's own errors).
  Which statuses an operation documents follows from the view, without decorators: 400 for anything
  with a body or query/header parameters, 401 when authentication is required, 403 for authenticated writes,
  404 with path parameters, 413/415 with a body, 429 with throttles, those an authentication class names
  (`error_statuses_of(view, method)`: an API key's 403/429 on the routes open to keys), 503 everywhere (node or database
  unavailable). A view adds the state-dependent ones its operations answer with one attribute,
  `error_statuses = (409, 422, ...)`.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

from .errors import ApplicationError
from .serializers import StrictFieldsMixin

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed or invalid input (`details.fields` names each field), or a network that is unknown, "
         "of the wrong family or not configured.",
    401: "Missing, expired or revoked credentials.",
    402: "The account cannot pay for the transaction (`details.needed` / `details.available`), or the "
         "organization's plan refuses it: QUOTA_EXCEEDED (`details.limit` / `used` / `resets_at`), "
         "PLAN_NETWORK_NOT_ALLOWED (docs/plans-and-usage.md).",
    403: "Your role does not allow this.",
    404: "No such resource (or not visible to you).",
    409: "Conflicts with the resource's current state (or with an earlier request of the same Idempotency-Key).",
    413: "The request body is too large.",
    415: "The body is not JSON.",
    422: "Refused by a rule that depends on state (compliance policy, chain).",
    410: "Gone: used once already, or expired.",
    423: "Locked after too many failed attempts.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    503: "A dependency (chain node, database) does not answer; nothing was done. Retry later.",
}
DRF_CODES: dict[int, tuple[str, ...]] = {
    400: ("VALIDATION_ERROR",), 401: ("NOT_AUTHENTICATED",), 403: ("PERMISSION_DENIED",), 404: ("NOT_FOUND",),
    405: ("METHOD_NOT_ALLOWED",), 406: ("NOT_ACCEPTABLE",), 415: ("UNSUPPORTED_MEDIA_TYPE",), 429: ("RATE_LIMITED",),
    500: ("INTERNAL_ERROR",),
}
EXTRA_CODES: dict[int, tuple[str, ...]] = {
    400: ("INVALID_NETWORK", "UNSUPPORTED_STANDARD"),  # raised as ValidationFailed(code=...)
}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _subclasses(cls: type[ApplicationError]) -> list[type[ApplicationError]]:
    found: list[type[ApplicationError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def error_codes_by_status() -> dict[int, list[str]]:
    """Every error code the API can answer, per HTTP status."""
    codes: dict[int, set[str]] = {status: set(values) for status, values in DRF_CODES.items()}
    for status, values in EXTRA_CODES.items():
        codes.setdefault(status, set()).update(values)
    errors: list[type[ApplicationError]] = [ApplicationError, *_subclasses(ApplicationError)]
    for error in errors:
        codes.setdefault(int(error.http_status), set()).add(str(error.code))
    return {status: sorted(values) for status, values in sorted(codes.items())}


def error_schema(status: int, codes: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": ERROR_DESCRIPTIONS.get(status, "An error."),
        "additionalProperties": False,
        "required": ["code", "message", "details", "correlation_id"],
        "properties": {
            "code": {"type": "string", "enum": codes, "description": "Stable, machine-readable."},
            "message": {"type": "string", "description": "For humans; may change."},
            "details": {"type": "object", "additionalProperties": True,
                        "description": "Structured facts, e.g. `fields` for VALIDATION_ERROR."},
            "correlation_id": {"type": "string", "nullable": True,
                               "description": "Also in the X-Correlation-ID header and every log line."},
        },
    }


class BiatecAutoSchema(AutoSchema):
    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer = qualname.split(".")[0]
            if not name.startswith(outer):
                name = outer + name
        return name

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictFieldsMixin):
            schema["additionalProperties"] = False
        elif getattr(serializer, "schema_additional_properties", None) is not None:
            schema["additionalProperties"] = serializer.schema_additional_properties
        return schema

    # ------------------------------------------------------------------------------- errors
    def _requires_authentication(self) -> bool:
        permissions = self.view.get_permissions()
        return bool(permissions) and not all(isinstance(p, AllowAny) for p in permissions)

    def error_statuses(self, operation: dict[str, Any]) -> set[int]:
        has_body = "requestBody" in operation
        parameters = operation.get("parameters") or []
        statuses = {503}
        if has_body or any(p.get("in") != "path" for p in parameters) or self.method in WRITE_METHODS:
            statuses.add(400)
        if has_body:
            statuses |= {413, 415}
        if self._requires_authentication():
            statuses.add(401)
            if self.method in WRITE_METHODS:
                statuses.add(403)
        if any(p.get("in") == "path" for p in parameters):
            statuses.add(404)
        if self.view.get_throttles():
            statuses.add(429)
        for authenticator in self.view.get_authenticators():  # e.g. an API key's own refusals and throttle
            extra = getattr(authenticator, "error_statuses_of", None)
            if callable(extra):
                statuses.update(extra(self.view, self.method.lower()))
        statuses.update(getattr(self.view, "error_statuses", ()))
        return statuses

    def _error_component(self, status: int) -> ResolvedComponent:
        component = ResolvedComponent(name=f"Error{status}", type=ResolvedComponent.SCHEMA, object=f"Error{status}")
        if component not in self.registry:  # the codes are walked once per status, not once per operation
            component.schema = error_schema(status, error_codes_by_status().get(status, ["ERROR"]))
            self.registry.register(component)
        return component

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status in sorted(self.error_statuses(operation)):
            if str(status) in responses:
                continue
            component = self._error_component(status)
            responses[str(status)] = {"description": ERROR_DESCRIPTIONS.get(status, "An error."),
                                      "content": {"application/json": {"schema": component.ref}}}
        return operation


class VersionedJWTScheme(SimpleJWTScheme):
    """Documents `VersionedJWTAuthentication` as the bearer JWT scheme it is."""

    target_class = "accounts.authentication.VersionedJWTAuthentication"
    name = "jwtAuth"


def paginated(name: str, item: Any) -> Any:
    """The schema of a cursor page of `item` (`CreatedAtCursorPagination`): next, previous, results."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    return inline_serializer(name, {
        "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
        "previous": serializers.URLField(allow_null=True, help_text="The previous page, or null."),
        "results": item,
    })


def results_of(name: str, item: Any) -> Any:
    """The schema of `{"results": [...]}` (an unpaginated list)."""
    from drf_spectacular.utils import inline_serializer

    return inline_serializer(name, {"results": item})


def cursor_parameters() -> list[Any]:
    """`cursor` and `page_size` of `CreatedAtCursorPagination`."""
    from drf_spectacular.utils import OpenApiParameter

    return [OpenApiParameter("cursor", str, description="The `next`/`previous` cursor of a page."),
            OpenApiParameter("page_size", int, description="1 to 200 (default 50).")]
