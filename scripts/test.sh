#!/usr/bin/env bash
# Set up, then run every check CI runs: stale-artifact check, lint, and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "==> contract artifacts are up to date"
python scripts/compile_contracts.py --check
echo "==> ruff"
ruff check .
echo "==> pytest"
exec python -m pytest "$@"
