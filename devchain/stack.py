"""Starts the local chain stack (anvil for evm-local, the Algorand devnet for algorand-localnet, the
IPFS test server), exports their URLs as the environment the product reads, runs a command, and
stops everything afterwards.

    python -m devchain.stack -- python manage.py runserver
    python -m devchain.stack --env-file var/chain-env.json   # serve until SIGTERM/SIGINT

With `--env-file` and no command the nodes stay up until the process is stopped, and their
environment is written (JSON) to that file once they answer: that is how `python -m
biatec.embedded` (make run) runs them, as a child process, without importing devchain.
"""
from __future__ import annotations

import argparse
import json
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
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the unwinding short
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(128 + signum)  # unwinds the ExitStack, so the nodes are stopped too


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env-file", help="write the nodes' environment here (JSON); without a command, "
                                           "keep them up until stopped")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command else []
    signal.signal(signal.SIGINT, _exit_on_sigterm)
    with ExitStack() as stack:
        env_vars = start_local_stack(stack)
        print("Local chain stack:", flush=True)
        for key, value in env_vars.items():
            print(f"  {key}={value}", flush=True)
        if args.env_file:
            partial = f"{args.env_file}.partial"
            with open(partial, "w") as handle:
                json.dump(env_vars, handle)
            os.replace(partial, args.env_file)  # the reader never sees half a file
        if not command:
            while args.env_file:
                signal.pause()  # until SIGTERM/SIGINT unwinds the stack
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
