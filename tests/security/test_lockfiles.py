"""The Python locks stay what docs/dependencies.md says: every package pinned exactly, with hashes;
the runtime lock the same versions as the full one; every direct dependency in its lock; the
installs in hash-checking mode. (Re-lock with `make lock`; never edit a .txt by hand.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"requirements.txt": "requirements.in", "requirements-runtime.txt": "requirements-runtime.in",
         "requirements-contracts.txt": "requirements-contracts.in"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entries(lock: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes), one entry per requirement (a line plus its continuations)."""
    text = (ROOT / lock).read_text().replace("\\\n", " ")
    entries = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)(.*)$", line)
        assert match, f"{lock}: not an exact pin: {line[:80]}"
        entries[_norm(match.group(1))] = (match.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", match.group(3)))
    return entries


def _direct(requirements_in: str) -> set[str]:
    names = set()
    for line in (ROOT / requirements_in).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= _direct(line[3:].strip())
        elif line:
            names.add(_norm(re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0]))
    return names


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_package_is_pinned_with_hashes(lock):
    entries = _entries(lock)
    assert len(entries) > 10
    assert [name for name, (_, hashes) in entries.items() if not hashes] == []


@pytest.mark.parametrize(("lock", "requirements_in"), sorted(LOCKS.items()))
def test_every_direct_dependency_is_in_its_lock(lock, requirements_in):
    assert sorted(_direct(requirements_in) - set(_entries(lock))) == []


def test_the_runtime_lock_has_the_versions_of_the_full_lock():
    full, runtime = _entries("requirements.txt"), _entries("requirements-runtime.txt")
    assert {name: version for name, (version, _) in runtime.items() if full.get(name, ("",))[0] != version} == {}


def test_installs_check_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes -r requirements.txt" in makefile
    assert "pip install --require-hashes -r requirements-runtime.txt" in (ROOT / "Dockerfile").read_text()
