"""Session hooks the Flower ServerApp loads on the deployment runtime (``hooks`` run config).

The coordinator runs the strategy phase itself (over the daemons' HTTP agents) before it submits
the Flower run, and writes the resulting assignments, keyed by silo name, to the file named by
the ``assignments-file`` run config key. The ServerApp's ``before_training`` maps the SuperNodes
that answered the identity query to those assignments by their ``silo-name``; SuperNodes of
silos without an assignment do not train.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fl_node.flower import Assignment, SessionHooks, SiloIdentity, Transport

__all__ = ["HOOKS_REF", "hooks", "write_assignments"]

#: the ``hooks`` run config value that selects this module
HOOKS_REF = "fl_node.coordinator.flower_hooks:hooks"


def write_assignments(path: Path, plan: Mapping[str, Assignment]) -> None:
    """Write ``plan`` (silo name -> assignment) where :func:`hooks` reads it."""
    doc = {n: {"d": a.d, "f": a.f, "x": a.x, "extra": dict(a.extra)} for n, a in plan.items()}
    path.write_text(json.dumps(doc), encoding="utf-8")


def hooks(run_config: Mapping[str, Any]) -> SessionHooks:
    """Build the hooks from ``run_config["assignments-file"]`` (``{name: {d, f, x, extra}}``;
    ``extra`` holds a mechanism's own train keys, e.g. cogen's ``synthetic``)."""
    path = Path(str(run_config.get("assignments-file", "")))
    if not path.is_file():
        raise ValueError(
            f"run config assignments-file={str(path)!r} is not a file; the coordinator writes it "
            "before submitting the run"
        )
    by_name = json.loads(path.read_text(encoding="utf-8"))

    def before_training(
        identities: Mapping[int, SiloIdentity], transport: Transport
    ) -> dict[int, Assignment]:
        plan = {}
        for node_id, identity in identities.items():
            entry = by_name.get(identity.name)
            if entry is not None:
                plan[node_id] = Assignment(
                    float(entry["d"]),
                    float(entry["f"]),
                    float(entry["x"]),
                    extra=dict(entry.get("extra", {})),
                )
        return plan

    return SessionHooks(before_training=before_training)
