"""Starts the local chain stack (anvil for evm-local, the Algorand devnet for algorand-localnet, the
IPFS test server), exports their URLs as the environment the product reads, runs a command, and
stops everything afterwards.

    python -m devchain.stack -- python manage.py runserver
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from typing import Any


def start_local_stack(stack: ExitStack) -> dict[str, str]:
    """Start the three local services inside `stack`; returns the environment variables for them."""
    from devchain.algod.launcher import start_devnet
    from devchain.anvil import start_anvil
    from devchain.ipfs.launcher import start_ipfs

    anvil = stack.enter_context(start_anvil(chain_id=31337))
    devnet: Any = stack.enter_context(start_devnet())
    ipfs: Any = stack.enter_context(start_ipfs())
    return {
        "EVM_RPC_EVM_LOCAL": anvil.url,
        "ALGOD_URL_ALGORAND_LOCALNET": devnet.url,
        "ALGOD_TOKEN_ALGORAND_LOCALNET": devnet.token,
        "IPFS_API_URL": ipfs.url,
    }


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds the ExitStack, so the nodes are stopped too


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command else []
    with ExitStack() as stack:
        env_vars = start_local_stack(stack)
        print("Local chain stack:", flush=True)
        for key, value in env_vars.items():
            print(f"  {key}={value}", flush=True)
        if not command:
            return 0
        child = subprocess.Popen(command, env={**os.environ, **env_vars})
        try:
            return child.wait()
        except (KeyboardInterrupt, SystemExit):
            child.terminate()
            child.wait(timeout=10)
            return 130


if __name__ == "__main__":
    sys.exit(main())
