#!/usr/bin/env bash
# Build the AVM (Algorand Python) token contracts into tokens/contracts/avm/artifacts/.
#
#   scripts/build_avm_contracts.sh           rebuild and replace the committed artifacts
#   scripts/build_avm_contracts.sh --check   rebuild into a temporary directory and fail
#                                            (exit 1) if it differs from the committed artifacts
#
# puyapy needs Python 3.12: the build venv `.venv-puya` (repo root) is created with
# $PYTHON312 (default /root/.pyenv/versions/3.12.1/bin/python) if missing, and
# requirements-contracts.txt is (re)installed whenever it changes.
# The sources are copied into a flat temporary directory before compiling: puyapy type-checks
# every module it reaches and must not see the (plain Python) package __init__.py next to them,
# which is also why arc1400_security_token.py imports `from arc200_token import ...`.
# Outputs per contract: <Name>.approval.teal, <Name>.clear.teal, <Name>.approval.bin,
# <Name>.clear.bin, <Name>.arc56.json. Source maps are disabled and puyapy runs from the
# contract directory with relative file names, so no absolute path or timestamp ends up in
# the artifacts and a rebuild in another checkout is byte-identical.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC_DIR="$ROOT/tokens/contracts/avm"
ARTIFACTS="$SRC_DIR/artifacts"
VENV="$ROOT/.venv-puya"
REQS="$ROOT/requirements-contracts.txt"
PYTHON312="${PYTHON312:-/root/.pyenv/versions/3.12.1/bin/python}"
CONTRACTS=(arc200_token.py arc1400_security_token.py)

mode="build"
case "${1:-}" in
  "") ;;
  --check) mode="check" ;;
  -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if [[ ! -x "$VENV/bin/python" ]]; then
  if [[ ! -x "$PYTHON312" ]]; then
    echo "error: Python 3.12 not found at $PYTHON312 (set PYTHON312)" >&2
    exit 2
  fi
  echo "creating $VENV with $PYTHON312" >&2
  "$PYTHON312" -m venv "$VENV"
fi

stamp="$VENV/.requirements-contracts.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "installing $REQS into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS" >&2
  echo "$want" > "$stamp"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="$tmp/artifacts"
src="$tmp/src"
mkdir -p "$out" "$src"
for c in "${CONTRACTS[@]}"; do cp "$SRC_DIR/$c" "$src/$c"; done

# puyapy checks the Python of the active environment, so activate the 3.12 venv.
rc=0
(
  cd "$src"
  export VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH"
  unset PYTHONHOME
  puyapy \
    --target-avm-version 10 \
    --optimization-level 1 \
    --debug-level 1 \
    --out-dir "$out" \
    --output-teal \
    --output-bytecode \
    --output-arc56 \
    --no-output-arc32 \
    --no-output-client \
    --no-output-source-map \
    --log-level warning \
    "${CONTRACTS[@]}"
) > "$tmp/puyapy.log" 2>&1 || rc=$?
# The flat source directory has no package root on purpose; drop that warning.
grep -v "cannot determine package root" "$tmp/puyapy.log" >&2 || true
if [[ "$rc" != "0" ]]; then
  echo "error: puyapy failed (exit $rc)" >&2
  exit "$rc"
fi

if [[ "$mode" == "check" ]]; then
  if ! diff -r "$ARTIFACTS" "$out" > "$tmp/diff.txt" 2>&1; then
    echo "error: AVM contract artifacts in tokens/contracts/avm/artifacts/ differ from a fresh" >&2
    echo "build of the contract sources; run scripts/build_avm_contracts.sh and commit the result." >&2
    head -n 40 "$tmp/diff.txt" >&2
    exit 1
  fi
  echo "AVM contract artifacts are up to date."
  exit 0
fi

mkdir -p "$ARTIFACTS"
find "$ARTIFACTS" -maxdepth 1 -type f -delete
cp "$out"/* "$ARTIFACTS"/
echo "AVM contract artifacts written to tokens/contracts/avm/artifacts/:"
ls -1 "$ARTIFACTS"
