#!/usr/bin/env bash
# Sets up a fresh checkout: a Python 3.11 virtualenv in .venv with fedsettle installed (editable,
# with the dev extras) and the node toolchain (anvil, solc-js) in node_modules. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.fedsettle-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing Python dependencies (torch is pinned to the local CPU wheel)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi
if [ ! -x node_modules/.bin/anvil ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing the node toolchain (anvil, solc-js)"
  # Not `npm ci`: npm 11 rejects this lock file because anvil's optional per-platform binaries
  # for other platforms are absent from it; `install --no-save` installs the locked versions.
  npm install --no-audit --no-fund --no-save --loglevel=error
fi
