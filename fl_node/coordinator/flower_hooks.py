"""Session hooks the Flower ServerApp loads on the deployment runtime (``hooks`` run config).

The coordinator runs the strategy phase itself (over the daemons' HTTP agents) and writes the
resulting assignments, keyed by silo name, to the file named by the ``assignments-file`` run
config key. The ServerApp's ``before_training`` maps the SuperNodes that answered the identity
query to those assignments by their ``silo-name``; SuperNodes of silos without an assignment do
not train.

The coordinator submits the run while the silos still deposit, before the file exists: with
``plan-wait-timeout`` > 0 the hooks wait that many seconds for it (``nodes_needed`` answers
None meanwhile, so the ServerApp identifies the silos while the coordinator runs the strategy
phase). The file is written once, atomically, with either the plan or ``{"abort": reason}``
(the round was abandoned, or its strategy phase failed): the session then ends with the reason.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fl_node.flower import Assignment, SessionHooks, SiloIdentity, Transport

__all__ = ["ABORT_KEY", "HOOKS_REF", "hooks", "write_abort", "write_assignments"]

#: the ``hooks`` run config value that selects this module
HOOKS_REF = "fl_node.coordinator.flower_hooks:hooks"
#: the key of an assignments file that withdraws the plan
ABORT_KEY = "abort"
#: how often the hooks look for a plan that is still to come
PLAN_POLL_S = 0.05


def _write_once(path: Path, doc: Mapping[str, Any]) -> None:
    # rename, so the ServerApp never reads a half-written plan
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, path)


def write_assignments(path: Path, plan: Mapping[str, Assignment]) -> None:
    """Write ``plan`` (silo name -> assignment) where :func:`hooks` reads it."""
    doc = {n: {"d": a.d, "f": a.f, "x": a.x, "extra": dict(a.extra)} for n, a in plan.items()}
    _write_once(path, doc)


def write_abort(path: Path, reason: str) -> None:
    """Withdraw the plan of a run submitted before it: its session ends with ``reason``."""
    _write_once(path, {ABORT_KEY: reason})


class _Plan:
    """The assignments file, read once it exists (within the run's ``plan-wait-timeout``)."""

    def __init__(self, path: Path, wait_s: float) -> None:
        self.path = path
        self.wait_s = wait_s
        self.deadline = time.monotonic() + wait_s
        self.by_name: dict[str, Any] | None = None

    def poll(self) -> dict[str, Any] | None:
        """The plan by silo name, or None while it may still come.

        Raises
        ------
        RuntimeError
            If the coordinator withdrew the plan (the reason), or it did not come in time.
        ValueError
            If the file is missing and the run was not told to wait for it.
        """
        if self.by_name is not None:
            return self.by_name
        if not self.path.is_file():
            if self.wait_s <= 0:
                raise ValueError(
                    f"run config assignments-file={str(self.path)!r} is not a file; the "
                    "coordinator writes it before submitting the run (or sets plan-wait-timeout)"
                )
            if time.monotonic() > self.deadline:
                raise RuntimeError(
                    f"no plan in {self.path} within plan-wait-timeout = {self.wait_s} s; the "
                    "coordinator that submitted this run did not finish its strategy phase"
                )
            return None
        doc = json.loads(self.path.read_text(encoding="utf-8"))
        if ABORT_KEY in doc:
            raise RuntimeError(f"the coordinator withdrew this run's plan: {doc[ABORT_KEY]}")
        self.by_name = doc
        return doc

    def wait(self) -> dict[str, Any]:
        while (plan := self.poll()) is None:
            time.sleep(PLAN_POLL_S)
        return plan


def hooks(run_config: Mapping[str, Any]) -> SessionHooks:
    """Build the hooks from ``run_config["assignments-file"]`` (``{name: {d, f, x, extra}}``;
    ``extra`` holds a mechanism's own train keys, e.g. cogen's ``synthetic``) and
    ``run_config["plan-wait-timeout"]`` (seconds to wait for the file; default 0: it must exist).
    """
    try:
        wait_s = float(run_config.get("plan-wait-timeout", 0.0))
    except (TypeError, ValueError):
        raise ValueError(
            f"run config plan-wait-timeout={run_config.get('plan-wait-timeout')!r} must be a "
            "number of seconds"
        ) from None
    plan = _Plan(Path(str(run_config.get("assignments-file", ""))), wait_s)
    plan.poll()  # a missing file without a wait fails here, before any node is waited for

    def nodes_needed() -> int | None:
        by_name = plan.poll()
        return None if by_name is None else len(by_name)

    def before_training(
        identities: Mapping[int, SiloIdentity], transport: Transport
    ) -> dict[int, Assignment]:
        by_name = plan.wait()
        assigned = {}
        for node_id, identity in identities.items():
            entry = by_name.get(identity.name)
            if entry is not None:
                assigned[node_id] = Assignment(
                    float(entry["d"]),
                    float(entry["f"]),
                    float(entry["x"]),
                    extra=dict(entry.get("extra", {})),
                )
        return assigned

    return SessionHooks(before_training=before_training, nodes_needed=nodes_needed)
