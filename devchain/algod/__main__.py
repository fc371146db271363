"""``python -m devchain.algod --port 4001``: run a devnet in the foreground.

Prints ``DEVNET_PID=<pid>``, ``DEVNET_URL=<url>`` and ``DEVNET_TOKEN=<token>``
lines on stdout once listening, for launchers and Makefiles.
"""

from __future__ import annotations

import argparse
import sys

from .process import announce, install_sigterm_exit
from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devchain.algod", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=4001, help="0 picks a free port")
    parser.add_argument("--token", default="devnet-token", help="required X-Algo-API-Token")
    parser.add_argument("--no-token", action="store_true", help="accept requests without a token")
    parser.add_argument("--round-interval", type=float, default=0.0,
                        help="seconds between empty rounds; 0 = rounds advance only per accepted group")
    parser.add_argument("--pid-file")
    parser.add_argument("--url-file")
    args = parser.parse_args(argv)
    token = None if args.no_token else args.token
    install_sigterm_exit()

    def ready(server: object) -> None:
        announce("DEVNET", server.url, args.pid_file, args.url_file)  # type: ignore[attr-defined]
        print(f"DEVNET_TOKEN={token or ''}", flush=True)

    try:
        serve(args.host, args.port, token, args.round_interval, ready=ready)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
