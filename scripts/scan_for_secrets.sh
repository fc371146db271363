#!/usr/bin/env bash
# Secret scan of every tracked file with detect-secrets (pinned in requirements.txt) against the
# audited baseline .secrets.baseline (docs/security-checks.md). Fails on any finding that is not in
# the baseline, or that the baseline marks as a real secret. Line moves do not matter (findings are
# matched by file and hashed value). `--update` rewrites the baseline (keeping the audit marks) for a
# human to audit new entries with `detect-secrets audit .secrets.baseline`.
set -euo pipefail
cd "$(dirname "$0")/.."
DS=${DETECT_SECRETS:-.venv/bin/detect-secrets}

if [[ "${1:-}" == "--update" ]]; then
  "$DS" scan --baseline .secrets.baseline
  echo "Baseline updated; audit new entries: $DS audit .secrets.baseline"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp .secrets.baseline "$work/current.baseline"
# Same settings as recorded in the baseline (plugins, excluded files, custom filter).
"$DS" scan --baseline "$work/current.baseline"
python3 - "$work/current.baseline" <<'PY'
import json, sys
baseline = json.load(open(sys.argv[1]))
findings = [(name, f) for name, items in sorted(baseline["results"].items()) for f in items]
bad = [(name, f) for name, f in findings if f.get("is_secret") is not False]
if bad:
    print("secret scan: FAILED. Findings not audited as false positives in .secrets.baseline:", file=sys.stderr)
    for name, f in bad:
        state = "marked REAL" if f.get("is_secret") else "new"
        print(f"  {name}:{f['line_number']}  {f['type']}  ({state})", file=sys.stderr)
    print("Remove the secret (and rotate it), or, for a public/dev value, run 'scripts/scan_for_secrets.sh --update'"
          " and audit it ('detect-secrets audit .secrets.baseline').", file=sys.stderr)
    sys.exit(1)
print(f"secret scan: no new secrets ({len(findings)} audited known-public/dev findings in .secrets.baseline)")
PY
