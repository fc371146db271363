"""Whose keys an operation signs with: the token issuer's (the account that controls it,
`job_keys.token_signing_key`: the organization's treasury or the member who deployed it), and for
recipients who are platform users and must opt in to an asset first, theirs (the server holds every
platform user's key, so "send 100 shares to alice@example.com" needs no wallet anywhere), and the
organization's treasury key when a move to the treasury opts the treasury in to an asset."""
from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.signing import ChainKey, chain_key, treasury_chain_key
from tokens.networks import Network

from .job_keys import job_signing_key
from .token_models import Operation


def operation_chain_context(*, operation: Operation, network: Network) -> tuple[ChainKey, dict[str, Any]]:
    """(the issuer's key, the operation fields of its `ChainJob`: kind, target, co-signers)."""
    token = operation.token
    # the treasury's, the controlling member's, or retired (a rotation's move, `job_keys.HOLDER`)
    key = job_signing_key(job=operation, network=network)
    opt_ins: dict[str, str] = operation.request.get("opt_in_users") or {}
    users = {str(u.pk): u for u in User.objects.filter(pk__in=list(opt_ins.values()))} if opt_ins else {}
    co_signers = {address: chain_key(user=users[user_id], network=network).open  # their own organization's
                  for address, user_id in opt_ins.items() if user_id in users}
    if token is not None and operation.request.get("treasury_opt_in"):  # a move to the treasury opts it in
        treasury = treasury_chain_key(organization_id=token.organization_id, network=network)
        co_signers[treasury.address] = treasury.open
    target = ({"contract_address": token.contract_address, "asset_id": token.asset_id, "app_id": token.app_id,
               "issuer_address": token.issuer_address, "decimals": token.decimals}
              if token is not None else {})  # a key rotation's native sweep has no token
    return key, {"operation": operation.kind, "target": target, "co_signers": co_signers}
