"""Funding accounts on local networks through the faucet named by the `LOCAL_FAUCET` setting.

The faucet's keys live with the local chain nodes (`devchain`), which the product never imports: the
local and test settings name `devchain.faucet.fund`; production names none, so nothing can ever be
funded from a faucet there. Public networks are never funded, whatever the setting.
"""
from __future__ import annotations

from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from ..networks import Network


class LocalFaucet(Protocol):
    def __call__(self, *, family: str, node_url: str, node_token: str | None, address: str, amount: int) -> None:
        """Top `address` up by `amount` base units; ValueError if the node refuses, OSError if unreachable."""


@cache
def _load(path: str) -> LocalFaucet:
    faucet: LocalFaucet = import_string(path)
    return faucet


def local_faucet(network: Network) -> LocalFaucet | None:
    """The faucet that may fund accounts on `network`: only local networks, only when configured."""
    path = getattr(settings, "LOCAL_FAUCET", "")
    if not network.is_local or not path:
        return None
    return _load(path)


def faucet_fund(faucet: LocalFaucet, *, network: Network, address: str, amount: int) -> None:
    faucet(family=network.family, node_url=str(network.node_url), node_token=network.node_token or None,
           address=address, amount=amount)
