"""Misreporting in the pure model: a truthful "lie" changes nothing; the study runs and is sane."""

from __future__ import annotations

import numpy as np

import solver.market as sm


def test_truthful_report_gains_nothing() -> None:
    market, d = sm.random_market(7, seed=5)
    for liar in range(market.n):
        u_truth, u_lie = sm.misreport_gain(market, d, liar)
        assert u_lie == u_truth
        assert u_truth == sm.solve_round(market, d).utility[liar]


def test_size_liar_changes_the_graph_and_its_pay() -> None:
    market, d = sm.random_market(9, seed=2)
    liar = int(np.argmax(market.K > 0))
    u_truth, u_lie = sm.misreport_gain(market, d, liar, n_factor=2.0)
    assert u_lie != u_truth


def test_study_runs_and_summarizes() -> None:
    study = sm.misreport_study(20, n_factor=2.0, seed=4)
    out = study.to_dict()
    assert study.gains.shape == (20,) and np.all(np.isfinite(study.gains))
    assert out["min_gain"] <= out["median_gain"] <= out["max_gain"]
    assert 0.0 <= out["share_better"] <= 1.0
    assert out["share_better"] == float(np.mean(study.gains > 1e-9))
