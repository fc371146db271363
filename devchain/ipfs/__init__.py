"""Loopback IPFS test server speaking kubo's ``/api/v0/add``, ``cat`` and ``pin/add``.

Public API::

    from devchain.ipfs import start_ipfs, raw_cid
    with start_ipfs() as ipfs:          # free loopback port
        ipfs.api_url                    # "http://127.0.0.1:PORT/api/v0"
"""

from .cid import CHUNK_SIZE, add_block, raw_cid
from .launcher import IpfsProcess, start_ipfs

__all__ = ["CHUNK_SIZE", "IpfsProcess", "add_block", "raw_cid", "start_ipfs"]
