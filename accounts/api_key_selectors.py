"""Reads of organization API keys (never the hash)."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from biatec.core.errors import NotFound

from .models import ApiKey


def api_key_list(*, organization_id: Any) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization_id=organization_id).order_by("-created_at")


def api_key_get(*, organization_id: Any, key_id: Any) -> ApiKey:
    key = api_key_list(organization_id=organization_id).filter(pk=key_id).first()
    if key is None:
        raise NotFound("No such API key.")
    return key


def api_key_row(key: ApiKey) -> dict[str, Any]:
    return {"id": str(key.pk), "organization_id": str(key.organization_id), "name": key.name,
            "prefix": key.prefix, "role": key.role, "status": key.status, "allowed_ips": list(key.allowed_ips),
            "expires_at": key.expires_at, "created_by": str(key.created_by_id) if key.created_by_id else None,
            "created_at": key.created_at, "last_used_at": key.last_used_at, "last_used_ip": key.last_used_ip,
            "revoked_at": key.revoked_at,
            "revoked_by": str(key.revoked_by_id) if key.revoked_by_id else None}
