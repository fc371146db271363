"""`make audit` (scripts/audit_dependencies.py): a real finding fails, an unreachable advisory service
is said in one line and does not fail, and pip-audit's "all skipped" is never taken as a pass. Runs
the script with stand-in `pip-audit` and `npm` executables that print canned reports."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit_dependencies.py"

VULNERABLE = {"dependencies": [
    {"name": "django", "version": "5.2.19", "vulns": [{"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"],
                                                      "fix_versions": ["5.2.20"], "description": "x"}]},
    {"name": "celery", "version": "5.7.0", "vulns": []}], "fixes": []}
CLEAN = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}], "fixes": []}
ALL_SKIPPED = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI and could not be "
                                                                  "audited: django (5.2.19)"}], "fixes": []}
NPM_CLEAN = {"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {
    "vulnerabilities": {"total": 0}, "dependencies": {"prod": 1, "dev": 15}}}
NPM_VULNERABLE = {"auditReportVersion": 2, "vulnerabilities": {"solc": {"severity": "high", "range": "<0.9"}},
                  "metadata": {"vulnerabilities": {"high": 1, "total": 1}, "dependencies": {"prod": 2}}}
NPM_UNREACHABLE = {"message": "405 Method Not Allowed - POST .../security/advisories/bulk", "statusCode": 405,
                   "error": {"summary": ""}}


def _executable(path: Path, body: str) -> None:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _run(tmp_path: Path, pypi: dict | None, osv: dict | None, npm: dict, npm_code: int = 0,
         extra_env: dict[str, str] | None = None):
    """pypi/osv: the JSON that the stand-in pip-audit prints for that service (None: a connection error)."""
    reports = {"pypi": pypi, "osv": osv}
    _executable(tmp_path / "pip-audit", f"""
import json, sys
reports = json.loads({json.dumps(json.dumps(reports))})
report = reports[sys.argv[sys.argv.index("--vulnerability-service") + 1]]
if report is None:
    sys.stderr.write("requests.exceptions.ConnectionError: cannot reach the advisory service\\n")
    sys.exit(1)
print(json.dumps(report))
""")
    _executable(tmp_path / "npm", f"""
import sys
assert sys.argv[1:] == ["audit", "--omit=dev", "--json"], sys.argv
print({json.dumps(json.dumps(npm))})
sys.exit({npm_code})
""")
    env = {**os.environ, "PIP_AUDIT": str(tmp_path / "pip-audit"), "PATH": f"{tmp_path}:{os.environ['PATH']}",
           "AUDIT_PROBE_PYPI": "", "AUDIT_PROBE_OSV": "", **(extra_env or {})}
    return subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_python_advisory_fails_the_audit(tmp_path):
    result = _run(tmp_path, VULNERABLE, None, NPM_CLEAN)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "KNOWN VULNERABILITIES" in result.stdout and "django==5.2.19: PYSEC-2099-1" in result.stdout


def test_an_npm_advisory_fails_the_audit(tmp_path):
    result = _run(tmp_path, CLEAN, None, NPM_VULNERABLE, npm_code=1)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "solc: high" in result.stdout


def test_unreachable_advisories_are_said_in_one_line_and_do_not_fail(tmp_path):
    result = _run(tmp_path, ALL_SKIPPED, None, NPM_UNREACHABLE, npm_code=1)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, lines
    assert all("advisories could not be fetched, NOT audited" in line for line in lines)
    assert "No known vulnerabilities" not in result.stdout  # pip-audit's words for "all skipped"


def test_osv_is_tried_when_pypi_gives_no_advisories(tmp_path):
    result = _run(tmp_path, ALL_SKIPPED, VULNERABLE, NPM_CLEAN)
    assert result.returncode == 1 and "PYSEC-2099-1" in result.stdout


def test_a_clean_audit_passes_and_says_what_it_audited(tmp_path):
    result = _run(tmp_path, CLEAN, None, NPM_CLEAN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pip-audit (pypi): 1 pinned packages audited, no known vulnerabilities" in result.stdout
    assert "no production npm dependencies" in result.stdout


@pytest.mark.parametrize("report", [{"dependencies": []}, ALL_SKIPPED])
def test_nothing_audited_is_never_a_pass(tmp_path, report):
    result = _run(tmp_path, report, report, NPM_CLEAN)
    assert result.returncode == 0
    assert "Python (requirements.txt): advisories could not be fetched, NOT audited" in result.stdout


def test_an_unreachable_service_is_not_asked_package_by_package(tmp_path):
    closed = "http://127.0.0.1:9/pypi/pip/json"  # discard port: nothing listens
    result = _run(tmp_path, VULNERABLE, VULNERABLE, NPM_CLEAN,
                  extra_env={"AUDIT_PROBE_PYPI": closed, "AUDIT_PROBE_OSV": closed})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "advisories could not be fetched, NOT audited (pypi: http://127.0.0.1:9" in result.stdout
    assert "PYSEC" not in result.stdout  # the stand-in pip-audit was never run
