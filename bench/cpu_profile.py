"""`python -m bench.cpu_profile OUT [--wall] -m MODULE ARGS...`: run MODULE as `__main__` under cProfile
and write the stats to OUT when it exits (a Celery worker's warm shutdown on SIGTERM included).

The clock is the process's CPU time (`time.process_time`) unless `--wall` is given: a CPU profile
shows where the worker burns its CPU (what the "worker CPU per deployment" figure counts); a wall
profile also shows where it waits (on the node, the database, the broker)."""
from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, rest = sys.argv[1], sys.argv[2:]
    wall = rest[:1] == ["--wall"]
    rest = rest[1:] if wall else rest
    if rest[:1] != ["-m"] or len(rest) < 2:
        raise SystemExit("usage: python -m bench.cpu_profile OUT [--wall] -m MODULE ARGS...")
    module = rest[1]
    sys.argv = [module, *rest[2:]]
    profiler = cProfile.Profile(time.perf_counter if wall else time.process_time)
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
