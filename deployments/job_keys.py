"""Whose key signs a chain job: the ONE place that chooses (docs/treasury.md).

A deployment signs with its organization's treasury key when its request says
`issuer_account: "organization"`, else with its creator's; an operation (and the allow-list sync,
which queues operations) signs with the key of the account that controls the token now
(`Token.issuer_account`): the treasury, or the member who deployed it.
"""
from __future__ import annotations

from typing import Any

from accounts.signing import ChainKey, chain_key, treasury_chain_key
from accounts.treasury import ORGANIZATION
from tokens.networks import Network

from .models import ChainJobRow
from .token_models import Operation, Token


def token_signing_key(*, token: Token, network: Network, organization_id: Any = None) -> ChainKey:
    """The key that controls `token` on chain (its key use recorded for `organization_id`)."""
    if token.issuer_account == ORGANIZATION:
        return treasury_chain_key(organization_id=token.organization_id, network=network)
    return chain_key(user=token.deployment.creator, network=network,
                     organization_id=organization_id or token.organization_id)


def job_signing_key(*, job: ChainJobRow, network: Network) -> ChainKey:
    """The signing key of a deployment or an operation."""
    if isinstance(job, Operation):
        return token_signing_key(token=job.token, network=network, organization_id=job.organization_id)
    if (job.request or {}).get("issuer_account") == ORGANIZATION:
        return treasury_chain_key(organization_id=job.organization_id, network=network)
    return chain_key(user=job.creator, network=network, organization_id=job.organization_id)
