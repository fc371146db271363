"""Reads of the accounts app, scoped to what the requesting user may see."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from biatec.core.errors import ApplicationError, NotFound
from tokens.chains import algorand_reads, evm_reads
from tokens.networks import ALGORAND, EVM, Network, all_networks

from .models import EvmAccount, Membership, Organization, User
from .principals import grant_applied, memberships_of


def membership_primary(*, user: User) -> Membership | None:
    """The user's first membership (the personal organization created at sign-up); with an API key,
    the key's organization's, holding the key's role (accounts/principals.py)."""
    return grant_applied(user, memberships_of(user).select_related("organization").order_by("created_at").first())


def membership_in(*, user: User, organization_id: Any) -> Membership | None:
    """The user's membership of the organization (with `organization` and `user` loaded), None for a
    non-member; with an API key, only of the key's organization, holding the key's role."""
    membership = (memberships_of(user).select_related("organization", "user")
                  .filter(organization_id=organization_id).first())
    return grant_applied(user, membership)


def organization_ids_of(*, user: User) -> QuerySet[Membership, Any]:
    """The ids of the organizations `user` belongs to, as a subquery: every tenant-scoped read filters
    with `organization_id__in=organization_ids_of(user=user)`, one statement with the membership check
    in it (docs/architecture.md, "House style"). With an API key: its organization only."""
    return memberships_of(user).values("organization_id")


def organization_get(*, user: User, organization_id: Any) -> Organization:
    """An organization the user belongs to; any other answers 404 (never 403: no existence leak)."""
    organization = Organization.objects.filter(pk=organization_id, pk__in=organization_ids_of(user=user)).first()
    if organization is None:
        raise NotFound("No such organization.")
    return organization


def evm_addresses(*, user: User) -> dict[str, str]:
    return {str(a.chain_id): a.address for a in EvmAccount.objects.filter(user=user).order_by("chain_id")}


def evm_networks(*, user: User) -> list[dict[str, Any]]:
    """The user's address on every EVM network of the registry, configured here or not (the address is
    a function of the key and the chain id only); `available` says whether this platform has a node."""
    by_chain: dict[int | None, str] = {a.chain_id: a.address for a in EvmAccount.objects.filter(user=user)}
    return [{"network": n.slug, "chain_id": n.chain_id, "address": by_chain.get(n.chain_id),
             "available": n.available} for n in all_networks() if n.family == EVM]


def user_profile(*, user: User) -> dict[str, Any]:
    membership = membership_primary(user=user)
    return {
        "id": str(user.pk),
        "email": user.email,
        "organization": (
            {"id": str(membership.organization_id), "name": membership.organization.name} if membership else None
        ),
        "role": membership.role if membership else None,
        "algorand_address": user.algorand_address or None,
        "evm_addresses": evm_addresses(user=user),
        "evm_networks": evm_networks(user=user),
    }


def _balance(network: Network, address: str) -> int:
    """The address's balance in base units, read through the chain clients (`tokens.chains`)."""
    if network.family == ALGORAND:
        return algorand_reads.get_balance(network=network, address=address)
    return evm_reads.get_balance(network=network, address=address)


def account_addresses(*, user: User) -> list[dict[str, Any]]:
    """The user's address on every network, with a live balance where the node answers."""
    by_chain: dict[int | None, str] = {a.chain_id: a.address for a in EvmAccount.objects.filter(user=user)}
    rows = []
    for network in all_networks():
        address = user.algorand_address or None if network.family == ALGORAND else by_chain.get(network.chain_id)
        row: dict[str, Any] = {
            "network": network.slug, "family": network.family, "chain_id": network.chain_id,
            "address": address, "available": network.available, "balance": None,
            "unit": "microalgo" if network.family == ALGORAND else "wei", "balance_error": None,
        }
        if address is None:
            row["balance_error"] = "address not derived yet" if network.family == EVM else "no chain account"
        elif not network.available:
            row["balance_error"] = "network unavailable"
        else:
            try:
                row["balance"] = str(_balance(network, address))
            except ApplicationError as exc:  # CHAIN_UNAVAILABLE, NETWORK_UNAVAILABLE, ...
                row["balance_error"] = f"node unreachable: {exc.code}"
        rows.append(row)
    return rows
