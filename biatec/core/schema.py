"""OpenAPI schema class: nested `InputSerializer`/`OutputSerializer` classes get unique component
names from their qualified name (`RegisterApi.InputSerializer` -> `RegisterApiInput`)."""
from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema


class BiatecAutoSchema(AutoSchema):
    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer = qualname.split(".")[0]
            if not name.startswith(outer):
                name = outer + name
        return name


class VersionedJWTScheme(SimpleJWTScheme):
    """Documents `VersionedJWTAuthentication` as the bearer JWT scheme it is."""

    target_class = "accounts.authentication.VersionedJWTAuthentication"
    name = "jwtAuth"
