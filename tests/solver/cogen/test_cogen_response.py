"""Best responses: the closed-form KKT response at a given aggregate and the exact one."""

from __future__ import annotations

import numpy as np
from cogen_helpers import SEEDS, small_game
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.cogen import best_response, own_value, respond_to_aggregate, view_response


@settings(max_examples=80, deadline=None)
@given(SEEDS, st.floats(min_value=0.0, max_value=1.0))
def test_closed_form_satisfies_kkt_at_the_aggregate(seed, u) -> None:
    game = small_game(seed)
    X = u * game.x_max.sum()
    x = respond_to_aggregate(game, X)
    inc = game.incentives
    r = inc.w * game.marginal(X) + inc.A / (game.D + x) ** 2 - inc.e
    scale = inc.w * game.marginal(X) + inc.A / game.D**2 + np.abs(inc.e)
    inner = (x > 0) & (x < game.x_max)
    assert np.all(np.abs(r[inner]) <= 1e-9 * scale[inner])
    assert np.all(r[(x == 0) & (game.x_max > 0)] <= 1e-12 * scale[(x == 0) & (game.x_max > 0)])
    top = (x == game.x_max) & (game.x_max > 0)
    assert np.all(r[top] >= -1e-12 * scale[top])


def test_closed_form_is_non_increasing_in_the_aggregate(demo) -> None:
    Xs = np.linspace(0, demo.x_max.sum(), 50)
    xs = np.array([respond_to_aggregate(demo, X) for X in Xs])
    assert np.all(np.diff(xs, axis=0) <= 1e-9)
    assert xs[0].sum() > xs[-1].sum()


@settings(max_examples=60, deadline=None)
@given(SEEDS, st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=5, max_size=5))
def test_exact_best_response_beats_a_grid(seed, u) -> None:
    game = small_game(seed)
    others = np.array(u[: game.n]) * game.x_max.sum()
    br = best_response(game, others)
    assert np.all((br >= 0) & (br <= game.x_max))
    best = own_value(game, others, br)
    for t in np.linspace(0, 1, 101):
        alt = own_value(game, others, t * game.x_max)
        assert np.all(alt <= best + 1e-10 * (np.abs(best) + 1))


def test_view_response_needs_only_the_aggregate(demo) -> None:
    others = np.array([1000.0, 2500.0, 4000.0, 800.0, 6000.0])
    br = best_response(demo, others)
    for i in range(demo.n):
        assert abs(view_response(demo.view(i), float(others[i])) - br[i]) <= 1e-9 * (1 + br[i])
