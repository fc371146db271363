"""The guard rails of `make lint` (docs/decisions/0014-import-rules-enforced-by-lint.md): ruff with the
C90 complexity ceiling, mypy and import-linter pass on the tracked tree and each fails on the violation
it is there for: an import cycle between two apps, an import of `devchain` from `tokens`, a function
over the complexity ceiling. Real tool runs on a copy of the tracked files (`git ls-files`, as they are
in the working tree) in a temporary directory, with the repository's pyproject.toml; nothing mocked."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv's scripts: ruff, mypy, lint-imports
# The three commands of `make lint` (the Makefile's recipe is checked below to name the same tools).
LINT = {
    "ruff": ["ruff", "check", ".", "--no-cache"],
    "mypy": ["mypy"],
    "lint-imports": ["lint-imports", "--no-logo", "--no-cache"],
}


def _copy_tracked_tree(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.split(b"\0")):
        source = REPO / os.fsdecode(name)
        if not source.is_file():  # deleted in the working tree, not yet committed
            continue
        target = dest / os.fsdecode(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return _copy_tracked_tree(tmp_path / "tree")


def lint(tool: str, tree: Path) -> subprocess.CompletedProcess[str]:
    """One tool of `make lint`, run in the copy; the copy, not this checkout, is what it imports."""
    command = [str(BIN / LINT[tool][0]), *LINT[tool][1:]]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=600)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def flat(result: subprocess.CompletedProcess[str]) -> str:
    """The output on one line (import-linter wraps long contract names)."""
    return " ".join(output(result).split())


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def complexity_ceiling() -> int:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return int(config["tool"]["ruff"]["lint"]["mccabe"]["max-complexity"])


def function_of_complexity(name: str, complexity: int) -> str:
    """A clean, typed function whose McCabe complexity is `complexity` (one branch per `if`)."""
    branches = "".join(f"    if value == {n}:\n        return {n}\n" for n in range(complexity - 1))
    return f'\n\ndef {name}(value: int) -> int:\n    """Planted by tests/lint."""\n{branches}    return -1\n'


def test_make_lint_runs_the_three_tools():
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None
    for tool in LINT:
        assert f"$(BIN)/{tool}" in recipe.group(1), tool


def test_the_tracked_tree_passes_every_tool(tree):
    for tool in LINT:
        result = lint(tool, tree)
        assert result.returncode == 0, f"{tool} fails on the unmodified tree:\n{output(result)}"


def test_an_import_cycle_between_two_apps_fails(tree):
    # deployments already imports accounts (its models, selectors); accounts importing deployments
    # closes the cycle, here with a function-level import of the kind that used to hide them.
    assert "from accounts" in (tree / "deployments" / "selectors.py").read_text()
    append(tree / "accounts" / "selectors.py",
           "\n\ndef _planted() -> object:\n    from deployments.models import Deployment\n\n    return Deployment\n")
    result = lint("lint-imports", tree)
    assert result.returncode != 0, output(result)
    assert "Apps import only the layers below them: no cycles between apps BROKEN" in flat(result)
    assert "accounts.selectors -> deployments.models" in output(result)


def test_an_import_of_devchain_from_tokens_fails(tree):
    append(tree / "tokens" / "chains" / "evm_reads.py", "\nimport devchain.faucet  # noqa: E402, F401\n")
    result = lint("lint-imports", tree)
    assert result.returncode != 0, output(result)
    assert "No app imports devchain (the local faucet is the LOCAL_FAUCET setting); tests may BROKEN" in flat(result)
    assert "tokens.chains.evm_reads -> devchain.faucet" in output(result)


def test_a_function_over_the_complexity_ceiling_fails(tree):
    ceiling = complexity_ceiling()
    module = tree / "tokens" / "planted_complexity.py"
    module.write_text('"""Planted by tests/lint."""' + function_of_complexity("at_the_ceiling", ceiling))
    at_ceiling = lint("ruff", tree)
    assert at_ceiling.returncode == 0, output(at_ceiling)  # the plant is clean but for its complexity

    append(module, function_of_complexity("over_the_ceiling", ceiling + 1))
    result = lint("ruff", tree)
    assert result.returncode != 0, output(result)
    assert f"C901 `over_the_ceiling` is too complex ({ceiling + 1} > {ceiling})" in output(result)
    assert "at_the_ceiling" not in output(result)
