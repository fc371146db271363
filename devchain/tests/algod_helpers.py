"""Submit-and-read helpers shared by the devnet's test modules (plain py-algorand-sdk, no devnet internals)."""

from __future__ import annotations

import base64

import pytest
from algosdk import transaction
from algosdk.error import AlgodHTTPError
from algosdk.v2client.algod import AlgodClient

Account = tuple[str, str]  # (private key, address)

CLEAR = "#pragma version 10\nint 1\n"


def submit(algod: AlgodClient, *signed: transaction.SignedTransaction) -> dict:
    """Send one transaction or group and wait for it: the first transaction's pending info."""
    txid = algod.send_transactions(list(signed))
    return transaction.wait_for_confirmation(algod, txid, 4)


def rejected(algod: AlgodClient, *signed: transaction.SignedTransaction) -> str:
    """Send and expect algod's 400 refusal; returns its message."""
    with pytest.raises(AlgodHTTPError) as err:
        algod.send_transactions(list(signed))
    assert err.value.code == 400
    return str(err.value)


def compile_teal(algod: AlgodClient, source: str) -> bytes:
    """Program bytes from ``/v2/teal/compile``."""
    return base64.b64decode(algod.compile(source)["result"])
