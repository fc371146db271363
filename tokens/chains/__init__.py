"""Chain clients of the tokens app, one module family per chain family.

EVM: `tokens.chains.evm` is the client's public surface; behind it `evm_rpc` (JSON-RPC access and the
classification of node failures), `evm_artifacts` (committed contract artifacts, parameter encoding)
and `evm_reads` (balances, the local dev faucet, read-back of deployed tokens)."""
