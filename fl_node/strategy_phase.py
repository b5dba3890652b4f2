"""The strategy phase: distributed best response (the paper's Algorithm 2) across silo agents.

The coordinator only ever sees strategies and broadcasts one aggregate per query; each silo's
agent answers with its own best response (:meth:`fl_node.agent.SiloAgent.respond`). The channel
is whatever implements :class:`Responder`: an in-process agent (embedded runtime) or the node
daemon's HTTP endpoint (deployment), where a query costs milliseconds instead of a Flower
message phase (~10 s on the deployment engine), so a phase of dozens of queries stays fast.

Round-robin (Gauss-Seidel) updates are used: in a weighted potential game every improving
update raises the potential, so the loop terminates; it stops when a full sweep changes nobody
(data change below ``tol`` of the silo's data and the same compute level).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from fl_node.agent import Strategy

__all__ = ["Responder", "StrategyPhaseResult", "TraceStep", "run_strategy_phase"]


class Responder(Protocol):
    """A silo reachable for best-response queries."""

    @property
    def name(self) -> str: ...

    def respond(self, others_total: float) -> Strategy: ...


@dataclass(frozen=True)
class TraceStep:
    """One query of the phase: who answered, the aggregate it saw, what it chose."""

    sweep: int
    name: str
    others_total: float
    strategy: Strategy
    changed: bool
    seconds: float


@dataclass
class StrategyPhaseResult:
    strategies: list[Strategy]
    converged: bool
    sweeps: int
    queries: int
    seconds: float
    trace: list[TraceStep] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def omega(self) -> float:
        """Aggregate data of the silos still in the phase."""
        return float(sum(s.x for s in self.strategies if s.name not in self.dropped))

    def to_dict(self) -> dict[str, object]:
        return {
            "converged": self.converged,
            "sweeps": self.sweeps,
            "queries": self.queries,
            "seconds": self.seconds,
            "omega": self.omega,
            "dropped": list(self.dropped),
            "strategies": [s.__dict__ for s in self.strategies],
            "trace": [
                {
                    "sweep": t.sweep,
                    "name": t.name,
                    "others_total": t.others_total,
                    "d": t.strategy.d,
                    "f": t.strategy.f,
                    "x": t.strategy.x,
                    "changed": t.changed,
                    "seconds": t.seconds,
                }
                for t in self.trace
            ],
        }


def run_strategy_phase(
    responders: Sequence[Responder],
    initial: Sequence[Strategy],
    *,
    tol: float = 1e-6,
    max_sweeps: int = 100,
) -> StrategyPhaseResult:
    """Round-robin best responses until a full sweep changes no strategy.

    Parameters
    ----------
    responders
        One per silo, in the consortium's order.
    initial
        The starting profile (e.g. everyone at D_min and its fastest level), same order.
    tol
        A data change smaller than ``tol * max(1, |x|)`` counts as no change.
    max_sweeps
        Give up after this many sweeps (``converged`` is then False).

    Returns
    -------
    StrategyPhaseResult
        The final profile with the full query trace. A silo whose query raises ``OSError`` or
        ``TimeoutError`` is dropped: listed in ``dropped``, its data removed from the aggregate
        the others respond to (its last strategy stays in ``strategies`` for the record).
    """
    if len(responders) != len(initial):
        raise ValueError(
            f"{len(responders)} responders but {len(initial)} initial strategies; give one each"
        )
    current = list(initial)
    total = sum(s.x for s in current)
    trace: list[TraceStep] = []
    dropped: list[str] = []
    start = time.perf_counter()
    queries = 0
    converged = False
    sweep = 0
    for sweep in range(1, max_sweeps + 1):
        any_change = False
        for i, agent in enumerate(responders):
            if agent.name in dropped:
                continue
            others = max(total - current[i].x, 0.0)
            t0 = time.perf_counter()
            try:
                new = agent.respond(others)
            except (OSError, TimeoutError):
                # A silo that stops answering will not train: its data leaves the aggregate.
                dropped.append(agent.name)
                total -= current[i].x
                continue
            queries += 1
            old = current[i]
            changed = abs(new.x - old.x) > tol * max(1.0, abs(old.x)) or new.f != old.f
            trace.append(
                TraceStep(sweep, agent.name, others, new, changed, time.perf_counter() - t0)
            )
            if changed:
                any_change = True
                total += new.x - old.x
                current[i] = new
        if not any_change:
            converged = True
            break
    return StrategyPhaseResult(
        strategies=current,
        converged=converged,
        sweeps=sweep,
        queries=queries,
        seconds=time.perf_counter() - start,
        trace=trace,
        dropped=dropped,
    )
