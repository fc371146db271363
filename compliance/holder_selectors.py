"""Reads of the holder registry (allow lists, block list, jurisdiction rules), scoped through the token
(`deployments.selectors_tokens.token_get`: another organization's token answers 404) or the caller's
membership of the organization (the block list)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from biatec.core.api import filter_given
from biatec.core.errors import NotFound
from deployments.token_models import Token

from .models import AllowListEntry, BlockListEntry, JurisdictionRules


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def allowlist_entries(*, token: Token, filters: dict[str, Any] | None = None) -> QuerySet[AllowListEntry]:
    filters = dict(filters or {})
    qs = AllowListEntry.objects.filter(token=token).select_related("sync_operation")
    if filters.get("address"):
        qs = qs.filter(address__iexact=filters["address"])
    return filter_given(qs, filters, {"status": "status", "jurisdiction": "jurisdiction",
                                      "investor_category": "investor_category"})


def allowlist_entry_get(*, token: Token, entry_id: Any) -> AllowListEntry:
    entry = AllowListEntry.objects.filter(pk=entry_id, token=token).select_related("sync_operation").first()
    if entry is None:
        raise NotFound("No such allow-list entry.")
    return entry


def allowlist_entries_at(*, token: Token, addresses: list[str]) -> dict[str, AllowListEntry]:
    """The token's entries of `addresses`, by lower-cased address."""
    wanted = Q()
    for address in addresses:
        wanted |= Q(address__iexact=address)
    found = AllowListEntry.objects.filter(wanted, token=token).select_related("sync_operation", "user")
    return {e.address.lower(): e for e in found} if addresses else {}


def allowlist_active_count(*, token: Token, excluding: Any = None) -> int:
    qs = AllowListEntry.objects.filter(token=token, status=AllowListEntry.Status.ACTIVE)
    return (qs.exclude(pk=excluding) if excluding is not None else qs).count()


def jurisdiction_rules_of(*, token: Token) -> JurisdictionRules | None:
    return JurisdictionRules.objects.filter(token=token).first()


def blocks_in_force(*, organization_id: Any, addresses: list[str],
                    now: datetime | None = None) -> dict[str, BlockListEntry]:
    """The organization's block-list entries in force now for `addresses`, by lower-cased address."""
    if not addresses:
        return {}
    now = now or timezone.now()
    wanted = Q()
    for address in addresses:
        wanted |= Q(address__iexact=address)
    qs = (BlockListEntry.objects.filter(wanted, organization_id=organization_id, effective_from__lte=now)
          .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("created_at"))
    found: dict[str, BlockListEntry] = {}
    for block in qs:
        found.setdefault(block.address.lower(), block)
    return found


def blocklist_entries(*, organization_id: Any, filters: dict[str, Any] | None = None) -> QuerySet[BlockListEntry]:
    filters = dict(filters or {})
    qs = BlockListEntry.objects.filter(organization_id=organization_id)
    if filters.get("address"):
        qs = qs.filter(address__iexact=filters["address"])
    return filter_given(qs, filters, {"category": "category"})


def blocklist_entry_get(*, organization_ids: Any, block_id: Any) -> BlockListEntry:
    block = BlockListEntry.objects.filter(pk=block_id, organization_id__in=organization_ids).first()
    if block is None:
        raise NotFound("No such block-list entry.")
    return block


# ---- Rows (the API's JSON) ------------------------------------------------------------------------------
ENTRY_COLUMNS = ["id", "token_id", "address", "user_id", "status", "kyc_verified", "kyc_provider", "kyc_verified_at",
                 "kyc_expires_at", "investor_category", "jurisdiction", "reason", "added_by", "created_at",
                 "updated_at"]


def entry_row(entry: AllowListEntry) -> dict[str, Any]:
    return {"id": str(entry.pk), "token_id": str(entry.token_id), "address": entry.address,
            "user_id": str(entry.user_id) if entry.user_id else None, "status": entry.status,
            "kyc_verified": entry.kyc_verified, "kyc_provider": entry.kyc_provider,
            "kyc_verified_at": _iso(entry.kyc_verified_at), "kyc_expires_at": _iso(entry.kyc_expires_at),
            "investor_category": entry.investor_category, "jurisdiction": entry.jurisdiction or None,
            "reason": entry.reason, "added_by": entry.added_by, "created_at": _iso(entry.created_at),
            "updated_at": _iso(entry.updated_at), "sync": sync_row(entry)}


def sync_row(entry: AllowListEntry) -> dict[str, Any] | None:
    """The allowlist_sync operation that carries the entry's last change to the chain, if any."""
    operation = entry.sync_operation if entry.sync_operation_id else None
    if operation is None:
        return None
    return {"operation_id": str(operation.pk), "status": operation.status}


def block_row(block: BlockListEntry, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    in_force = block.effective_from <= now and (block.expires_at is None or block.expires_at > now)
    return {"id": str(block.pk), "organization_id": str(block.organization_id), "address": block.address,
            "category": block.category, "effective_from": _iso(block.effective_from),
            "expires_at": _iso(block.expires_at), "in_force": in_force, "reason": block.reason,
            "added_by": block.added_by, "created_at": _iso(block.created_at), "updated_at": _iso(block.updated_at)}


RULE_FIELDS = ("allowed_countries", "blocked_countries", "max_holders", "retail_allowed", "kyc_required",
               "kyc_max_age_days")


def rules_row(token: Token, rules: JurisdictionRules | None) -> dict[str, Any]:
    """The token's rules; a token without a rules row answers the defaults (`configured: false`)."""
    values = ({name: getattr(rules, name) for name in RULE_FIELDS} if rules is not None else
              {"allowed_countries": [], "blocked_countries": [], "max_holders": None, "retail_allowed": True,
               "kyc_required": False, "kyc_max_age_days": None})
    return {"token_id": str(token.pk), "configured": rules is not None, **values,
            "updated_at": _iso(rules.updated_at) if rules is not None else None}
