"""Payoffs, the weighted potential identity (and the spec's missing term), budget balance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cogen_helpers import SEEDS, small_game
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import GameError
from solver.cogen import CogenGame, payoff_parts, potential, social_welfare

UNIT = st.floats(min_value=0.0, max_value=1.0)


def _spec_potential(game: CogenGame, x: np.ndarray) -> float:
    """Phi as written in mechanisms.md section 2 (without the redistribution term)."""
    own = game.theta * (1 + game.Gamma) * game.gap(x) + game.c * x
    return float(-game.loss(x.sum()) - np.sum(own / game.w))


@settings(max_examples=150, deadline=None)
@given(SEEDS, st.lists(UNIT, min_size=5, max_size=5), UNIT, st.integers(0, 4))
def test_potential_identity_on_random_deviations(seed, u, v, k) -> None:
    game = small_game(seed)
    x = np.array(u[: game.n]) * game.x_max
    i = k % game.n
    dev = x.copy()
    dev[i] = v * game.x_max[i]
    dC = payoff_parts(game, dev).payoff[i] - payoff_parts(game, x).payoff[i]
    dPhi = potential(game, dev) - potential(game, x)
    scale = game.w[i] * (abs(float(game.loss(0.0))) + game.alpha_D * 2) + game.c[i] * game.x_max[i]
    scale += game.kappa * game.q * game.Gamma[i] * game.x_max[i]
    assert dC == pytest.approx(game.w[i] * dPhi, abs=1e-9 * scale)


def test_spec_potential_misses_the_redistribution_term(demo: CogenGame) -> None:
    x = demo.x_max / 3
    dev = x.copy()
    dev[2] += 500.0
    dC = payoff_parts(demo, dev).payoff[2] - payoff_parts(demo, x).payoff[2]
    ours = demo.w[2] * (potential(demo, dev) - potential(demo, x))
    spec = demo.w[2] * (_spec_potential(demo, dev) - _spec_potential(demo, x))
    assert dC == pytest.approx(ours, rel=1e-10)
    # the difference is exactly the redistribution gain kappa q Gamma_i dx
    assert dC - spec == pytest.approx(demo.kappa * demo.q * demo.Gamma[2] * 500.0, rel=1e-6)
    # without redistribution the spec's potential is right
    plain = demo.replace(kappa=0.0)
    dC0 = payoff_parts(plain, dev).payoff[2] - payoff_parts(plain, x).payoff[2]
    spec0 = plain.w[2] * (_spec_potential(plain, dev) - _spec_potential(plain, x))
    assert dC0 == pytest.approx(spec0, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(SEEDS, st.lists(UNIT, min_size=5, max_size=5))
def test_budget_balance_and_zero_sum_competition(seed, u) -> None:
    game = small_game(seed)
    x = np.array(u[: game.n]) * game.x_max
    parts = payoff_parts(game, x)
    size = np.abs(parts.redistribution).sum() + 1e-300
    assert abs(math.fsum(parts.redistribution)) <= 1e-12 * max(size, 1.0)
    assert abs(math.fsum(parts.competition)) <= 1e-12 * max(np.abs(parts.gain).sum(), 1.0)
    sw = math.fsum(parts.gain - parts.cost)
    assert social_welfare(game, x) == pytest.approx(sw, rel=1e-12, abs=1e-9)


def test_payoff_terms_by_hand() -> None:
    from solver.cogen import CogenOrg

    a, b, alpha, kappa, q = 2.0, 0.5, 0.8, 1e-3, 0.5
    orgs = (
        CogenOrg("p", D=1000.0, delta=0.5, theta=100.0, c=0.1, x_max=10.0),
        CogenOrg("r", D=3000.0, delta=0.0, theta=200.0, c=0.2, x_max=10.0),
    )
    game = CogenGame(orgs, a, b, alpha, kappa, q, [[0.0, 0.1], [0.1, 0.0]])
    x = np.array([10.0, 4.0])
    L = lambda X: a * (4000 + X) ** -b + alpha * 500.0 / (4000 + X)  # noqa: E731
    g0 = 100.0 * (L(0) - L(14) + alpha * 0.5 * (1 - 1000 / 1010))
    g1 = 200.0 * (L(0) - L(14))
    s0, s1 = 1000 + q * 10, 3000 + q * 4
    parts = payoff_parts(game, x)
    assert parts.gain == pytest.approx([g0, g1], rel=1e-12)
    assert parts.competition == pytest.approx([0.1 * (g1 - g0), 0.1 * (g0 - g1)], rel=1e-12)
    assert parts.redistribution == pytest.approx([kappa * 0.1 * (s0 - s1), kappa * 0.1 * (s1 - s0)])
    assert parts.payoff[0] == pytest.approx(
        g0 - 0.1 * (g1 - g0) - 1.0 + kappa * 0.1 * (s0 - s1), rel=1e-12
    )


def test_weight_must_be_positive_naming_the_org() -> None:
    from solver.cogen import CogenOrg

    orgs = (
        CogenOrg("small", D=1000.0, delta=0.5, theta=10.0, c=0.1, x_max=10.0),
        CogenOrg("big", D=1000.0, delta=0.5, theta=1000.0, c=0.1, x_max=10.0),
    )
    with pytest.raises(GameError, match=r"org 'small'.*weight w") as err:
        CogenGame(orgs, 2.0, 0.5, 0.8, 0.0, 1.0, [[0.0, 0.5], [0.5, 0.0]])
    assert err.value.org == "small"


def test_asymmetric_gamma_is_rejected_for_budget_balance() -> None:
    from solver.cogen import CogenOrg

    orgs = tuple(
        CogenOrg(f"o{i}", D=1000.0, delta=0.5, theta=1000.0, c=0.1, x_max=10.0) for i in range(2)
    )
    with pytest.raises(GameError, match=r"symmetric.*budget balance"):
        CogenGame(orgs, 2.0, 0.5, 0.8, 0.0, 1.0, [[0.0, 0.1], [0.2, 0.0]])
