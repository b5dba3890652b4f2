#!/usr/bin/env bash
# The main job on a fresh machine: set up, then run one full demo round (`fedsettle demo`).
# Extra arguments go to `fedsettle demo` (for example --orgs 5 --rounds 5 --out out/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/fedsettle demo "$@"
