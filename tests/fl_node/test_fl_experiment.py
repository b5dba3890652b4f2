"""The schemes experiment on a reduced setting: 3 silos, 2 FL rounds, real torch training."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from fl_node.data import DataSplit
from fl_node.experiments import (
    FitPoint,
    SchemesOptions,
    SeedSetting,
    build_setting,
    fit_points,
    run_schemes,
    scheme_strategies,
    train_profile,
)
from fl_node.training import contributed_samples

ROUNDS = 2


@pytest.fixture(scope="module")
def setting(digits_split: DataSplit) -> SeedSetting:
    opts = SchemesOptions(orgs=3, rounds=ROUNDS, seeds=1)
    return build_setting(opts, digits_split, seed=1)


def test_training_uses_exactly_the_solver_contributions(setting: SeedSetting) -> None:
    game = setting.game.replace(gamma=0.05)
    strategies = scheme_strategies(game, fip=False, cgbd_max_profiles=1_000)
    assert strategies["dbr"].result.is_nash
    assert strategies["central"].algorithm == "cgbd"  # 3 silos x 5 levels fit the master
    assert np.all(strategies["tos"].d == 1.0)
    sizes = setting.sizes
    for key in ("dbr", "wpr"):
        strat = strategies[key]
        run = train_profile(
            setting.silos,
            setting.test,
            setting.meta,
            strat.d,
            strat.x,
            rounds=ROUNDS,
            epochs=1,
            lr=0.05,
            seed=1,
        )
        expected = [contributed_samples(d, s) for d, s in zip(strat.d, sizes, strict=True)]
        assert run.samples_used == expected, key
        # rounding to whole samples moves each silo by at most half a sample
        assert abs(run.total_samples - float(np.sum(strat.x))) <= 0.5 * len(sizes) + 1e-9
        assert run.weights == pytest.approx(list(strat.x))
        assert len(run.accuracy) == ROUNDS and len(run.loss) == ROUNDS
        assert all(0.0 <= a <= 1.0 for a in run.accuracy)


def test_fit_of_p_from_measured_runs(setting: SeedSetting) -> None:
    n = len(setting.silos)
    s = np.array(setting.sizes, dtype=float)
    points = []
    for d in (0.15, 0.4, 1.0):
        run = train_profile(
            setting.silos,
            setting.test,
            setting.meta,
            [d] * n,
            list(d * s),
            rounds=ROUNDS,
            epochs=2,
            lr=0.05,
            seed=1,
        )
        points.append(FitPoint.from_curve(1, "probe", run.total_samples, run.accuracy))
    # more data trains a better model over the same rounds: the fit's premise
    assert points[-1].accuracy > points[0].accuracy
    fit = fit_points(points, form="power")
    assert all(math.isfinite(v) for v in fit.params.values())
    assert fit.params["b"] > 0 and fit.params["c"] > 0
    assert math.isfinite(fit.rmse) and fit.rmse >= 0
    assert fit.function.derivative_scalar(500.0) > 0  # increasing, usable as the game's P
    game = setting.game.replace(gamma=0.05, accuracy=fit.function)
    assert scheme_strategies(game, fip=False)["dbr"].result.is_nash


def test_run_schemes_writes_results(tmp_path: Path) -> None:
    opts = SchemesOptions(
        orgs=3,
        rounds=ROUNDS,
        seeds=1,
        out=tmp_path,
        gamma_points=5,
        probes=(0.3,),
        fip=False,
        first_seed=1,
    )
    lines: list[str] = []
    result = run_schemes(opts, progress=lines.append)
    saved = json.loads((tmp_path / "schemes.json").read_text(encoding="utf-8"))
    assert saved["table"] == result["table"]
    keys = [r["scheme"] for r in result["table"]]
    assert keys == ["dbr", "central", "wpr", "gca", "tos"]
    seed = result["seeds"][0]
    for key in keys:
        sch = seed["schemes"][key]
        assert len(sch["training"]["accuracy"]) == ROUNDS
        assert sch["training"]["samples_used"] == [
            contributed_samples(d, s) for d, s in zip(sch["d"], seed["sizes"], strict=True)
        ]
    assert seed["schemes"]["tos"]["training"]["total_samples"] == sum(seed["sizes"])
    assert "power" in result["fit"]
    for name in result["figures"]:
        assert (tmp_path / name).stat().st_size > 1000
    assert "| DBR |" in (tmp_path / "schemes_table.md").read_text(encoding="utf-8")
    assert lines[-1].startswith("[done]")


def test_cli_rejects_bad_options_with_the_field_name(capsys: pytest.CaptureFixture[str]) -> None:
    from fl_node.cli import main

    assert main(["experiment", "schemes", "--orgs", "1"]) == 2
    assert "--orgs 1" in capsys.readouterr().err
