"""Where a profiled worker's time went: the project's call tree under one root function, from the
stats file a worker run under bench/cpu_profile.py writes (`python -m bench.run --profile`)."""
from __future__ import annotations

import pstats
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRANSPARENT = ("contextlib.py", "<built-in method builtins.next>")
"""Frames the call tree looks through (context managers): their project callees are shown instead."""


def _project(func: tuple[str, int, str]) -> bool:
    return func[0].startswith(str(ROOT)) and "/.venv/" not in func[0] and func[2] != "<module>"


def _name(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    for marker in ("site-packages/", f"{ROOT}/", "/lib/python3.11/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({name})" if line else name


def profile_tree(path: Path, root: tuple[str, str] = ("deployments/pipeline.py", "job_advance"),
                 share: float = 0.02) -> list[str]:
    """The project's call tree under `root` (file suffix, function), from a cProfile file: ms and calls
    of every project function taking at least `share` of the root's time, per caller; a library call
    is a leaf (`~`), context-manager frames are looked through. cProfile keeps one level of callers,
    so the callees of a function called from several places are those of all its calls."""
    stats: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    callees: dict[Any, dict[Any, Any]] = {}
    for func, (_, _, _, _, callers) in stats.items():
        for caller, timing in callers.items():
            callees.setdefault(caller, {})[func] = timing
    roots = [f for f in stats if f[2] == root[1] and f[0].endswith(root[0])]
    total = sum(stats[f][3] for f in roots)
    everything = max((timing[3] for timing in stats.values()), default=0.0)
    lines = [f"profiled process: {everything * 1000:,.0f} ms in all; under {root[1]}: {total * 1000:,.0f} ms "
             f"(cProfile); calls >= {share:.0%} of it:"]

    def children(func: Any, limit: float, depth: int = 0) -> list[tuple[Any, int, float]]:
        out = []
        for child, (_, ncalls, _, cumulative) in callees.get(func, {}).items():
            if cumulative < share * total or cumulative > limit * 1.02 or child == func:
                continue
            if any(mark in child[0] or mark == child[2] for mark in TRANSPARENT):
                if depth < 3:
                    out += children(child, cumulative, depth + 1)
            else:
                out.append((child, ncalls, cumulative))
        return out

    def walk(func: Any, calls: int, cumulative: float, level: int, path_: tuple[Any, ...]) -> None:
        leaf = not _project(func)
        lines.append(f"{cumulative * 1000:9,.0f} ms {calls:6d}x {'  ' * level}{'~ ' if leaf else ''}{_name(func)}")
        if leaf:
            return
        for child, ncalls, child_cumulative in sorted(children(func, cumulative), key=lambda c: -c[2]):
            if child not in path_:
                walk(child, ncalls, child_cumulative, level + 1, (*path_, child))

    for func in roots:
        walk(func, stats[func][1], stats[func][3], 0, (func,))
    return lines
