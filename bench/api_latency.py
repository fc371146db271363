"""API figures of issue 13 only: the status read against the bare view on the same server, create -> 202
under 50 clients against idle, registration against one ARC-76 derivation.

    .venv/bin/python bench/api_latency.py [--size small|full]

The same harness as `make bench` (bench/run.py): its own database and Redis key prefix
(bench/isolation.py), both removed at the end; it never touches data it did not create.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["--only", "status,create", *sys.argv[1:]]))
