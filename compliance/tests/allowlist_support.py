"""Shared pieces of the holder-registry tests: a token of the party's organization (no chain behind
it), random EVM addresses and the URL helpers."""
from __future__ import annotations

import os

from eth_utils import to_checksum_address

from deployments.tests.factories import DeploymentFactory, token_of


def address() -> str:
    return to_checksum_address("0x" + os.urandom(20).hex())


def token_for(party):
    return token_of(DeploymentFactory(organization=party.organization, creator=party.user, status="completed"))


def base(token) -> str:
    return f"/api/v1/tokens/{token.pk}"


def add(party, token, **body):
    return party.client.post(f"{base(token)}/allowlist", body, format="json")


def rules(party, token, **body):
    response = party.client.put(f"{base(token)}/jurisdiction-rules", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def validate(party, token, sender, to, amount="1"):
    response = party.client.post(f"{base(token)}/transfers/validate", {"from": sender, "to": to, "amount": amount},
                                 format="json")
    assert response.status_code == 200, response.content
    return response.json()
