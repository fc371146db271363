"""Fault injection for the fault suite (tests/faults): `fault_point("name")` marks a place in a durable
chain job where a worker may die. It does nothing unless a fault setting names that point, and
`biatec.settings.production` sets both settings to "" whatever the environment says.

Two ways to arm it (tests only):
- `FAULT_INJECTION`: comma-separated point names fixed for the life of the process; every hit kills.
- `FAULT_INJECTION_FILE`: a JSON file re-read at each hit, so a long-running worker (and all its
  prefork children) can be re-armed between trials:
  `{"points": ["after_broadcast"], "probability": 0.5, "max_delay_seconds": 0.3, "budget": 3}`.
  `probability`: chance that a hit kills, so the occurrence that dies is a random one; `max_delay_seconds`:
  a random sleep before deciding, so other work (other jobs, the poller) moves on in between;
  `budget`: kills left, shared by every process and taken one by one under a file lock (0: none).

The process is killed with SIGKILL: no `finally`, no atexit, no rollback other than the database's.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import signal
import time
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


def _static_points() -> set[str]:
    value = str(getattr(settings, "FAULT_INJECTION", "") or "")
    return {name.strip() for name in value.split(",") if name.strip()}


def _armed_by_file(path: str, name: str) -> bool:
    """Decide from the control file whether this hit of `name` kills (and take one from the budget).
    Every hit of a named point first waits a random moment (random timing between the steps)."""
    try:
        with open(path, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            plan: dict[str, Any] = json.loads(handle.read() or "{}")
            if name not in plan.get("points", []):
                return False
            delay = float(plan.get("max_delay_seconds", 0) or 0)
            kill = int(plan.get("budget", 0)) > 0 and random.random() < float(plan.get("probability", 1.0))  # noqa: S311
            if kill:
                plan["budget"] = int(plan["budget"]) - 1
                plan["kills"] = int(plan.get("kills", 0)) + 1
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(plan))
                handle.flush()
                os.fsync(handle.fileno())
    except (FileNotFoundError, ValueError):
        return False
    if delay > 0:
        time.sleep(random.uniform(0, delay))  # noqa: S311 - test timing, not crypto
    return kill


def fault_point(name: str) -> None:
    """Kill this process here (SIGKILL) if a fault setting arms `name`; otherwise do nothing."""
    path = str(getattr(settings, "FAULT_INJECTION_FILE", "") or "")
    armed = name in _static_points() or (bool(path) and _armed_by_file(path, name))
    if not armed:
        return
    logger.warning("fault injection: killing this process", extra={"fault_point": name, "pid": os.getpid()})
    os.kill(os.getpid(), signal.SIGKILL)
