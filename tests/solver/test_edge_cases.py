"""Solver edge cases of issue 13: round limits with a fallback, config files that are not TOML
text, error messages, the FIP grid, degenerate accuracy fits, JSON errors, the Nash tolerance."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

import solver
from fl_node.cli import ExitCode, main
from solver._baselines import fip_grid

DATA = Path(__file__).parent / "data"
SLOW = DATA / "near_identical.toml"


@pytest.fixture(scope="module")
def slow() -> solver.Game:
    return solver.load_game(SLOW)


# -- round limit and fallback -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["dbr", "wpr"])
def test_best_response_crawl_ends_at_an_equilibrium(slow: solver.Game, algorithm: str) -> None:
    stuck = solver.solve(slow, algorithm, fallback=False)
    assert stuck.status == solver.Status.ITERATION_LIMIT and not stuck.success
    res = solver.solve(slow, algorithm)
    assert res.success and res.status == solver.Status.CONVERGED
    assert res.fallback == "exact" and "potential maximizer" in res.message
    assert res.is_nash and res.iterations == 1000
    exact = solver.maximize_potential(slow)
    assert res.potential == pytest.approx(exact.potential, rel=1e-12)


def test_simultaneous_dbr_at_a_tiny_round_limit_falls_back(slow: solver.Game) -> None:
    res = solver.dbr(slow, mode="simultaneous", max_rounds=1)
    assert res.success and res.is_nash and res.fallback == "exact"


def test_cli_round_limit_option(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["solve", "--config", str(SLOW), "--algorithm", "wpr", "--format", "json"]
    assert main([*args, "--max-rounds", "5"]) == ExitCode.OK
    out = json.loads(capsys.readouterr().out)
    assert out["fallback"] == "exact" and out["is_nash"] and out["iterations"] == 5
    assert main([*args, "--max-rounds", "5", "--no-fallback"]) == ExitCode.SOLVER
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "iteration_limit" and out["fallback"] is None
    assert main(["solve", "--config", str(SLOW), "--max-rounds", "5"]) == ExitCode.USAGE
    assert "--max-rounds applies to" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["solve", "--config", str(SLOW), "--max-rounds", "0"])


# -- config files that are not TOML text ----------------------------------------------------------


def test_non_utf8_and_directory_configs_are_config_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin = tmp_path / "latin1.toml"
    latin.write_bytes('[game]\nname = "Zürich"\n'.encode("latin-1"))
    for path, needle in ((latin, "not UTF-8"), (tmp_path, "is a directory")):
        assert main(["solve", "--config", str(path)]) == ExitCode.CONFIG
        err = capsys.readouterr().err
        assert needle in err and str(path) in err and "Traceback" not in err


def test_json_errors_are_a_json_object_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["solve", "--config", str(tmp_path), "--format", "json"]) == ExitCode.CONFIG
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["success"] is False
    assert out["error"]["code"] == 3 and out["error"]["kind"] == "config"
    assert str(tmp_path) in out["error"]["message"] and "is a directory" in captured.err


# -- error messages -----------------------------------------------------------------------------


def _cfg(preset: solver.Game) -> dict:
    return tomllib.loads(solver.game_to_toml(preset))


def test_messages_show_plain_numbers_and_name_the_entry(preset: solver.Game) -> None:
    cfg = _cfg(preset)
    cfg["game"]["rho"][2][2] = 0.02
    with pytest.raises(solver.GameError) as info:
        solver.parse_game(cfg)
    msg = str(info.value)
    assert "np.float64" not in msg and "rho['org03']['org03'] = 0.02" in msg
    cfg = _cfg(preset)
    cfg["game"]["rho"][3][5] = cfg["game"]["rho"][5][3] = 1.5
    with pytest.raises(solver.GameError) as info:
        solver.parse_game(cfg)
    assert "rho['org04']['org06'] = 1.5" in str(info.value) and "[3][5]" in str(info.value)
    cfg = _cfg(preset)
    cfg["accuracy"] = {"form": "power", "a": 0.9, "b": -1.0, "c": 0.5}
    with pytest.raises(solver.ConfigError) as info:
        solver.parse_game(cfg)
    assert str(info.value).count("accuracy.b") == 1 and info.value.field == "accuracy.b"


# -- FIP grid -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d_min", "step", "grid"),
    [
        (0.6, 0.6, [0.6, 1.0]),
        (0.3, 0.3, [0.3, 0.6, 0.9, 1.0]),
        (0.1, 0.1, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        (0.25, 0.1, [0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        (1.0, 1.0, [1.0]),
    ],
)
def test_fip_grid_is_clipped_and_always_holds_one(d_min: float, step: float, grid: list) -> None:
    np.testing.assert_allclose(fip_grid(d_min, step), grid, rtol=1e-12)
    assert fip_grid(d_min, step)[-1] == 1.0


def test_fip_can_choose_full_data_when_the_step_does_not_divide_one(preset: solver.Game) -> None:
    game = preset.replace(D_min=0.6, gamma=0.0135, tau=200.0)
    res = solver.fip(game)
    assert set(np.round(res.d, 12)) <= {0.6, 1.0} and res.feasible
    assert (res.d == 1.0).any()


# -- accuracy fits ------------------------------------------------------------------------------


def test_flat_fit_is_reported_and_refused_unless_accepted(preset: solver.Game) -> None:
    w = np.geomspace(500, 5e4, 10)
    fit = solver.fit_accuracy(w, 0.9 - 0.001 * np.log(w))  # accuracy falls with data
    assert fit.status == "flat" and not fit.ok and "falls" in fit.message
    with pytest.raises(solver.GameError, match=r"fit\.accept\(\)") as info:
        preset.replace(accuracy=fit.function)
    assert info.value.field == "accuracy"
    assert preset.replace(accuracy=fit.accept()).P == fit.function
    good = solver.fit_accuracy(w, 0.9 - 3.0 * w**-0.6)
    assert good.ok and good.status == "ok"
    assert preset.replace(accuracy=good.function).P is good.function


def test_curvature_at_its_search_bound_is_reported() -> None:
    rng = np.random.default_rng(0)
    w = np.linspace(1000, 1300, 8)
    statuses: list[str] = []
    while len(statuses) < 20 and not {"at_bound", "ok"} <= set(statuses):
        fit = solver.fit_accuracy(w, 0.85 - 1.5 * w**-0.4 + rng.normal(0, 2e-3, w.size))
        statuses.append(fit.status)
        if fit.status == "at_bound":
            assert "upper search bound" in fit.message
            assert fit.params["c"] == pytest.approx(5.0, rel=1e-6)
        elif fit.params["c"] <= 1e-4 * (1 + 1e-3):  # the logarithmic limit is a usable P
            assert "close to logarithmic" in fit.message
    assert "at_bound" in statuses and "ok" in statuses


def test_fit_failure_carries_a_status() -> None:
    with pytest.raises(solver.FitError) as info:
        solver.fit_accuracy([1.0, 2.0], [0.1, 0.2])
    assert info.value.status == "failed"


# -- Nash tolerance -----------------------------------------------------------------------------


def test_result_reports_the_nash_tolerance_it_used(preset: solver.Game) -> None:
    res = solver.solve(preset.replace(gamma=0.0135), "dbr")
    out = res.to_dict()
    tol = out["nash_tolerance"]
    assert tol["rtol"] == 1e-9 and "z_i" in tol["scale"]
    scale = (
        np.abs(out["revenue"])
        + preset.w_e * np.abs(out["energy"])
        + np.abs(out["redistribution"])
        + preset.z
    )
    np.testing.assert_allclose(tol["per_org"], 1e-9 * scale, rtol=1e-12)
    # an external checker applying the reported rule reaches the solver's verdict
    assert out["is_nash"] == bool(np.all(np.array(out["nash_gap"]) <= tol["per_org"]))
    # a perturbed profile fails the same rule
    bad = solver.evaluate(preset, np.clip(res.d * 0.9, preset.D_min, 1), res.f)
    assert not bad.is_nash and np.any(bad.nash_gap > bad.nash_tolerance)


def test_experiment_feedback_skips_a_degenerate_fit() -> None:
    from fl_node.experiments._feedback import FitPoint, try_fit

    falling = [FitPoint(0, "probe", n, 0.9 - 0.01 * k, 0.9) for k, n in enumerate((300, 600, 1200))]
    reason = try_fit(falling, form="power")
    assert isinstance(reason, str) and "degenerate fit" in reason
    rising = [FitPoint(0, "probe", n, 0.9 - 2.0 * n**-0.5, 0.9) for n in (300, 600, 1200, 2400)]
    assert not isinstance(try_fit(rising, form="power"), str)
