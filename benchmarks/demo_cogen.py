"""Wall and CPU time of ``fedsettle demo --mechanism cogen`` (5 silos, 5 FL rounds by default).

Runs the demo as a user does (a fresh ``fedsettle`` process, so imports and the anvil spawn are
counted) and records its wall time, the CPU time of the process tree, the demo's own stage
marks (``timings_s`` of report.json), the machine's load average before and after (the machine
may be shared), and the numbers the demo reported (accuracy with and without generation,
x_i and R_wei per silo). Writes ``benchmarks/results/demo_cogen.json``.

Run: ``python benchmarks/demo_cogen.py [--orgs 5] [--rounds 5] [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: the ``fedsettle`` console script, run by this interpreter
_ENTRY = "import sys; from fl_node.cli import main; sys.exit(main(sys.argv[1:]))"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/demo_cogen.json"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-c", _ENTRY, "demo", "--mechanism", "cogen",
            "--orgs", str(args.orgs), "--rounds", str(args.rounds), "--out", tmp,
        ]  # fmt: skip
        load_before = os.getloadavg()
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        load_after = os.getloadavg()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            return done.returncode
        report = json.loads((Path(tmp) / "report.json").read_text())
    result = {
        "command": "fedsettle " + " ".join(cmd[3:]),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "stage_marks_s": report["timings_s"],
        "load_average_before_after": [list(load_before), list(load_after)],
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "accuracy": report["accuracy"],
        "accuracy_without_generation": report["accuracy_without_generation"],
        "silos": [
            {k: o[k] for k in ("name", "D", "delta", "x", "x_max", "c", "R_wei", "payout_wei")}
            for o in report["orgs"]
        ],
        "sum_R_wei": report["sum_R_wei"],
        "sum_deposits_wei": report["sum_deposits_wei"],
        "sum_payouts_wei": report["sum_payouts_wei"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("wall_seconds", "cpu_seconds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
