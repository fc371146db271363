"""The transfer pre-check (`POST /api/v1/tokens/{id}/transfers/validate`): every rule a transfer of
`amount` from `sender` to `recipient` breaks, by name (compliance/holder_rules.py).

Registry rules, for each party that is not the token's issuer (the issuer distributes and is not an
investor): `not_listed`, `suspended`, `revoked`, `blocked`, `country_not_allowed`,
`retail_not_allowed`, `kyc_required`, `kyc_expired`; for the recipient also `holder_limit_reached`
(it is not an active holder yet and the token has `max_holders` active ones). Then one live read of
the chain (`deployments.token_state.token_live_state`): `token_paused`, `sender_frozen`,
`recipient_frozen`, `insufficient_balance`; when the node does not answer (or the token's contract
is not on it) the answer says `chain.checked: false` with the reason, and the registry verdict stands.

`registry_failures` (the registry rules of any number of parties, no chain) is shared with the
operations' gate (`compliance.holder_operation_gate`); the endpoint itself is a dry run: a denial here
is an answer, not an event."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from biatec.core.errors import ApplicationError
from deployments.token_models import Token
from deployments.token_state import token_live_state

from . import holder_rules as hr
from . import holder_selectors as sel
from .models import AllowListEntry, BlockListEntry, JurisdictionRules


def _party_failures(rules: hr.Rules, entry: AllowListEntry | None, *, party: str,
                    block: Any) -> list[dict[str, Any]]:
    failures: list[dict[str, Any]] = []
    if block is not None:
        failures.append(hr.block_failure(block))
    if entry is None:
        failures.append({"rule": hr.NOT_LISTED, "message": "The address is not on the token's allow list."})
        return [{**f, "party": party} for f in failures]
    if entry.status == AllowListEntry.Status.SUSPENDED:
        failures.append({"rule": hr.SUSPENDED, "message": "The allow-list entry is suspended."})
    elif entry.status == AllowListEntry.Status.REVOKED:
        failures.append({"rule": hr.REVOKED, "message": "The allow-list entry is revoked."})
    values = {name: getattr(entry, name) for name in ("jurisdiction", "investor_category", "kyc_verified",
                                                      "kyc_verified_at", "kyc_expires_at")}
    failures += hr.entry_failures(rules, values, now=timezone.now(), active_elsewhere=None)
    return [{**f, "party": party} for f in failures]


def _chain_failures(token: Token, sender: str, recipient: str, amount: int) -> tuple[list[dict[str, Any]],
                                                                                       dict[str, Any]]:
    try:
        live = token_live_state(token, holders=[sender, recipient])
    except ApplicationError as exc:
        return [], {"checked": False, "code": exc.code, "message": exc.message}
    holders = live.get("holders", {})
    failures = []
    if live.get("paused"):
        failures.append({"rule": hr.TOKEN_PAUSED, "party": "token", "message": "The token is paused."})
    for address, rule, party in ((sender, hr.SENDER_FROZEN, "from"), (recipient, hr.RECIPIENT_FROZEN, "to")):
        if (holders.get(address) or {}).get("frozen"):
            failures.append({"rule": rule, "party": party, "message": "The holding is frozen."})
    balance = int((holders.get(sender) or {}).get("balance") or 0)
    if balance < amount:
        failures.append({"rule": hr.INSUFFICIENT_BALANCE, "party": "from",
                         "message": f"The sender holds {balance}, less than {amount}."})
    return failures, {"checked": True}


def registry_in_use(*, token: Token) -> bool:
    """Whether the token's holder registry governs its operations: it has at least one allow-list entry
    or jurisdiction rules. Before that, a token's operations meet only the chain's own rules (a token
    nobody has put a registry on is not refused for every recipient as `not_listed`)."""
    return (AllowListEntry.objects.filter(token=token).exists()
            or JurisdictionRules.objects.filter(token=token).exists())


def _entries_at(token: Token, addresses: list[str]) -> dict[str, AllowListEntry]:
    """The token's entries of `addresses` by lower-cased address: one `IN` query however many (a batch
    of up to 10,000 recipients)."""
    wanted = sorted({a.lower() for a in addresses})
    if not wanted:
        return {}
    qs = AllowListEntry.objects.annotate(lowered=Lower("address")).filter(token=token, lowered__in=wanted)
    return {e.address.lower(): e for e in qs}


def _blocks_at(token: Token, addresses: list[str]) -> dict[str, BlockListEntry]:
    """The organization's block-list entries in force now for `addresses` (the oldest per address), as
    `holder_selectors.blocks_in_force` finds them, in one `IN` query."""
    wanted = sorted({a.lower() for a in addresses})
    if not wanted:
        return {}
    now = timezone.now()
    qs = (BlockListEntry.objects.annotate(lowered=Lower("address"))
          .filter(organization_id=token.organization_id, lowered__in=wanted, effective_from__lte=now)
          .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("created_at"))
    found: dict[str, BlockListEntry] = {}
    for block in qs:
        found.setdefault(block.address.lower(), block)
    return found


def registry_failures(*, token: Token, parties: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every registry rule each (party, address) breaks, in order; each failure carries `rule`,
    `message`, `party` and `address`. The token's issuer is exempt; a `to` party that is not an active
    holder yet also fails `holder_limit_reached` when the token has `max_holders` active entries. Shared
    by the pre-check and the operations' gate (`holder_operation_gate`); reads no chain."""
    rules = hr.Rules.of(sel.jurisdiction_rules_of(token=token))
    issuer = token.issuer_address.lower()
    parties = [(p, a) for p, a in parties if a.lower() != issuer]
    addresses = [a for _, a in parties]
    entries = _entries_at(token, addresses)
    blocks = _blocks_at(token, addresses)
    full: bool | None = None  # the holder limit is counted once, when a newcomer asks
    failures: list[dict[str, Any]] = []
    for party, address in parties:
        entry = entries.get(address.lower())
        found = _party_failures(rules, entry, party=party, block=blocks.get(address.lower()))
        if (party == "to" and rules.max_holders is not None
                and (entry is None or entry.status != AllowListEntry.Status.ACTIVE)):
            if full is None:
                full = sel.allowlist_active_count(token=token) >= rules.max_holders
            if full:
                found.append({"rule": hr.HOLDER_LIMIT_REACHED, "party": "to",
                              "message": f"The token has {rules.max_holders} active holders, its maximum."})
        failures += [{**f, "address": address} for f in found]
    return failures


def transfer_check(*, token: Token, sender: str, recipient: str, amount: int) -> dict[str, Any]:
    failures = registry_failures(token=token, parties=[("from", sender), ("to", recipient)])
    chain_failures, chain = _chain_failures(token, sender, recipient, amount)
    failures += chain_failures
    failures = [{k: v for k, v in f.items() if k in ("rule", "party", "message")} for f in failures]
    return {"allowed": not failures, "rules": list(dict.fromkeys(f["rule"] for f in failures)),
            "failures": failures, "chain": chain}
