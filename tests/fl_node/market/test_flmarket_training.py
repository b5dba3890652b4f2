"""Real (tiny) personalized training through the market: accounting, free-riders, attackers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fl_node.market import (
    BASELINES,
    MarketParams,
    MarketRun,
    Setup,
    SiloSet,
    bipartition,
    fedamp_weights,
    market_round,
    prox_center,
    run_baseline,
    run_market,
    stalled,
    upload,
)
from solver.market import import_weights


def test_payments_balance_every_round_and_accumulate_in_the_ledger(
    free_rider_run: MarketRun,
) -> None:
    run = free_rider_run
    assert run.ledger.rounds == len(run.rounds) == 3  # round 0 is local training
    for r in run.rounds:
        scale = 1 + np.abs(r.payments).sum()
        assert abs(r.budget_balance) <= 1e-12 * scale
        assert all(r.ir_importer) and all(r.ir_exporter)
    total = sum(r.net_payment for r in run.rounds)
    np.testing.assert_allclose(run.ledger.net_payment, total, rtol=0, atol=1e-12)
    assert abs(math.fsum(run.ledger.net_payment)) <= 1e-12 * (1 + np.abs(total).sum())
    assert run.ledger.edges.sum() > 0


def test_free_rider_gets_the_maximal_distance_and_is_never_imported_or_paid(
    free_rider_run: MarketRun,
) -> None:
    for r in free_rider_run.rounds:
        np.testing.assert_array_equal(np.delete(r.distance[0], 0), 2.0)
        np.testing.assert_array_equal(np.delete(r.distance[:, 0], 0), 2.0)
        assert all(0 not in row for row in r.graph)
        np.testing.assert_array_equal(r.payments[:, 0], 0.0)
        assert np.all(np.delete(r.distance[1], [0, 1]) < 2.0)  # honest silos are not stalled


def test_free_rider_rule_stops_a_large_claimed_n_from_being_bought(
    tiny_silos: SiloSet, tiny_setup: Setup
) -> None:
    """Silo 0 sends back what it receives and claims twice its N: without the rule it has the
    neutral distance 1 and is imported and paid; with it, never, and honest silos still trade."""
    beh = ("free_rider",) + ("honest",) * 8
    setup = Setup(tiny_setup.silos, tiny_setup.model, tiny_setup.theta0, 4, tiny_setup.hp, 0, beh)
    names = [s.name for s in tiny_silos.silos]
    runs = {}
    for tol in (None, 1e-6):
        params = MarketParams(stall_tol=tol)
        true = params.draw(names, tiny_silos.sizes, seed=0)
        claimed = true.N.copy()
        claimed[0] *= 2
        runs[tol] = run_market(setup, true, params, accepted=true.replace(N=claimed))
    before, after = runs[None], runs[1e-6]
    assert all(np.all(np.delete(r.distance[0], 0) == 1.0) for r in before.rounds)
    assert before.ledger.edges[:, 0].sum() > 0 and before.ledger.payments[:, 0].sum() > 0
    assert after.ledger.edges[:, 0].sum() == 0 and after.ledger.payments[:, 0].sum() == 0
    honest_edges = after.ledger.edges[1:, 1:]
    assert honest_edges.sum() > 0 and after.ledger.payments[1:, 1:].sum() > 0
    assert all(r.ir.all() for r in after.rounds)


def test_stalled_uses_the_rms_change_from_what_was_sent() -> None:
    sent = [np.zeros(4), np.ones(4), np.ones(4)]
    ups = [np.zeros(4), np.ones(4) + 1e-7, np.ones(4) + np.array([0, 0, 0, 1e-3])]
    np.testing.assert_array_equal(stalled(ups, sent), [True, True, False])
    np.testing.assert_array_equal(stalled(ups, sent, tol=0.0), [True, False, False])
    with pytest.raises(ValueError, match="one each"):
        stalled(ups, sent[:2])
    with pytest.raises(ValueError, match="stall_tol must be >= 0"):
        MarketParams(stall_tol=-1.0)


def test_sign_flipper_is_far_from_its_cluster_and_not_imported(
    free_rider_run: MarketRun, tiny_silos: SiloSet
) -> None:
    mates = [i for i, s in enumerate(tiny_silos.silos) if s.group == tiny_silos.silos[3].group]
    for r in free_rider_run.rounds:
        assert all(r.distance[3, j] > 1.0 for j in mates if j != 3)
        assert all(3 not in row for row in r.graph)
    assert free_rider_run.ledger.payments[:, 3].sum() == 0.0


def test_honest_silos_learn(free_rider_run: MarketRun) -> None:
    hist = free_rider_run.accuracy.history
    honest = [i for i in range(9) if i not in (0, 3)]
    assert np.mean([hist[-1][i] for i in honest]) > np.mean([hist[0][i] for i in honest])


def test_market_round_sends_prox_centers_to_importers_only(tiny_setup: Setup) -> None:
    rng = np.random.default_rng(0)
    t0 = tiny_setup.theta0
    # three directions: silos in the same label group move alike
    base = [rng.normal(size=t0.shape) for _ in range(3)]
    thetas = [t0 + base[s.group] + 0.1 * rng.normal(size=t0.shape) for s in tiny_setup.silos]
    params = MarketParams()
    market = params.draw([s.name for s in tiny_setup.silos], tiny_setup.sizes, seed=1)
    step = market_round(market, thetas, t0, params.eta)
    assert any(step.result.graph)
    w = import_weights(market, step.result.graph)
    for i, row in enumerate(step.result.graph):
        if row:
            c = step.centers[i]
            assert c is not None
            np.testing.assert_array_equal(c, prox_center(i, thetas, t0, w[i], params.eta))
            np.testing.assert_allclose(w[i, list(row)], market.N[list(row)] / market.N[i])
            groups = {tiny_setup.silos[j].group for j in row}
            assert groups == {tiny_setup.silos[i].group}  # imports its own cluster only
        else:
            assert step.centers[i] is None


def test_baselines_run_on_the_same_setup(tiny_setup: Setup) -> None:
    short = Setup(tiny_setup.silos, tiny_setup.model, tiny_setup.theta0, 2, tiny_setup.hp)
    for name in BASELINES:
        res = run_baseline(name, short)
        assert len(res.history) == 2 and len(res.final) == 9
        assert all(0.0 <= a <= 1.0 for a in res.final)
    fedavg = run_baseline("fedavg", short)
    assert len({tuple(t[:5]) for t in fedavg.thetas}) == 1  # one global model
    with pytest.raises(ValueError, match="unknown baseline"):
        run_baseline("fedsgd", short)


def test_cfl_splits_along_the_label_groups_and_fedfomo_personalizes(tiny_setup: Setup) -> None:
    res = run_baseline("cfl", tiny_setup)
    assert res.clusters is not None and len(res.clusters) > 1
    assert sorted(i for c in res.clusters for i in c) == list(range(9))
    groups = [s.group for s in tiny_setup.silos]
    assert all(len({groups[i] for i in c}) == 1 for c in res.clusters)
    for c in res.clusters:  # one model per cluster
        assert len({tuple(res.thetas[i][:5]) for i in c}) == 1
    fomo = run_baseline("fedfomo", tiny_setup)
    assert len({tuple(t[:5]) for t in fomo.thetas}) == 9
    local = run_baseline("local", tiny_setup)
    assert np.mean(fomo.final) >= np.mean(local.final) - 0.05


def test_fedamp_weights_attend_to_close_models() -> None:
    rng = np.random.default_rng(1)
    centers = [rng.normal(size=20) for _ in range(2)]
    thetas = [centers[k] + 0.01 * rng.normal(size=20) for k in (0, 0, 1, 1)]
    xi = fedamp_weights(thetas, 0.5, sigma_scale=0.2)
    np.testing.assert_allclose(xi.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.diag(xi), 0.5)
    assert xi[0, 1] > 10 * xi[0, 2] and xi[3, 2] > 10 * xi[3, 0]
    wide = fedamp_weights(thetas, 0.5, sigma_scale=1.0)
    assert xi[0, 2] < wide[0, 2] < wide[0, 1] < xi[0, 1]  # a wider kernel attends less
    with pytest.raises(ValueError, match="self_weight_fedamp"):
        fedamp_weights(thetas, 1.5)
    with pytest.raises(ValueError, match="sigma_scale_fedamp"):
        fedamp_weights(thetas, 0.5, sigma_scale=0.0)


def test_bipartition_is_complete_linkage_on_cosines() -> None:
    cos = np.array(
        [
            [1.0, 0.9, 0.1, 0.0],
            [0.9, 1.0, 0.2, -0.1],
            [0.1, 0.2, 1.0, 0.8],
            [0.0, -0.1, 0.8, 1.0],
        ]
    )
    left, right, cross = bipartition(cos)
    assert {tuple(left), tuple(right)} == {(0, 1), (2, 3)} and cross == 0.2
    with pytest.raises(ValueError, match="at least 2"):
        bipartition(np.ones((1, 1)))


def test_upload_behaviours(tiny_setup: Setup) -> None:
    trained, received = np.array([3.0, 1.0]), np.array([1.0, 1.0])
    np.testing.assert_array_equal(upload("honest", trained, received), trained)
    np.testing.assert_array_equal(upload("free_rider", trained, received), received)
    np.testing.assert_array_equal(upload("sign_flip", trained, received), [-1.0, 1.0])
    with pytest.raises(ValueError, match="unknown behaviour"):
        Setup(tiny_setup.silos, tiny_setup.model, tiny_setup.theta0, 1, behaviours=("lazy",) * 9)
