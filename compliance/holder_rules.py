"""The holder rules of a token, evaluated on plain values (no queries here): what an allow-list entry
must satisfy to be `active`, and what a transfer between two addresses must satisfy
(docs/architecture.md, "Holder registry").

Rule names are stable (API details, webhooks, audit): `country_not_allowed`, `retail_not_allowed`,
`kyc_required`, `kyc_expired`, `holder_limit_reached`, `blocked`, and for transfers also `not_listed`,
`suspended`, `revoked` and the live-chain ones `token_paused`, `sender_frozen`, `recipient_frozen`,
`insufficient_balance`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from biatec.core.errors import ApplicationError

COUNTRY_NOT_ALLOWED = "country_not_allowed"
RETAIL_NOT_ALLOWED = "retail_not_allowed"
KYC_REQUIRED = "kyc_required"
KYC_EXPIRED = "kyc_expired"
HOLDER_LIMIT_REACHED = "holder_limit_reached"
BLOCKED = "blocked"
NOT_LISTED = "not_listed"
SUSPENDED = "suspended"
REVOKED = "revoked"
TOKEN_PAUSED = "token_paused"
SENDER_FROZEN = "sender_frozen"
RECIPIENT_FROZEN = "recipient_frozen"
INSUFFICIENT_BALANCE = "insufficient_balance"


class AllowListRuleViolation(ApplicationError):
    code = "ALLOWLIST_RULE_VIOLATION"
    http_status = 422
    default_message = "The token's holder rules refuse this entry as active."


class AddressBlocked(ApplicationError):
    code = "ADDRESS_BLOCKED"
    http_status = 422
    default_message = "The address is on the organization's block list: it cannot be made active."


@dataclass(frozen=True)
class Rules:
    """A token's jurisdiction rules as plain values (defaults when the token has none)."""

    allowed_countries: tuple[str, ...] = ()
    blocked_countries: tuple[str, ...] = ()
    max_holders: int | None = None
    retail_allowed: bool = True
    kyc_required: bool = False
    kyc_max_age_days: int | None = None

    @classmethod
    def of(cls, row: Any | None) -> Rules:
        if row is None:
            return cls()
        return cls(allowed_countries=tuple(row.allowed_countries or ()),
                   blocked_countries=tuple(row.blocked_countries or ()), max_holders=row.max_holders,
                   retail_allowed=row.retail_allowed, kyc_required=row.kyc_required,
                   kyc_max_age_days=row.kyc_max_age_days)


def _failure(rule: str, message: str, **details: Any) -> dict[str, Any]:
    return {"rule": rule, "message": message, **details}


def country_failures(rules: Rules, jurisdiction: str) -> list[dict[str, Any]]:
    if jurisdiction and jurisdiction in rules.blocked_countries:
        return [_failure(COUNTRY_NOT_ALLOWED, f"{jurisdiction} is a blocked country of this token.",
                         jurisdiction=jurisdiction)]
    if rules.allowed_countries and jurisdiction not in rules.allowed_countries:
        return [_failure(COUNTRY_NOT_ALLOWED, f"{jurisdiction or 'No jurisdiction'} is not an allowed country "
                                              "of this token.", jurisdiction=jurisdiction or None)]
    return []


def kyc_failures(rules: Rules, entry: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The entry's KYC: required and missing; expired (`kyc_expires_at` passed, or verified longer
    ago than `kyc_max_age_days`). An expiry date that has passed counts whether or not KYC is required."""
    failures = []
    verified, verified_at, expires_at = entry.get("kyc_verified"), entry.get("kyc_verified_at"), entry.get(
        "kyc_expires_at")
    if rules.kyc_required and not verified:
        failures.append(_failure(KYC_REQUIRED, "The token requires a verified KYC."))
    expired = expires_at is not None and expires_at <= now
    too_old = (verified and rules.kyc_max_age_days is not None and verified_at is not None
               and verified_at + timedelta(days=rules.kyc_max_age_days) <= now)
    if (verified or expires_at is not None) and (expired or too_old):
        failures.append(_failure(KYC_EXPIRED, "The KYC verification has expired.",
                                 kyc_expires_at=expires_at.isoformat() if expires_at else None,
                                 kyc_max_age_days=rules.kyc_max_age_days if too_old else None))
    return failures


def entry_failures(rules: Rules, entry: dict[str, Any], *, now: datetime,
                   active_elsewhere: int | None) -> list[dict[str, Any]]:
    """Every rule an entry with these values (`jurisdiction`, `investor_category`, `kyc_*`) breaks as
    an active holder. `active_elsewhere`: the token's other active entries when this one becomes
    active (None: it already was, so the holder limit is not asked again)."""
    failures = country_failures(rules, entry.get("jurisdiction") or "")
    if not rules.retail_allowed and entry.get("investor_category", "retail") == "retail":
        failures.append(_failure(RETAIL_NOT_ALLOWED, "The token is for professional investors and eligible "
                                                     "counterparties only."))
    failures += kyc_failures(rules, entry, now)
    if active_elsewhere is not None and rules.max_holders is not None and active_elsewhere >= rules.max_holders:
        failures.append(_failure(HOLDER_LIMIT_REACHED, f"The token already has {active_elsewhere} active holders "
                                                       f"(at most {rules.max_holders}).",
                                 max_holders=rules.max_holders))
    return failures


def block_failure(block: Any) -> dict[str, Any]:
    return _failure(BLOCKED, f"The address is on the block list ({block.category}).", category=block.category,
                    block_id=str(block.pk))


def entry_refusal(failures: list[dict[str, Any]]) -> ApplicationError:
    """The 422 for an entry that may not be active: ADDRESS_BLOCKED when the block list refuses it,
    else ALLOWLIST_RULE_VIOLATION; `details.rules` names every failed rule either way."""
    names = [f["rule"] for f in failures]
    details = {"rules": names, "failures": failures}
    if BLOCKED in names:
        return AddressBlocked(details=details)
    return AllowListRuleViolation(f"The token's holder rules refuse this entry as active: {', '.join(names)}.",
                                  details=details)
