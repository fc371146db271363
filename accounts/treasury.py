"""Organization treasury accounts (issue 20 item 3, docs/treasury.md, ADR 0106).

Each organization gets, lazily on first use, one Algorand account and one EVM account per chain id:
random keys (`os.urandom`, never derived from a password), sealed with the key vault exactly as a
member's keys are (`accounts.keyvault`), opened only by `accounts.signing.treasury_chain_key`. A
token controlled by the treasury stays the organization's when the member who created it leaves.
"""
from __future__ import annotations

import os
from typing import Any

from django.db import IntegrityError, transaction
from eth_account import Account

from tokens.networks import EVM, Network

from . import arc76, keyvault
from .models import Membership, OrganizationAccount, SecurityEvent
from .security_events import security_event_record

ORGANIZATION, MEMBER = "organization", "member"
ISSUER_ACCOUNTS = (ORGANIZATION, MEMBER)


def treasury_purpose(family: str, chain_id: int) -> str:
    return f"treasury:{family}:{chain_id}"


def treasury_owner_id(organization_id: Any) -> str:
    return f"org:{organization_id}"


def _chain(network: Network) -> tuple[str, int]:
    return (EVM, int(network.chain_id or 0)) if network.family == EVM else (network.family, 0)


def treasury_account_ensure(*, organization_id: Any, network: Network) -> OrganizationAccount:
    """The organization's treasury account on `network`'s chain: one lookup when it exists, else a
    random key generated and sealed now (no derivation: microseconds)."""
    family, chain_id = _chain(network)
    existing = OrganizationAccount.objects.filter(organization_id=organization_id, family=family,
                                                  chain_id=chain_id).first()
    if existing is not None:
        return existing
    material = os.urandom(32)  # an ed25519 seed (Algorand) or a secp256k1 private key (EVM)
    address = Account.from_key(material).address if family == EVM else arc76.algorand_address(material)
    purpose = treasury_purpose(family, chain_id)
    try:
        with transaction.atomic():
            secret = keyvault.seal(material, owner_id=treasury_owner_id(organization_id), purpose=purpose)
            secret.save()
            account = OrganizationAccount.objects.create(organization_id=organization_id, family=family,
                                                         chain_id=chain_id, address=address, secret=secret)
            security_event_record(event_type=SecurityEvent.Type.KEY_DERIVED, organization_id=organization_id,
                                  details={"key": purpose, "address": address, "account": ORGANIZATION})
    except IntegrityError:  # created concurrently by another request: keep theirs
        return OrganizationAccount.objects.get(organization_id=organization_id, family=family, chain_id=chain_id)
    return account


def treasury_address(*, organization_id: Any, network: Network) -> str:
    return treasury_account_ensure(organization_id=organization_id, network=network).address


def default_issuer_account(organization_id: Any) -> str:
    """`organization` when the organization has more than one member (a token must outlive any one
    of them), else `member` (a personal organization: the person is the organization). ADR 0106."""
    members = Membership.objects.filter(organization_id=organization_id).values_list("pk", flat=True)[:2]
    return ORGANIZATION if len(members) > 1 else MEMBER
