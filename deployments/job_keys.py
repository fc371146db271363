"""Whose key signs a chain job: the ONE place that chooses (docs/treasury.md).

A deployment signs with its organization's treasury key when its request says
`issuer_account: "organization"`, else with its creator's; an operation (and the allow-list sync,
which queues operations) signs with the key of the account that controls the token now
(`Token.issuer_account`): the treasury, or the member who deployed it - with the member's retired
key while a password change's rotation has not yet moved the token off the old address
(deployments/key_rotation.py; server side only). A rotation's own moves out of a retired address
that does not control the token (another issuer's token the old address holds, the native coin
sweep) name that address as the request's `holder`: they sign with the creator's retired key of it.
"""
from __future__ import annotations

from typing import Any

from accounts.signing import ChainKey, chain_key, retired_chain_key, treasury_chain_key
from accounts.treasury import ORGANIZATION
from biatec.core.errors import ApplicationError
from tokens.networks import Network

from .models import ChainJobRow
from .token_models import Operation, Token

HOLDER = "holder"
"""The request field of a rotation's move signed by the holder's retired key."""


class RetiredKeyUnavailable(ApplicationError):
    code = "RETIRED_KEY_UNAVAILABLE"
    http_status = 409
    default_message = "The retired key of this address is no longer held."


def token_signing_key(*, token: Token, network: Network, organization_id: Any = None) -> ChainKey:
    """The key that controls `token` on chain (its key use recorded for `organization_id`)."""
    if token.issuer_account == ORGANIZATION:
        return treasury_chain_key(organization_id=token.organization_id, network=network)
    creator, organization_id = token.deployment.creator, organization_id or token.organization_id
    key = chain_key(user=creator, network=network, organization_id=organization_id)
    if key.address.lower() != token.issuer_address.lower():
        # A password change retired the key of the token's issuer address: until its moves are done
        # and the token's issuer switched, the old key signs, server side only.
        key = retired_chain_key(user=creator, network=network, address=token.issuer_address,
                                organization_id=organization_id) or key
    return key


def job_signing_key(*, job: ChainJobRow, network: Network) -> ChainKey:
    """The signing key of a deployment or an operation."""
    if isinstance(job, Operation) and (holder := (job.request or {}).get(HOLDER)):
        key = retired_chain_key(user=job.creator, network=network, address=str(holder),
                                organization_id=job.organization_id)
        if key is None:
            raise RetiredKeyUnavailable(details={"address": holder})
        return key
    if isinstance(job, Operation):
        assert job.token is not None
        return token_signing_key(token=job.token, network=network, organization_id=job.organization_id)
    if (job.request or {}).get("issuer_account") == ORGANIZATION:
        return treasury_chain_key(organization_id=job.organization_id, network=network)
    return chain_key(user=job.creator, network=network, organization_id=job.organization_id)
