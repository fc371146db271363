"""`make audit`: known-vulnerability audit of the Python lock (pip-audit over requirements.txt) and
of the production npm dependencies (`npm audit --omit=dev`). See docs/dependencies.md.

Exit status: 1 when an advisory applies to a pinned version (a real finding always fails); 0 when
nothing applies, and also when the advisories could not be fetched at all (no route to the advisory
service): then ONE line says so plainly, and nothing pretends to have been audited. pip-audit itself
reports "No known vulnerabilities found" when every package was skipped; that is not taken as a pass.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = os.environ.get("PIP_AUDIT", str(ROOT / ".venv" / "bin" / "pip-audit"))
# Tried in order: PyPI's JSON API (advisories from the PyPA database), then OSV.
PYTHON_SERVICES = ("pypi", "osv")
# One cheap request per service first, so that an unreachable service costs seconds, not one timeout
# per package. AUDIT_PROBE_<SERVICE>="" skips the probe (tests); another URL replaces it.
PROBES = {
    # the per-release JSON that pip-audit reads (pip 20.0 has advisories)
    "pypi": (os.environ.get("AUDIT_PROBE_PYPI", "https://pypi.org/pypi/pip/20.0/json"), None),
    "osv": (os.environ.get("AUDIT_PROBE_OSV", "https://api.osv.dev/v1/query"),
            json.dumps({"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "20.0"}).encode()),
}


@dataclass
class Verdict:
    status: str  # "ok" | "vulnerable" | "unavailable"
    lines: list[str]


def python_verdict(service: str, report: dict[str, Any]) -> Verdict:
    """Judge pip-audit's JSON report (`--format json`)."""
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not audited:
        reason = skipped[0]["skip_reason"].split(":")[0] if skipped else "no package in the report"
        return Verdict("unavailable", [f"{service}: {len(skipped)} of {len(dependencies)} packages skipped ({reason})"])
    findings = [f"{d['name']}=={d['version']}: {v['id']} {'/'.join(v.get('aliases', []))} fixed in "
                f"{', '.join(v.get('fix_versions', [])) or 'no release'}"
                for d in audited for v in d.get("vulns", [])]
    if findings:
        return Verdict("vulnerable", findings)
    line = f"pip-audit ({service}): {len(audited)} pinned packages audited, no known vulnerabilities"
    if skipped:
        line += f"; NOT audited: {', '.join(d['name'] for d in skipped)}"
    return Verdict("ok", [line])


def npm_verdict(report: dict[str, Any], returncode: int) -> Verdict:
    """Judge `npm audit --omit=dev --json`."""
    if "error" in report or ("message" in report and "vulnerabilities" not in report):
        reason = report.get("message") or report.get("error", {}).get("summary") or "the audit endpoint failed"
        return Verdict("unavailable", [f"npm: {reason}"])
    counts = report.get("metadata", {}).get("vulnerabilities", {})
    total = int(counts.get("total", 0))
    if total:
        findings = [f"{name}: {info.get('severity')} ({info.get('range', '')})"
                    for name, info in sorted(report.get("vulnerabilities", {}).items())]
        return Verdict("vulnerable", findings or [f"{total} vulnerabilities"])
    if returncode != 0:
        return Verdict("unavailable", [f"npm audit exited {returncode} without a report"])
    deps = report.get("metadata", {}).get("dependencies", {})
    production = max(int(deps.get("prod", 0)) - 1, 0)  # npm counts the project itself
    if production == 0:
        return Verdict("ok", [f"npm audit --omit=dev: no production npm dependencies (the {deps.get('dev', 0)} "
                              "npm packages are build-time devDependencies); nothing to audit"])
    return Verdict("ok", [f"npm audit --omit=dev: {production} production packages, no known vulnerabilities"])


def _run(command: list[str], timeout: int) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout}s"
    except FileNotFoundError as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:140] if lines else "no output"


def probe(service: str) -> str | None:
    """None when the service answers a known query with JSON, else why not."""
    url, body = PROBES[service]
    if not url:
        return None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - https URLs above
            json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return f"{service}: {url} answered {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{service}: {url} unreachable ({getattr(exc, 'reason', exc)})"
    return None


def audit_python(requirements: str = "requirements.txt") -> Verdict:
    reasons = []
    hashed = "--hash=" in (ROOT / requirements).read_text()
    for service in PYTHON_SERVICES:
        unreachable = probe(service)
        if unreachable:
            reasons.append(unreachable)
            continue
        pinning = "--require-hashes" if hashed else "--no-deps"
        code, out, err = _run([PIP_AUDIT, "-r", requirements, pinning, "--disable-pip", "--progress-spinner", "off",
                               "--format", "json", "--vulnerability-service", service, "--timeout", "20"], timeout=600)
        try:
            report = json.loads(out)
        except ValueError:
            reasons.append(f"{service}: {_last_line(err)}")
            continue
        verdict = python_verdict(service, report)
        if verdict.status != "unavailable":
            return verdict
        reasons += verdict.lines
    return Verdict("unavailable", reasons)


def audit_npm() -> Verdict:
    code, out, err = _run(["npm", "audit", "--omit=dev", "--json"], timeout=300)
    try:
        report = json.loads(out)
    except ValueError:
        return Verdict("unavailable", [f"npm: {_last_line(err)}"])
    return npm_verdict(report, code)


def main() -> int:
    failed = False
    for name, verdict in (("Python (requirements.txt)", audit_python()), ("npm (package-lock.json)", audit_npm())):
        if verdict.status == "unavailable":
            print(f"dependency audit, {name}: advisories could not be fetched, NOT audited "
                  f"({'; '.join(verdict.lines)})")
        elif verdict.status == "vulnerable":
            failed = True
            print(f"dependency audit, {name}: KNOWN VULNERABILITIES:")
            for line in verdict.lines:
                print(f"  {line}")
        else:
            for line in verdict.lines:
                print(f"dependency audit, {name}: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
