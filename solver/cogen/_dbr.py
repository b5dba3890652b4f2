"""Distributed best response: silos exchange only the aggregate.

Each :class:`CogenSilo` holds its own :class:`~solver.cogen.CogenView` (private data, cost and
incentive coefficients, plus the public loss parameters) and its current x_i. The coordinator
broadcasts the aggregate X; a silo's response is a function of that number only (it subtracts
its own x_i to get X_-i). Silos respond in turn (Gauss-Seidel); the coordinator updates X with
each reported move. Every move is an exact best response, so it raises the (strictly concave in
each coordinate) potential, and the rounds end at the Nash equilibrium.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numpy.typing import ArrayLike

from solver._errors import GameError
from solver._result import Status
from solver.cogen._model import CogenGame, CogenView
from solver.cogen._payoff import potential
from solver.cogen._response import view_response
from solver.cogen._result import CogenResult, CogenTrace, evaluate

__all__ = ["CogenSilo", "dbr"]


class CogenSilo:
    """One organization in distributed best response: its view and its current generation."""

    def __init__(self, view: CogenView, x: float = 0.0) -> None:
        self.view = view
        self.x = float(x)

    def respond(self, aggregate: float) -> float:
        """Best response to the broadcast aggregate X (which includes this silo's own x)."""
        return view_response(self.view, max(0.0, aggregate - self.x))


def dbr(
    game: CogenGame,
    *,
    max_rounds: int = 1000,
    tol: float = 1e-12,
    init: ArrayLike | None = None,
    trace: bool = True,
) -> CogenResult:
    """Distributed (sequential) best response until no silo moves.

    Parameters
    ----------
    game
        The game; each silo receives only its own :meth:`CogenGame.view`.
    max_rounds
        Round limit (status ``iteration_limit`` when hit).
    tol
        A silo moves only if its best response differs from its current x_i by more than
        ``tol * max(1, x_i^max)``.
    init
        Starting generation per org (default 0: nobody generates).
    trace
        Record the aggregate and the potential after every round (the potential is evaluated
        by the caller for the report; silos never see it).

    Returns
    -------
    CogenResult
        ``iterations`` counts rounds.
    """
    if max_rounds < 1:
        raise GameError(f"must be >= 1, got {max_rounds}", field="max_rounds")
    started = time.perf_counter()
    x0 = np.zeros(game.n) if init is None else np.clip(game.profile(init, "init"), 0, game.x_max)
    silos = [CogenSilo(game.view(i), float(x0[i])) for i in range(game.n)]
    X = math.fsum(s.x for s in silos)
    aggs = [X]
    pots = [potential(game, x0)] if trace else []
    converged, rounds = False, 0
    while rounds < max_rounds:
        rounds += 1
        moved = 0
        for s in silos:
            new = s.respond(X)
            if abs(new - s.x) > tol * max(1.0, s.view.x_max):
                X += new - s.x
                s.x = new
                moved += 1
        X = math.fsum(s.x for s in silos)
        if trace:
            aggs.append(X)
            pots.append(potential(game, [s.x for s in silos]))
        if moved == 0:
            converged = True
            break
    tr = CogenTrace(np.array(aggs), np.empty(0), np.array(pots)) if trace else None
    msg = (
        f"no silo changes its generation after {rounds} round(s)"
        if converged
        else f"round limit {max_rounds} reached"
    )
    return evaluate(
        game,
        [s.x for s in silos],
        algorithm="dbr",
        status=Status.CONVERGED if converged else Status.ITERATION_LIMIT,
        success=converged,
        message=msg,
        iterations=rounds,
        started=started,
        trace=tr,
    )
