"""The local faucet the product uses on local networks, injected by the `LOCAL_FAUCET` setting
(`biatec/settings/local.py` and `test.py` point it here; production leaves it empty). The product
never imports `devchain`: it calls this through `tokens.chains.faucet`.

Contract (see `tokens.chains.faucet.LocalFaucet`): top `address` up by `amount` base units (wei,
microAlgos) on the node at `node_url`; raise ValueError when the node refuses, OSError when it
cannot be reached.
"""
from __future__ import annotations

from . import algod, anvil


def fund(*, family: str, node_url: str, node_token: str | None, address: str, amount: int) -> None:
    if family == "evm":
        try:
            anvil.fund(node_url, address, amount)
        except anvil.AnvilError as exc:
            raise ValueError(str(exc)) from None
    elif family == "algorand":
        try:
            algod.fund(node_url, address, amount, token=node_token or None)
        except algod.DevnetError as exc:
            raise ValueError(exc.message) from None
    else:
        raise ValueError(f"no local faucet for the {family} family")
