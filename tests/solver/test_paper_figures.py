"""Smoke tests of the paper-reproduction script (experiments/paper_figures.py) on reduced grids."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import solver

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "paper_figures.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("paper_figures", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["paper_figures"] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


pf = _load()

TINY = pf.Grids(
    gammas=np.array([0.0, 0.0135, 0.05]),
    heat_gammas=np.array([0.0, 0.02]),
    mu_fractions=np.array([0.2, 0.8]),
    w_es=np.array([0.005, 0.02]),
    refine=3,
    cgbd=False,
    a0s=(0.3,),
    untuned_seeds=(1000,),
    untuned_gammas=np.array([0.0, 0.01, 0.05]),
)


@pytest.fixture(scope="module")
def game() -> solver.Game:
    return pf.preset_game()


def test_rescaled_competition_keeps_pattern_and_mean(game: solver.Game) -> None:
    mu = 0.5 * pf.mu_limit(game)
    g2 = pf.with_mean_rho(game, mu)
    assert pf.mean_rho(g2) == pytest.approx(mu, rel=1e-12)
    ratio = g2.rho_dense()[0, 1:] / game.rho_dense()[0, 1:]
    assert np.allclose(ratio, ratio[0])
    assert np.all(g2.z > 0)
    # just past the limit some weight z_i turns non-positive, which the game rejects
    with pytest.raises(solver.GameError, match="z = p"):
        pf.with_mean_rho(game, 1.01 * pf.mu_limit(game))


def test_potential_traces_are_evaluated_in_the_true_game(game: solver.Game) -> None:
    results = pf.run_schemes(game, cgbd=False)
    assert set(results) == {s for s in pf.SCHEMES if not s.startswith("cgbd")}
    traces = pf.potential_traces(game, results)
    dbr = np.asarray(traces["dbr"]["potential"])
    assert np.all(np.diff(dbr) >= -1e-15), "sequential best responses never lower the potential"
    assert dbr[-1] <= traces["exact"]["final"] * (1 + 1e-9) + 1e-15
    # WPR solves the gamma = 0 game; its trace is re-evaluated with the game's own gamma
    wpr = results["wpr"]
    assert traces["wpr"]["final"] == pytest.approx(solver.potential(game, wpr.d, wpr.f), rel=1e-12)
    assert traces["wpr"]["final"] != pytest.approx(wpr.potential, rel=1e-6)


def test_payoff_dynamics_end_at_the_equilibrium(game: solver.Game) -> None:
    dyn = pf.payoff_dynamics(game)
    seq = np.asarray(dyn["sequential"]["payoffs"])
    assert seq.shape == (dyn["sequential"]["updates"] + 1, game.n)
    assert np.allclose(seq[-1], dyn["equilibrium"], rtol=1e-12)
    sim = np.asarray(dyn["simultaneous"]["payoffs"])
    assert np.allclose(sim[-1], seq[-1], rtol=1e-6)


def test_gamma_sweep_and_best_gamma(game: solver.Game) -> None:
    sweep = pf.gamma_sweep(game, TINY.gammas)
    sch = sweep["schemes"]
    assert set(sch) == set(pf.SWEPT)
    assert all(len(v) == len(TINY.gammas) for s in sch.values() for v in s.values())
    # at gamma = 0 DBR is WPR; WPR and TOS do not depend on gamma
    assert sch["dbr"]["social_welfare"][0] == pytest.approx(
        sch["wpr"]["social_welfare"][0], rel=1e-9
    )
    assert np.ptp(sch["wpr"]["social_welfare"]) == pytest.approx(0.0, abs=1e-9)
    assert sch["tos"]["sum_d"] == [10.0] * len(TINY.gammas)
    assert all(all(v) for v in (sweep["is_nash"]["dbr"], sweep["is_nash"]["exact"]))
    g_star, sw_star = pf.best_gamma(game, sweep["gammas"], sch["dbr"]["social_welfare"], points=5)
    assert TINY.gammas[0] <= g_star <= TINY.gammas[-1]
    assert sw_star >= max(sch["dbr"]["social_welfare"]) - 1e-9
    assert sw_star == pytest.approx(
        solver.dbr(game.replace(gamma=g_star), trace=False).social_welfare, rel=1e-12
    )


def test_welfare_grid_rows_match_single_solves(game: solver.Game) -> None:
    sw = pf.welfare_grid(TINY.heat_gammas, TINY.w_es, lambda w: game.replace(w_e=w))
    assert sw.shape == (len(TINY.w_es), len(TINY.heat_gammas))
    one = solver.dbr(game.replace(w_e=float(TINY.w_es[1]), gamma=float(TINY.heat_gammas[1])))
    assert sw[1, 1] == pytest.approx(one.social_welfare, rel=1e-12)
    # a larger energy weight cannot raise welfare at gamma = 0 (payoffs only lose)
    assert sw[1, 0] < sw[0, 0]


def test_write_json_turns_numpy_and_non_finite_into_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    pf.write_json(path, {"a": np.array([1.0, math.inf]), "b": np.bool_(True), "c": (np.int64(3),)})
    assert json.loads(path.read_text()) == {"a": [1.0, None], "b": True, "c": [3]}


def test_run_writes_every_figure_and_summary(tmp_path: Path) -> None:
    summary = pf.run(tmp_path, TINY, log=lambda _msg: None)
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == [
        "fig04_potential.png",
        "fig05_payoffs.png",
        "fig06_welfare_schemes.png",
        "fig07_welfare_gamma.png",
        "fig08_welfare_gamma_schemes.png",
        "fig09_damage_gamma.png",
        "fig10_welfare_gamma_mu.png",
        "fig11_welfare_gamma_we.png",
        "fig12_data_gamma.png",
    ]
    for p in tmp_path.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["gamma_star"] == summary["gamma_star"]
    assert on_disk["ir_gamma_intervals"][0][0] == 0.0
    # DBR beats WPR, GCA and FIP in welfare on the preset at its own gamma
    assert all(v > 0 for k, v in on_disk["dbr_sw_gain_pct_at_preset_gamma"].items())
    # the write-up renders from a fresh run's JSON, every placeholder filled
    doc = tmp_path / "page.md"
    assert pf.main(["--out", str(tmp_path), "--report-only", "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert "{" not in text.replace("{e, 2e, …}", "") and "γ* = 0.0135" in text
    untuned = json.loads((tmp_path / "untuned_games.json").read_text())
    assert untuned["all_drawn"]["games"][0]["params"] != untuned["orgs_drawn"]["games"][0]["params"]


def test_money_differences_do_not_depend_on_a0(game: solver.Game) -> None:
    sens = pf.a0_sensitivity(game, 0.0135, (0.5,))
    lo, hi = sens["rows"]
    for where in ("preset_gamma", "gamma_star"):
        for s in ("wpr", "fip", "gca"):
            assert lo[where]["dbr_gain_money"][s] == pytest.approx(
                hi[where]["dbr_gain_money"][s], abs=1e-9
            )
        assert hi[where]["dbr_gain_pct"]["wpr"] < lo[where]["dbr_gain_pct"]["wpr"]
    shift = (
        hi["preset_gamma"]["social_welfare"]["dbr"] - lo["preset_gamma"]["social_welfare"]["dbr"]
    )
    assert shift == pytest.approx((0.5 - game.A0) * game.arrays.p.sum(), rel=1e-9)
