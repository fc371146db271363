"""``python -m devchain.ipfs --port 5001``: run the IPFS test server in the foreground.

Prints ``IPFS_PID=<pid>`` and ``IPFS_URL=<url>`` on stdout once listening.
"""

from __future__ import annotations

import argparse
import sys

from ..algod.process import announce, install_sigterm_exit
from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devchain.ipfs", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=5001, help="0 picks a free port")
    parser.add_argument("--bearer-token", help="require 'Authorization: Bearer <token>'")
    parser.add_argument("--basic-auth", help="require HTTP basic auth 'user:password'")
    parser.add_argument("--pid-file")
    parser.add_argument("--url-file")
    args = parser.parse_args(argv)
    install_sigterm_exit()

    def ready(server: object) -> None:
        announce("IPFS", server.url, args.pid_file, args.url_file)  # type: ignore[attr-defined]

    try:
        serve(args.host, args.port, args.bearer_token, args.basic_auth, ready=ready)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
