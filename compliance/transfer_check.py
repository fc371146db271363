"""The transfer pre-check (`POST /api/v1/tokens/{id}/transfers/validate`): every rule a transfer of
`amount` from `sender` to `recipient` breaks, by name (compliance/holder_rules.py).

Registry rules, for each party that is not the token's issuer (the issuer distributes and is not an
investor): `not_listed`, `suspended`, `revoked`, `blocked`, `country_not_allowed`,
`retail_not_allowed`, `kyc_required`, `kyc_expired`; for the recipient also `holder_limit_reached`
(it is not an active holder yet and the token has `max_holders` active ones). Then one live read of
the chain (`deployments.token_state.token_live_state`): `token_paused`, `sender_frozen`,
`recipient_frozen`, `insufficient_balance`; when the node does not answer (or the token's contract
is not on it) the answer says `chain.checked: false` with the reason, and the registry verdict stands."""
from __future__ import annotations

from typing import Any

from django.utils import timezone

from biatec.core.errors import ApplicationError
from deployments.token_models import Token
from deployments.token_state import token_live_state

from . import holder_rules as hr
from . import holder_selectors as sel
from .models import AllowListEntry


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


def transfer_check(*, token: Token, sender: str, recipient: str, amount: int) -> dict[str, Any]:
    rules = hr.Rules.of(sel.jurisdiction_rules_of(token=token))
    parties = [(p, a) for p, a in (("from", sender), ("to", recipient)) if a.lower() != token.issuer_address.lower()]
    addresses = [a for _, a in parties]
    entries = sel.allowlist_entries_at(token=token, addresses=addresses)
    blocks = sel.blocks_in_force(organization_id=token.organization_id, addresses=addresses)
    failures: list[dict[str, Any]] = []
    for party, address in parties:
        entry = entries.get(address.lower())
        failures += _party_failures(rules, entry, party=party, block=blocks.get(address.lower()))
        if (party == "to" and rules.max_holders is not None
                and (entry is None or entry.status != AllowListEntry.Status.ACTIVE)
                and sel.allowlist_active_count(token=token) >= rules.max_holders):
            failures.append({"rule": hr.HOLDER_LIMIT_REACHED, "party": "to",
                             "message": f"The token has {rules.max_holders} active holders, its maximum."})
    chain_failures, chain = _chain_failures(token, sender, recipient, amount)
    failures += chain_failures
    failures = [{k: v for k, v in f.items() if k in ("rule", "party", "message")} for f in failures]
    return {"allowed": not failures, "rules": list(dict.fromkeys(f["rule"] for f in failures)),
            "failures": failures, "chain": chain}
