"""Fixtures of the compliance tests: a few reused e-mails (ARC-76 derivation costs ~1 s each),
a configured EVM network (creation never calls the node), deployments driven through their states."""
from __future__ import annotations

import pytest

from accounts.models import Membership, User
from deployments.models import DeploymentStatus
from deployments.services import deployment_transition

ERC20_BODY = {"network": "evm-local", "name": "T", "symbol": "T", "decimals": 18, "initial_supply": "100",
              "cap": "1000"}
PROFILE = {
    "issuer_legal_name": "Example Issuer GmbH", "issuer_lei": "5493001KJTIIGC8Y1R12", "issuer_country": "DE",
    "token_classification": "utility", "offer_to_public_eu": True, "member_states": ["DE", "FR"],
    "expected_total_consideration_eur": "5000000", "offerees_per_member_state": {"DE": 1000, "FR": 400},
    "white_paper_url": "https://issuer.example/wp.pdf", "white_paper_sha256": "ab" * 32,
    "white_paper_publication_date": "2099-06-01", "competent_authority": "BaFin", "notification_date": "2099-01-05",
}


@pytest.fixture(autouse=True)
def _evm_local_configured(anvil_node):
    """A create asks the node whether it answers (tokens.standards.validation): a real local node.
    Deployments are not run here (no on-commit callbacks in these tests)."""


class Party:
    def __init__(self, body, client):
        self.body, self.client = body, client
        self.user = User.objects.get(pk=body["id"])
        self.membership = Membership.objects.select_related("organization").get(user=self.user)
        self.organization = self.membership.organization

    def create(self, standard="erc20-mintable", body=None, profile=PROFILE, **headers):
        payload = {**(body or ERC20_BODY)}
        if profile is not None:
            payload["compliance_metadata"] = profile
        return self.client.post(f"/api/v1/token/{standard}/create", payload, format="json", **headers)

    def evaluate(self, standard="erc20-mintable", body=None, profile=PROFILE):
        payload = {"standard": standard, **(body or ERC20_BODY)}
        if profile is not None:
            payload["compliance_metadata"] = profile
        return self.client.post("/api/v1/compliance/evaluate", payload, format="json")


@pytest.fixture
def alice(user_factory):
    return Party(*user_factory("compliance-alice"))


@pytest.fixture
def bob(user_factory):
    return Party(*user_factory("compliance-bob"))


def complete(deployment_id, *, results=None):
    """Drive a queued deployment to `completed` without a chain."""
    results = results or {"tx_ids": ["0x" + "11" * 32], "contract_address": "0x" + "22" * 20}
    steps = [(DeploymentStatus.SUBMITTED, {"tx_ids": results["tx_ids"]}), (DeploymentStatus.PENDING, None),
             (DeploymentStatus.CONFIRMED, {"block_number": 7}), (DeploymentStatus.INDEXED, results),
             (DeploymentStatus.COMPLETED, None)]
    for to, facts in steps:
        deployment_transition(deployment_id=deployment_id, to=to, reason=f"test: {to}", actor="system:test",
                              results=facts)
