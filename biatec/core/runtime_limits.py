"""The interpreter's recursion limit, kept sane whatever the chain libraries do.

`py_ecc` (imported by web3 / eth-account) raises `sys.setrecursionlimit` to 100000 on import. With
that limit, deeply nested input (a JSON body 100,000 levels deep is 200 KB) overflows the C stack
inside the JSON decoder before Python's own guard triggers: the process dies with SIGSEGV instead of
raising `RecursionError`. `restore_recursion_limit()` imports py_ecc once, at app-ready (which runs
for the WSGI server, Celery workers and beat, management commands and tests alike), and then sets
the limit back to `PYTHON_RECURSION_LIMIT` (CPython's default, 1000); later imports of py_ecc find
it in `sys.modules` and do not raise it again. The system check `biatec.core.E001` fails when the
limit is above the setting, so a library that raises it again is noticed at start-up.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

from django.conf import settings
from django.core import checks

DEFAULT_RECURSION_LIMIT = 1000
# Imported before the limit is restored: every module known to raise the limit on import.
LIMIT_RAISING_MODULES = ("py_ecc",)


def configured_limit() -> int:
    return int(getattr(settings, "PYTHON_RECURSION_LIMIT", DEFAULT_RECURSION_LIMIT))


def restore_recursion_limit() -> int:
    """Import the modules that raise the limit, then set it to the configured one; returns it."""
    for name in LIMIT_RAISING_MODULES:
        importlib.import_module(name)
    limit = configured_limit()
    sys.setrecursionlimit(limit)
    return limit


@checks.register(checks.Tags.security)
def check_recursion_limit(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    current, limit = sys.getrecursionlimit(), configured_limit()
    if current > limit:
        return [checks.Error(
            f"The recursion limit is {current}, above PYTHON_RECURSION_LIMIT={limit}: deeply nested input "
            "can overflow the C stack and crash the process.",
            hint="Call biatec.core.runtime_limits.restore_recursion_limit() after importing the module that "
                 "raised it, or add that module to LIMIT_RAISING_MODULES.",
            id="biatec.core.E001",
        )]
    return []
