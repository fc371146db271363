"""How chain code signs without knowing whose key it is.

Keys belong to `accounts` (sealed in the key vault, opened only inside a signer context). Chain
clients take a `SignerContext`: `signer(reason)` opens the key for one use and yields an object with
`address` and `sign_transaction(tx)` (EVM) or `sign_group(txns)` (Algorand); the key never leaves
the `with` block. `accounts.signing.chain_key(user=, network=)` makes one for a user.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

SignerContext = Callable[[str], AbstractContextManager[Any]]
