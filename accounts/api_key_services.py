"""Writes of organization API keys (docs/api-keys.md): create (the key's text returned once) and
revoke. Both need a person holding `manage_api_keys` (owner, admin; a key cannot manage keys: 403
API_KEY_ROUTE_NOT_ALLOWED), are audited (`api_key.created|revoked`) and filed as security events."""
from __future__ import annotations

import ipaddress
import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from biatec.audit.chain import audit_record
from biatec.core.actors import actor_of
from biatec.core.errors import ValidationFailed

from . import members_errors, roles
from .models import ApiKey, Membership, SecurityEvent
from .plans_models import API_KEYS
from .quotas import quota_check
from .security_events import security_event_record

logger = logging.getLogger(__name__)

MAX_ALLOWED_NETWORKS = 50


def networks_normalize(values: list[str]) -> list[str]:
    """The CIDR networks (a bare address is its /32 or /128), normalized; 400 on one that is none."""
    if len(values) > MAX_ALLOWED_NETWORKS:
        raise ValidationFailed(details={"fields": {"allowed_ips": [f"At most {MAX_ALLOWED_NETWORKS} networks."]}})
    networks: list[str] = []
    for value in values:
        try:
            network = str(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValidationFailed(details={"fields": {"allowed_ips": [f"Not an IP network: {value!r}."]}}) from None
        if network not in networks:
            networks.append(network)
    return networks


def _ceiling_check(*, actor_role: str, role: str) -> None:
    if roles.role_rank(role) < roles.role_rank(actor_role):
        raise members_errors.RoleNotGrantable("You cannot give a key a role above your own, nor revoke a key "
                                              "whose role is above yours.",
                                              details={"role": role, "your_role": actor_role})


def _payload(key: ApiKey) -> dict[str, Any]:
    return {"name": key.name, "prefix": key.prefix, "role": key.role, "allowed_ips": list(key.allowed_ips),
            "expires_at": key.expires_at.isoformat() if key.expires_at else None}


@transaction.atomic
def api_key_create(*, actor: Membership, name: str, role: str, expires_at: datetime | None = None,
                   allowed_ips: list[str] | None = None) -> tuple[ApiKey, str]:
    """A key of the actor's organization and its full text (returned once, stored only hashed)."""
    _ceiling_check(actor_role=actor.role, role=role)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(details={"fields": {"expires_at": ["Must be in the future."]}})
    quota_check(actor.organization, API_KEYS, used=lambda: ApiKey.objects.filter(  # the plan's keys (402)
        organization_id=actor.organization_id, revoked_at__isnull=True).count())
    key, text = ApiKey.objects.create_key(
        organization_id=actor.organization_id, name=name, role=role, expires_at=expires_at,
        allowed_ips=networks_normalize(allowed_ips or []), created_by=actor.user)
    audit_record(action="api_key.created", actor=actor_of(actor.user), organization_id=actor.organization_id,
                 object_type="api_key", object_id=str(key.pk), payload=_payload(key))
    security_event_record(event_type=SecurityEvent.Type.API_KEY_CREATED, user=actor.user,
                          organization_id=actor.organization_id,
                          details={"api_key_id": str(key.pk), "prefix": key.prefix, "role": key.role})
    logger.info("api key created", extra={"key_id": str(key.pk), "key_prefix": key.prefix,
                                          "organization_id": str(actor.organization_id)})
    return key, text


@transaction.atomic
def api_key_revoke(*, actor: Membership, key: ApiKey) -> ApiKey:
    """Revoke the key: refused from the next request on. Revoking a revoked key changes nothing."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    _ceiling_check(actor_role=actor.role, role=key.role)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.revoked_by = actor.user
    key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    audit_record(action="api_key.revoked", actor=actor_of(actor.user), organization_id=key.organization_id,
                 object_type="api_key", object_id=str(key.pk), payload=_payload(key))
    security_event_record(event_type=SecurityEvent.Type.API_KEY_REVOKED, user=actor.user,
                          organization_id=key.organization_id,
                          details={"api_key_id": str(key.pk), "prefix": key.prefix, "role": key.role})
    logger.info("api key revoked", extra={"key_id": str(key.pk), "key_prefix": key.prefix,
                                          "organization_id": str(key.organization_id)})
    return key
