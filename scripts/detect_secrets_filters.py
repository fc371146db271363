"""Custom filter of the repository's secret scan (detect-secrets, see docs/security-checks.md).

Tests and the benchmark feed made-up passphrases to the API on purpose (`"password": "..."`), which
detect-secrets' keyword detector reports one by one. This filter drops ONLY keyword findings, and
only in test code; every other detector (private keys, high-entropy hex/base64, basic-auth URLs,
cloud keys, JWTs, ...) still scans test code, and keyword findings anywhere else still count.
"""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

TEST_ROOTS = ("tests", "bench")


def is_test_code(filename: str) -> bool:
    parts = PurePosixPath(filename.replace("\\", "/")).parts
    if not parts:
        return False
    name = parts[-1]
    return (parts[0] in TEST_ROOTS or "tests" in parts[:-1] or name == "conftest.py"
            or (name.startswith("test_") and name.endswith(".py")))


def is_keyword_in_test_code(filename: str, secret: str, plugin: Any) -> bool:
    """True (= not a finding) for a keyword-detector hit in test code."""
    return type(plugin).__name__ == "KeywordDetector" and is_test_code(filename)
