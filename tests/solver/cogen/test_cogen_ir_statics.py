"""IR range of kappa, and the comparative statics as measured in this formulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from solver import GameError
from solver.cogen import (
    CogenGame,
    CogenOrg,
    comparative_statics,
    direction,
    fixed_point,
    ir_kappa_range,
    saturation_kappa,
)


def test_ir_range_matches_direct_solves(demo: CogenGame) -> None:
    kr = ir_kappa_range(demo)
    assert kr.contains(demo.kappa)
    assert kr.saturation == pytest.approx(saturation_kappa(demo))
    (lo, hi), *_ = kr.intervals
    assert lo == 0.0 and math.isfinite(hi) and hi > kr.saturation
    assert fixed_point(demo.replace(kappa=hi)).individually_rational.all()
    past = fixed_point(demo.replace(kappa=hi * 1.01))
    assert not past.individually_rational.all()
    # the affine extrapolation past saturation agrees with solving there
    mid = 0.5 * (kr.saturation + hi)
    assert fixed_point(demo.replace(kappa=mid)).individually_rational.all()


def test_ir_needs_redistribution_when_a_big_org_is_harmed_by_a_rival() -> None:
    # the big homogeneous org gains little from generation, its rival gains a lot privately,
    # so the competition loss makes the big org's payoff negative; the score transfers
    # (big D, so a high score) restore IR on a bounded kappa interval
    orgs = (
        CogenOrg("harmed", D=5000.0, delta=0.0, theta=1000.0, c=0.5, x_max=1000.0),
        CogenOrg("rival", D=300.0, delta=1.5, theta=1000.0, c=0.05, x_max=5000.0),
    )
    game = CogenGame(orgs, 2.0, 0.5, 0.8, 0.0, 1.0, [[0.0, 0.4], [0.4, 0.0]])
    res = fixed_point(game)
    assert not res.individually_rational[0] and res.individually_rational[1]
    kr = ir_kappa_range(game)
    assert not kr.contains(0.0)
    assert len(kr.intervals) == 1
    a, b = kr.intervals[0]
    assert 0 < a < b < math.inf
    for k in (a, 0.5 * (a + b), b):
        assert fixed_point(game.replace(kappa=k)).individually_rational.all()
    for k in (a * 0.99, b * 1.01):
        assert not fixed_point(game.replace(kappa=k)).individually_rational.all()


def test_direction_names() -> None:
    assert direction([1, 2, 3]) == "increasing"
    assert direction([3, 2, 2]) == "decreasing"
    assert direction([1, 1, 1]) == "flat"
    assert direction([1, 3, 2]) == "non-monotonic"


def test_generation_rises_with_heterogeneity_in_this_formulation(demo: CogenGame) -> None:
    # x_i*(X) grows with delta (A_i and m(X) both grow), so the fixed point moves up
    st = comparative_statics(demo, "heterogeneity", [0.25, 0.5, 1.0, 1.4])
    assert st.generation_direction == direction(st.total) == "increasing"
    assert np.all(np.diff(st.total) > 0)


def test_generation_rises_with_competition_when_theta_is_equal() -> None:
    # equal theta: w_i = theta is unchanged by gamma, A_i grows and e_i falls
    orgs = tuple(
        CogenOrg(f"o{i}", D=1000.0 + 300 * i, delta=0.3 + 0.2 * i, theta=3000.0, c=0.4, x_max=4000)
        for i in range(4)
    )
    g = np.full((4, 4), 0.05) - np.diag(np.full(4, 0.05))
    game = CogenGame(orgs, 2.0, 0.5, 0.8, 1e-3, 1.0, g)
    st = comparative_statics(game, "competition", [0.0, 1.0, 2.0, 4.0])
    assert st.generation_direction == "increasing"
    assert np.all((st.x > 0) & (st.x < 4000))


def test_welfare_is_measured_non_monotonic_in_kappa_on_the_demo(demo: CogenGame) -> None:
    st = comparative_statics(demo, "redistribution", np.linspace(0.0, 6.0, 13))
    assert st.generation_direction == "increasing"
    assert st.welfare_direction == "non-monotonic"
    k = int(np.argmax(st.welfare))
    assert 0 < k < len(st.values) - 1


def test_statics_reject_bad_input(demo: CogenGame) -> None:
    with pytest.raises(GameError, match="increasing"):
        comparative_statics(demo, "competition", [1.0, 0.5])
    with pytest.raises(GameError, match="parameter"):
        comparative_statics(demo, "weather", [0.0, 1.0])  # type: ignore[arg-type]
    with pytest.raises(GameError, match="delta"):
        comparative_statics(demo, "heterogeneity", [1.0, 3.0])
