"""Committed EVM artifacts must equal a fresh build of the committed Solidity sources.

Why: the server deploys the bytecode from ``tokens/contracts/evm/artifacts/``, not from a
compiler at run time. If a contract or the pinned compiler/OpenZeppelin version changes and the
artifacts are not rebuilt, production would deploy something nobody reviewed. This test needs
no database and no chain, only node and ``npm ci``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "compile_evm.js"
CONTRACTS = REPO_ROOT / "tokens" / "contracts" / "evm"
ARTIFACTS = CONTRACTS / "artifacts"
EXPECTED = ("BiatecTokenMintable", "BiatecTokenPreminted", "BiatecTokenSecurity")


def _require_toolchain() -> str:
    """Return the node executable, failing (not skipping) with the fix when it is missing.

    A skip would let CI pass with the check never run, which is the failure this guards.
    """
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; install Node.js 20 and run `npm ci`")
    if not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.fail(f"node_modules/solc missing; run `npm ci` in {REPO_ROOT}")
    return node


def _run(node: str, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # fixed argv, no shell
        [node, str(script), *args],
        cwd=script.parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_artifacts_rebuild_identically() -> None:
    """``compile_evm.js --check`` exits 0: every committed artifact equals a fresh build."""
    node = _require_toolchain()
    result = _run(node, SCRIPT, "--check")
    assert result.returncode == 0, (
        "EVM artifacts differ from a fresh build; run `node scripts/compile_evm.js` "
        f"(make contracts) and commit.\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def test_artifact_metadata_matches_sources_and_pins() -> None:
    """Each artifact names its compiler, settings and source hash, matching package.json."""
    package = json.loads((REPO_ROOT / "package.json").read_text())
    solc_pin = package["devDependencies"]["solc"]
    for name in EXPECTED:
        artifact = json.loads((ARTIFACTS / f"{name}.json").read_text())
        source = (CONTRACTS / f"{name}.sol").read_bytes()
        assert artifact["contract_name"] == name
        assert artifact["source_sha256"] == hashlib.sha256(source).hexdigest()
        assert artifact["compiler"].startswith(solc_pin + "+commit.")
        assert artifact["settings"]["evmVersion"] == "cancun"
        assert artifact["settings"]["optimizer"] == {"enabled": True, "runs": 200}
        assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 2
        assert artifact["deployed_bytecode"].startswith("0x")
        assert any(entry["type"] == "constructor" for entry in artifact["abi"])


def test_check_detects_a_stale_artifact(tmp_path: Path) -> None:
    """The check must actually fail on a difference (run on a copy, never the real tree)."""
    node = _require_toolchain()
    (tmp_path / "scripts").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "scripts" / SCRIPT.name)
    shutil.copytree(CONTRACTS, tmp_path / "tokens" / "contracts" / "evm")
    (tmp_path / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    copied = tmp_path / "tokens" / "contracts" / "evm" / "artifacts" / f"{EXPECTED[1]}.json"
    script = tmp_path / "scripts" / SCRIPT.name

    assert _run(node, script, "--check").returncode == 0
    copied.write_text(copied.read_text().replace('"cancun"', '"shanghai"'))
    result = _run(node, script, "--check")
    assert result.returncode != 0
    assert f"{EXPECTED[1]}.json: differs" in result.stderr
