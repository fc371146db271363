"""`make demo` keeps working on the real worker: all 12 standards deployed and completed by the
worker and beat that the supervisor starts (no inline tasks), in its own var directory."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .stack import _NOT_INHERITED, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.chain]


def test_make_demo_completes_all_12_standards_through_the_worker(tmp_path) -> None:
    dry = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ".venv/bin/python -m biatec.embedded demo" in dry.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    env["BIATEC_VAR_DIR"] = str(tmp_path / "var")
    done = subprocess.run([sys.executable, "-m", "biatec.embedded", "demo"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "ALL 12 COMPLETED" in done.stdout
    assert done.stdout.count(" completed ") == 12
    # The worker did the work: its log (var/worker.log in demo mode) shows the pipeline's tasks.
    worker_log = (tmp_path / "var" / "worker.log").read_text()
    assert "deployment transition" in worker_log and "completed" in worker_log
