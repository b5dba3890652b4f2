#!/usr/bin/env bash
# Set up, then run every check CI runs: stale-artifact check, lint, and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The dashboard's end-to-end test drives headless Chromium (Debian's package).
if ! command -v chromium >/dev/null 2>&1 && [ -z "${FEDSETTLE_CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing chromium for the dashboard test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: install it (apt-get install chromium) or set FEDSETTLE_CHROMIUM" >&2
    exit 1
  fi
fi
export PATH="$PWD/.venv/bin:$PATH"
echo "==> contract artifacts are up to date"
python scripts/compile_contracts.py --check
echo "==> slither (fails on any high or medium finding)"
bash scripts/slither.sh
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> mypy"
mypy solver settlement fl_node
echo "==> pytest"
exec python -m pytest "$@"
