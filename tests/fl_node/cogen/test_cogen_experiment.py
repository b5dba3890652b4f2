"""``fedsettle experiment cogen`` on a reduced setting: GMM generators, 1 round, real training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fl_node.cli import main
from fl_node.experiments._cogen_game import SCHEMES
from fl_node.experiments._cogen_run import direction, run_cogen
from fl_node.experiments._cogen_setting import CogenOptions


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("cogen")
    opts = CogenOptions(
        out=out,
        seeds=(0,),
        orgs=3,
        alphas=(0.2, 5.0),
        gammas=(0.0, 0.2),
        kappas=(0.0, 0.1),
        probes=(0.0, 0.5, 1.0),
        generator="gmm",
        rounds=2,
        epochs=1,
    )
    return run_cogen(opts, progress=lambda _: None), out


def test_outputs_written(result: tuple[dict[str, Any], Path]) -> None:
    res, out = result
    assert json.loads((out / "cogen.json").read_text()) == json.loads(json.dumps(res))
    assert (out / "cogen_table.md").read_text().count("| no generation |") == 2
    for name in res["figures"]:
        assert (out / name).stat().st_size > 1000
    assert res["fit"]["n_points"] == 6 and res["fit"]["status"] != "too_few_points"
    gens = res["generators"]
    assert gens["q"] == 1.0 and gens["c_mean"] > 0 and gens["relative_quality_mean"] > 0.5


def test_training_uses_exactly_the_game_profiles(result: tuple[dict[str, Any], Path]) -> None:
    res, _ = result
    for h in res["heterogeneity"]:
        s = h["setting"]
        assert set(h["schemes"]) == set(SCHEMES)
        for key, v in h["schemes"].items():
            game_x = np.clip(np.round(v["game"]["x"]), 0, s["x_max"])
            assert v["training"]["x"] == game_x.astype(int).tolist(), key
            assert v["training"]["total_samples"] == sum(s["D"]) + sum(v["training"]["x"])
            assert len(v["training"]["loo_contribution"]) == 3
        assert h["schemes"]["none"]["training"]["x"] == [0, 0, 0]
        assert h["schemes"]["max"]["training"]["x"] == s["x_max"]
        assert h["schemes"]["none"]["measured"]["welfare"] == pytest.approx(0.0)
        assert h["schemes"]["fixed-point"]["game"]["is_nash"]
    # Stronger label skew (smaller alpha) gives larger measured heterogeneity.
    deltas = [h["setting"]["mean_delta"] for h in res["heterogeneity"]]
    assert deltas[0] > deltas[1]
    assert len(res["competition"]) == len(res["redistribution"]) == 2


def test_direction() -> None:
    assert direction([1, 2, 3]) == "increasing"
    assert direction([3, 2, 2]) == "decreasing"
    assert direction([1, 1, 1]) == "constant"
    assert direction([1, 3, 2]) == "non-monotonic"


def test_cli_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "cogen", "--orgs", "1"]) == 2
    assert "--orgs 1" in capsys.readouterr().err
    assert main(["experiment", "cogen", "--price", "0"]) == 2
    assert "--price 0.0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "cogen", "--alphas", "a,b"])
    assert exc.value.code == 2


def test_options_need_enough_runs_for_the_fit() -> None:
    with pytest.raises(ValueError, match="fewer than 5 runs"):
        CogenOptions(seeds=(0,), alphas=(1.0,), probes=(0.0, 0.5, 1.0))
    assert CogenOptions().quick().seeds == (0,)
