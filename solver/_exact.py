"""Certified global maximizer of the potential: Lagrangian bound plus branch-and-bound.

Each node restricts every organization to a contiguous range of compute levels. Its bound is
the Lagrangian relaxation over the aggregate (see ``_relax``); its feasible point is the
relaxation's point, re-optimized for its levels (a concave problem solved exactly). The root's
point is also polished by sequential best responses (each one raises the potential). A node
whose relaxation is attained is solved; otherwise the organization that must mix two levels
has its range split. Best-first search stops when the best bound is within ``rtol`` of the
best point, so the returned ``bound`` is a proven upper bound on the potential.
"""

from __future__ import annotations

import heapq
import itertools
import time

import numpy as np
from numpy.typing import NDArray

from solver._dbr import sequential_rounds
from solver._model import Game
from solver._relax import Relaxation, Relaxer
from solver._result import SolveResult, Status, Trace, evaluate

__all__ = ["maximize_potential"]

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]


def _close(upper: float, lower: float, rtol: float) -> bool:
    return upper - lower <= rtol * max(abs(upper), abs(lower))


def _symmetry_groups(rx: Relaxer) -> list[IntArray]:
    """Orgs whose vertex tables are bit-identical: interchangeable in the potential."""
    seen: dict[bytes, list[int]] = {}
    for k in range(rx.n):
        key = rx.X[k].tobytes() + rx.Y[k].tobytes() + rx.valid[k].tobytes()
        seen.setdefault(key, []).append(k)
    return [np.array(g, dtype=np.intp) for g in seen.values() if len(g) > 1]


def _propagate(groups: list[IntArray], lower: IntArray, upper: IntArray) -> bool:
    """Impose non-decreasing levels along each group of interchangeable orgs (any optimum can
    be permuted to satisfy it); returns False when a range becomes empty."""
    for g in groups:
        lower[g] = np.maximum.accumulate(lower[g])
        upper[g] = np.minimum.accumulate(upper[g][::-1])[::-1]
        if np.any(lower[g] > upper[g]):
            return False
    return True


class _Search:
    def __init__(self, game: Game, rtol: float) -> None:
        self.game = game
        self.rx = Relaxer(game)
        self.rtol = rtol
        self.best_val = -np.inf
        self.best_x: FloatArray = game.arrays.lo.copy()
        self.best_lev: IntArray = game.tables.last.copy()
        self.closed_bound = -np.inf  # largest bound among nodes that were closed or pruned
        self.lower: list[float] = []
        self.upper: list[float] = []

    def offer(self, x: FloatArray, lev: IntArray) -> None:
        val = self.rx.phi(x, lev)
        if val > self.best_val:
            self.best_val, self.best_x, self.best_lev = val, x.copy(), lev.copy()

    def evaluate_node(self, lower: IntArray, upper: IntArray) -> Relaxation:
        rel = self.rx.relax(lower, upper)
        if rel.filled:
            self.offer(rel.x, rel.lev)
        else:
            fixed = self.rx.relax(rel.lev, rel.lev)
            self.offer(fixed.x, fixed.lev)
        return rel


def maximize_potential(
    game: Game,
    *,
    rtol: float = 1e-9,
    max_nodes: int = 20_000,
    time_limit: float | None = None,
    polish: bool = True,
) -> SolveResult:
    """Global maximizer of the potential with a proven upper bound (a Nash equilibrium).

    Parameters
    ----------
    game
        The game.
    rtol
        Stop when (bound - best) <= rtol * max(|bound|, |best|).
    max_nodes
        Branch-and-bound node limit (status ``node_limit`` when hit, with the gap reported).
    time_limit
        Seconds; status ``time_limit`` when hit.
    polish
        Improve the root's point by sequential best responses before branching.

    Returns
    -------
    SolveResult
        ``bound`` is the proven upper bound on the potential and ``gap`` the relative gap;
        ``iterations`` counts branch-and-bound nodes; ``trace.lower``/``trace.upper`` hold the
        best value and best bound after each node.
    """
    started = time.perf_counter()
    s = _Search(game, rtol)
    t = game.tables
    groups = _symmetry_groups(s.rx)
    lower0, upper0 = t.first.copy(), t.last.copy()
    root = s.evaluate_node(lower0, upper0)
    if polish:
        x, lev = s.best_x.copy(), s.best_lev.copy()
        sequential_rounds(game, x, lev, max_rounds=50, tol=1e-13)
        s.offer(x, lev)
    counter = itertools.count()
    heap: list[tuple[float, int, IntArray, IntArray, Relaxation]] = []
    if root.filled or root.branch_org < 0:
        s.closed_bound = max(s.closed_bound, root.bound)
    else:
        heapq.heappush(heap, (-root.bound, next(counter), lower0, upper0, root))
    nodes, status = 1, Status.OPTIMAL
    s.lower.append(s.best_val)
    s.upper.append(max(s.best_val, s.closed_bound, root.bound))
    while heap:
        top = -heap[0][0]
        if _close(top, s.best_val, rtol):
            break
        if nodes >= max_nodes:
            status = Status.NODE_LIMIT
            break
        if time_limit is not None and time.perf_counter() - started > time_limit:
            status = Status.TIME_LIMIT
            break
        neg, _, lo_r, up_r, rel = heapq.heappop(heap)
        if _close(-neg, s.best_val, rtol):
            s.closed_bound = max(s.closed_bound, -neg)
            continue
        k, split = rel.branch_org, rel.split
        for a, b in ((lo_r[k], split), (split + 1, up_r[k])):
            if a > b:
                continue
            cl, cu = lo_r.copy(), up_r.copy()
            cl[k], cu[k] = a, b
            if not _propagate(groups, cl, cu):
                continue
            child = s.evaluate_node(cl, cu)
            nodes += 1
            if child.filled or child.branch_org < 0 or _close(child.bound, s.best_val, rtol):
                s.closed_bound = max(s.closed_bound, child.bound)
            else:
                heapq.heappush(heap, (-child.bound, next(counter), cl, cu, child))
        open_ub = -heap[0][0] if heap else -np.inf
        s.lower.append(s.best_val)
        s.upper.append(max(s.best_val, s.closed_bound, open_ub))
    open_ub = -heap[0][0] if heap else -np.inf
    bound = max(s.best_val, s.closed_bound, open_ub)
    ar = game.arrays
    d = s.best_x / ar.s
    f = ar.F[np.arange(game.n), s.best_lev]
    ok = status == Status.OPTIMAL
    msg = (
        f"potential certified within rtol={rtol:g} after {nodes} node(s)"
        if ok
        else f"stopped ({status}) after {nodes} node(s) with the gap reported"
    )
    # the exact solver's history is its bounds per node (no strategy snapshots)
    tr = Trace(
        potential=np.asarray(s.lower),
        payoffs=np.empty((0, game.n)),
        d=np.empty((0, game.n)),
        f=np.empty((0, game.n)),
        lower=np.asarray(s.lower),
        upper=np.asarray(s.upper),
    )
    return evaluate(
        game,
        d,
        f,
        algorithm="exact",
        status=status,
        success=ok,
        message=msg,
        iterations=nodes,
        started=started,
        bound=bound,
        trace=tr,
    )
