#!/usr/bin/env python3
"""Compile ``contracts/`` into the committed JSON artifacts under ``settlement/artifacts/``.

Usage (from the repository root, with the project virtualenv active)::

    python scripts/compile_contracts.py            # (re)write the artifacts with solc-js
    python scripts/compile_contracts.py --check    # exit 1 if the committed artifacts are stale
    python scripts/compile_contracts.py --solc native   # use py-solc-x and a native solc instead

The compiler is pinned to ``PINNED_VERSION``; solc-js (``node_modules/.bin/solcjs``, installed by
``npm ci``) and a native solc of the same version produce byte-identical artifacts because the
metadata CBOR trailer is disabled (``appendCBOR: false``) and sources are named by relative paths
(``contracts/FedSettle.sol``). ``--solc native`` needs the native binary installed beforehand
(``python -c "import solcx; solcx.install_solc('0.8.37')"`` where the network allows it, or
``--solc-binary PATH``); it never downloads.

Outputs:

- ``settlement/artifacts/FedSettle.json``: abi, bytecode, deployedBytecode of ``FedSettle``;
- ``settlement/artifacts/TestContracts.json``: the same for every contract in ``contracts/test/``.

Each artifact also records the compiler version, the exact settings, the sha256 of every
source file its contracts depend on and ``immutableReferences`` (byte ranges of the deployed code
that the constructor fills in, which an auditor masks to match on-chain code to the artifact).
Output is deterministic (sorted keys, fixed indentation).

Libraries (OpenZeppelin, pinned in ``package.json``) are imported as ``@openzeppelin/contracts/...``
and remapped to ``node_modules/@openzeppelin/contracts/...``; this script resolves the import
closure itself, so the standard-JSON input is self-contained (``--standard-json-out FILE`` writes
it, e.g. for slither's ``--compile-force-framework solc-json``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = ROOT / "contracts"
TEST_DIR = CONTRACTS_DIR / "test"
ARTIFACTS_DIR = ROOT / "settlement" / "artifacts"
SOLCJS = ROOT / "node_modules" / ".bin" / "solcjs"

PINNED_VERSION = "0.8.37"
PINNED_COMMIT = "f401782d"
MAIN_CONTRACT = "FedSettle"

LIBRARY_PREFIX = "@openzeppelin/contracts/"
LIBRARY_DIR = "node_modules/@openzeppelin/contracts/"

SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "metadata": {"appendCBOR": False, "bytecodeHash": "none"},
    "optimizer": {"enabled": True, "runs": 200},
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
                "metadata",
            ]
        }
    },
    "remappings": [f"{LIBRARY_PREFIX}={LIBRARY_DIR}"],
    "viaIR": False,
}

_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*\s+from\s+)?["']([^"']+)["']""", re.MULTILINE)

# Warnings that are part of the design, not news: the force-feeder test contract must use
# selfdestruct, the only way to push ether into a contract without running its code; OpenZeppelin's
# transient reentrancy guard is the safe use of transient storage that solc's warning describes.
EXPECTED_WARNINGS = (
    ("contracts/test/ForceFeeder.sol", '"selfdestruct" has been deprecated'),
    ("node_modules/@openzeppelin/contracts/utils/TransientSlot.sol", "Transient storage"),
)

EXIT_OK = 0
EXIT_STALE = 1
EXIT_COMPILER = 2
EXIT_COMPILE_ERROR = 3


class CompileError(RuntimeError):
    """The compiler is missing, has the wrong version, or rejected the sources."""

    def __init__(self, message: str, exit_code: int = EXIT_COMPILER) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _resolve(importer: str, path: str) -> str:
    if path.startswith(LIBRARY_PREFIX):
        return LIBRARY_DIR + path[len(LIBRARY_PREFIX) :]
    if path.startswith("."):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    return path


def source_files() -> dict[str, str]:
    """Return ``{source name: content}``: every ``.sol`` under ``contracts/`` and its imports."""
    files = sorted(CONTRACTS_DIR.rglob("*.sol"))
    if not files:
        raise CompileError(f"no .sol files under {CONTRACTS_DIR}", EXIT_COMPILE_ERROR)
    sources = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in files}
    pending = list(sources)
    while pending:
        name = pending.pop()
        for path in _IMPORT.findall(sources[name]):
            dep = _resolve(name, path)
            if dep in sources:
                continue
            file = ROOT / dep
            if not file.is_file():
                raise CompileError(
                    f"{name} imports {path!r} ({dep}), which does not exist; run "
                    "`npm install --no-save` for the pinned libraries",
                    EXIT_COMPILE_ERROR,
                )
            sources[dep] = file.read_text(encoding="utf-8")
            pending.append(dep)
    return dict(sorted(sources.items()))


def standard_input(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }


def analysis_input(std_in: dict[str, Any]) -> dict[str, Any]:
    """The same compilation with the outputs analysis tools read (ASTs, source maps)."""
    settings = {
        **std_in["settings"],
        "outputSelection": {
            "*": {"*": ["abi", "metadata", "evm.bytecode", "evm.deployedBytecode"], "": ["ast"]}
        },
    }
    return {**std_in, "settings": settings}


def _normalize_version(raw: str) -> str:
    """``0.8.37+commit.f401782d.Emscripten.clang`` -> ``0.8.37+commit.f401782d``."""
    m = re.search(r"(\d+\.\d+\.\d+)\+commit\.([0-9a-f]+)", raw)
    if not m:
        raise CompileError(f"cannot parse a compiler version from {raw!r}")
    return f"{m.group(1)}+commit.{m.group(2)}"


def _check_version(version: str, where: str) -> None:
    expected = f"{PINNED_VERSION}+commit.{PINNED_COMMIT}"
    if version != expected:
        raise CompileError(
            f"{where} is solc {version}, but the artifacts are pinned to {expected}; "
            f"install that version (npm ci for solc-js, or a native solc {PINNED_VERSION})"
        )


def solcjs_standard_json(std_in: str) -> str:
    """Run ``solcjs --standard-json`` on ``std_in``; return its JSON text (CompileError if none).

    stdin and stdout are files, not pipes: node's readFileSync on a large piped stdin fails with
    EAGAIN, and solcjs exits before a piped stdout is flushed (the JSON is cut at 64 KiB).
    solc-js prints a warning line ("Cannot retry compilation with SMT ...") before the JSON.
    """
    with (
        tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out,
        tempfile.TemporaryFile(mode="w+", encoding="utf-8") as inp,
    ):
        inp.write(std_in)
        inp.seek(0)
        proc = subprocess.run(
            [str(SOLCJS), "--standard-json"],
            stdin=inp,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            cwd=ROOT,
        )
        out.seek(0)
        text = out.read()
    start = text.find("{")
    if start < 0:
        raise CompileError(
            f"solcjs printed no JSON (exit {proc.returncode}): {proc.stderr.strip()[:2000]}",
            EXIT_COMPILE_ERROR,
        )
    return text[start:]


def compile_solcjs(std_in: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Compile with solc-js in --standard-json mode; return (output, normalized version)."""
    if not SOLCJS.exists():
        raise CompileError(f"{SOLCJS.relative_to(ROOT)} not found: run `npm ci` in {ROOT}")
    ver = subprocess.run(
        [str(SOLCJS), "--version"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if ver.returncode != 0:
        raise CompileError(f"`solcjs --version` failed: {ver.stderr.strip()}")
    version = _normalize_version(ver.stdout.strip())
    _check_version(version, "node_modules/.bin/solcjs")
    text = solcjs_standard_json(json.dumps(std_in))
    try:
        return json.loads(text), version
    except json.JSONDecodeError as exc:
        raise CompileError(f"solcjs printed invalid JSON: {exc}", EXIT_COMPILE_ERROR) from exc


def _native_version(binary: str) -> str:
    try:
        proc = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise CompileError(f"cannot run native solc {binary!r}: {exc}") from exc
    return _normalize_version(proc.stdout)


def compile_native(std_in: dict[str, Any], binary: str | None) -> tuple[dict[str, Any], str]:
    """Compile with py-solc-x and an already installed native solc of the pinned version."""
    try:
        import solcx
        from solcx.exceptions import SolcNotInstalled
    except ImportError as exc:  # pragma: no cover - py-solc-x is a project dependency
        raise CompileError(f"py-solc-x is not installed ({exc}); pip install py-solc-x") from exc
    try:
        if binary is not None:
            version = _native_version(binary)
            _check_version(version, binary)
            out = solcx.compile_standard(std_in, solc_binary=binary, allow_empty=True)
        else:
            installed = [str(v) for v in solcx.get_installed_solc_versions()]
            if PINNED_VERSION not in installed:
                raise CompileError(
                    f"no native solc {PINNED_VERSION} installed for py-solc-x "
                    f"(installed: {installed or 'none'}); install it with "
                    f"`python -c \"import solcx; solcx.install_solc('{PINNED_VERSION}')\"` "
                    "where downloads are allowed, pass --solc-binary PATH, or use --solc js"
                )
            path = str(solcx.install.get_executable(PINNED_VERSION))
            version = _native_version(path)
            _check_version(version, path)
            out = solcx.compile_standard(std_in, solc_version=PINNED_VERSION, allow_empty=True)
    except SolcNotInstalled as exc:
        raise CompileError(f"native solc not available: {exc}") from exc
    except solcx.exceptions.SolcError as exc:
        raise CompileError(f"native solc failed: {exc}", EXIT_COMPILE_ERROR) from exc
    return out, version


def _raise_on_errors(output: dict[str, Any]) -> list[str]:
    """Raise on compiler errors; return the warnings as formatted strings."""
    errors, warnings = [], []
    for diag in output.get("errors", []):
        text = diag.get("formattedMessage") or diag.get("message", "")
        if diag.get("severity") == "error":
            errors.append(text.strip())
            continue
        where = diag.get("sourceLocation", {}).get("file", "")
        if any(where == f and m in diag.get("message", "") for f, m in EXPECTED_WARNINGS):
            continue
        warnings.append(text.strip())
    if errors:
        raise CompileError("compilation failed:\n" + "\n".join(errors), EXIT_COMPILE_ERROR)
    return warnings


def _entry(compiled: dict[str, Any]) -> dict[str, Any]:
    deployed = compiled["evm"]["deployedBytecode"]
    return {
        "abi": compiled["abi"],
        "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + deployed["object"],
        "immutableReferences": deployed.get("immutableReferences", {}),
    }


def _dependencies(compiled: dict[str, Any]) -> set[str]:
    return set(json.loads(compiled["metadata"])["sources"])


def build_artifacts(
    output: dict[str, Any], sources: dict[str, str], version: str
) -> dict[str, dict[str, Any]]:
    """Turn compiler output into ``{file name: artifact}``."""
    contracts = output.get("contracts", {})
    test_prefix = TEST_DIR.relative_to(ROOT).as_posix() + "/"

    def sha_table(names: set[str]) -> dict[str, str]:
        return {n: hashlib.sha256(sources[n].encode("utf-8")).hexdigest() for n in sorted(names)}

    common = {
        "compiler": {"name": "solc", "version": version},
        "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
    }
    main = None
    for path, by_name in contracts.items():
        if MAIN_CONTRACT in by_name and not path.startswith(test_prefix):
            main = (path, by_name[MAIN_CONTRACT])
    if main is None:
        raise CompileError(f"contract {MAIN_CONTRACT} not found in the output", EXIT_COMPILE_ERROR)
    fed = {
        "contractName": MAIN_CONTRACT,
        "sourceName": main[0],
        **_entry(main[1]),
        **common,
        "sources": sha_table(_dependencies(main[1])),
    }

    tests: dict[str, Any] = {}
    deps: set[str] = set()
    for path in sorted(contracts):
        if not path.startswith(test_prefix):
            continue
        for name, compiled in sorted(contracts[path].items()):
            if not compiled["evm"]["bytecode"]["object"]:
                continue  # abstract contracts, interfaces and libraries without code
            if name in tests:
                raise CompileError(f"two test contracts named {name}", EXIT_COMPILE_ERROR)
            tests[name] = {"sourceName": path, **_entry(compiled)}
            deps |= _dependencies(compiled)
    test_art = {"contracts": tests, **common, "sources": sha_table(deps)}
    return {"FedSettle.json": fed, "TestContracts.json": test_art}


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def _stale_reasons(name: str, new: dict[str, Any], path: Path) -> list[str]:
    if not path.exists():
        return [f"{path.relative_to(ROOT)} is missing"]
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return [f"{path.relative_to(ROOT)} is not valid JSON"]
    if render(old) == render(new):
        return []
    reasons = []
    if old.get("sources") != new.get("sources"):
        changed = sorted(
            set(old.get("sources", {})) ^ set(new.get("sources", {}))
            | {
                k
                for k in set(old.get("sources", {})) & set(new.get("sources", {}))
                if old["sources"][k] != new["sources"][k]
            }
        )
        reasons.append(f"{name}: source hashes differ ({', '.join(changed)})")
    blobs = (
        [(name, old, new)]
        if "contracts" not in new
        else [
            (f"{name}:{c}", old.get("contracts", {}).get(c, {}), new["contracts"][c])
            for c in sorted(set(new["contracts"]) | set(old.get("contracts", {})))
        ]
    )
    for label, o, n in blobs:
        if o.get("bytecode") != n.get("bytecode") or o.get("abi") != n.get("abi"):
            reasons.append(f"{label}: bytecode or abi differs")
    if not reasons:
        reasons.append(f"{name}: compiler version or settings differ")
    return reasons


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if artifacts are stale")
    parser.add_argument("--solc", choices=("js", "native"), default="js", help="compiler backend")
    parser.add_argument("--solc-binary", help="native solc executable (implies --solc native)")
    parser.add_argument("--out-dir", type=Path, default=ARTIFACTS_DIR, help=argparse.SUPPRESS)
    parser.add_argument(
        "--standard-json-out",
        type=Path,
        help="also write the standard-JSON input (with ASTs and source maps selected) to this file",
    )
    args = parser.parse_args(argv)
    try:
        sources = source_files()
        std_in = standard_input(sources)
        if args.standard_json_out:
            args.standard_json_out.write_text(json.dumps(analysis_input(std_in)), encoding="utf-8")
        if args.solc == "native" or args.solc_binary:
            output, version = compile_native(std_in, args.solc_binary)
        else:
            output, version = compile_solcjs(std_in)
        warnings = _raise_on_errors(output)
        artifacts = build_artifacts(output, sources, version)
    except CompileError as exc:
        print(f"compile_contracts: error: {exc}", file=sys.stderr)
        return exc.exit_code
    for w in warnings:
        print(f"compile_contracts: warning: {w}", file=sys.stderr)

    out_dir: Path = args.out_dir
    if args.check:
        reasons = [
            r for name, art in artifacts.items() for r in _stale_reasons(name, art, out_dir / name)
        ]
        if reasons:
            print(
                "compile_contracts: artifacts are stale; run `python scripts/compile_contracts.py`"
                " and commit settlement/artifacts/:\n  " + "\n  ".join(reasons),
                file=sys.stderr,
            )
            return EXIT_STALE
        print(f"compile_contracts: artifacts up to date (solc {version})")
        return EXIT_OK
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, art in artifacts.items():
        (out_dir / name).write_text(render(art), encoding="utf-8")
        shown = out_dir / name
        if shown.is_absolute() and shown.is_relative_to(ROOT):
            shown = shown.relative_to(ROOT)
        print(f"compile_contracts: wrote {shown.as_posix()}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
