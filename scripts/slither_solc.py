#!/usr/bin/env python3
"""A ``solc`` stand-in for slither: answers ``--version`` and ``--standard-json`` with solc-js.

crytic-compile (slither's compiler front end) runs ``solc --version`` and
``solc --standard-json --allow-paths DIR`` with the input on stdin. solc-js (the project's pinned
compiler, ``node_modules/.bin/solcjs``) has no ``--allow-paths`` and prints a warning line before
its JSON, so this script translates: the version in native solc's format, and the standard-JSON
output alone on stdout. The input must be self-contained (every source's content inlined, as
``scripts/compile_contracts.py --standard-json-out`` writes it).
"""

from __future__ import annotations

import subprocess
import sys

from compile_contracts import SOLCJS, CompileError, solcjs_standard_json


def main(argv: list[str]) -> int:
    if "--version" in argv:
        out = subprocess.run(
            [str(SOLCJS), "--version"], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        print("solc, the solidity compiler commandline interface")
        print(f"Version: {out.stdout.strip()}")
        return 0
    if "--standard-json" not in argv:
        print("slither_solc.py: only --version and --standard-json are supported", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(solcjs_standard_json(sys.stdin.read()))
    except CompileError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
