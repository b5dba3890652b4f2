#!/usr/bin/env bash
# Static analysis of contracts/ with slither, through the project's pinned solc-js.
# Fails on any high or medium finding in the project's own contracts (OpenZeppelin and the
# test-only contracts in contracts/test/ are excluded); low findings are triaged in
# contracts/README.md. slither-analyzer pins web3 < 8, which the project's own environment does
# not allow, so it lives in its own virtualenv (SLITHER_VENV, default .venv-slither).
set -euo pipefail
cd "$(dirname "$0")/.."
SLITHER_VERSION=0.11.6
VENV=${SLITHER_VENV:-.venv-slither}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x "$VENV/bin/slither" ] || [ "$("$VENV/bin/slither" --version)" != "$SLITHER_VERSION" ]; then
  echo "==> installing slither-analyzer $SLITHER_VERSION into $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet "slither-analyzer==$SLITHER_VERSION"
fi
input=$(mktemp --suffix=.json)
trap 'rm -f "$input"' EXIT
"${PROJECT_PYTHON:-python}" scripts/compile_contracts.py --check --standard-json-out "$input" >/dev/null
"$VENV/bin/slither" "$input" \
  --compile-force-framework solc-json \
  --solc scripts/slither_solc.py \
  --filter-paths "node_modules|contracts/test" \
  --exclude-informational --exclude-optimization \
  --fail-medium "$@"
