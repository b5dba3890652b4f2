"""The cogen TOML schema, its errors, and the CLI protocol (load_config + solve_cli)."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from solver import ConfigError, GameError
from solver.cogen import (
    ALGORITHMS,
    cogen_preset_names,
    load_cogen_preset,
    load_config,
    parse_config,
    solve_cli,
)

ISSUE_EXAMPLE = """
[game]
mechanism = "cogen"
a = 2.0
b = 0.5
alpha_D = 0.8
kappa = 1e-3
q = 1.0
gamma = [[0.0, 0.05], [0.05, 0.0]]

[[org]]
name = "org0"
D = 1200.0
delta = 0.6
theta = 5000.0
c = 0.02
x_max = 3000.0

[[org]]
name = "org1"
D = 800.0
delta = 1.2
theta = 4000.0
c = 0.03
x_max = 2000.0
"""


def _data() -> dict[str, Any]:
    return tomllib.loads(ISSUE_EXAMPLE)


def test_issue_schema_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "game.toml"
    path.write_text(ISSUE_EXAMPLE)
    cfg = load_config(path)
    assert cfg.path == path
    g = cfg.game
    assert g.names == ("org0", "org1")
    assert (g.a, g.b, g.alpha_D, g.kappa, g.q) == (2.0, 0.5, 0.8, 1e-3, 1.0)
    assert g.D.tolist() == [1200.0, 800.0] and g.x_max.tolist() == [3000.0, 2000.0]
    assert g.gamma[0, 1] == 0.05


def test_q_defaults_to_one() -> None:
    data = _data()
    del data["game"]["q"]
    assert parse_config(data).game.q == 1.0


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["org"][1].update(delta=2.5), "org[1].delta"),
        (lambda d: d["org"][0].update(theta=-1.0), "org[0].theta"),
        (lambda d: d["org"][0].update(D="many"), "org[0].D"),
        (lambda d: d["org"][1].pop("x_max"), "org[1].x_max"),
        (lambda d: d["org"][1].update(colour="red"), "org[1].colour"),
        (lambda d: d["org"][0].update(name=""), "org[0].name"),
        (lambda d: d["game"].update(b=0.0), "game.b"),
        (lambda d: d["game"].update(mechanism="tradefl"), "game.mechanism"),
        (lambda d: d["game"].pop("kappa"), "game.kappa"),
        (lambda d: d["game"].update(gamma=[[0.0, 0.1]]), "game.gamma"),
        (lambda d: d["game"].update(gamma=[[0.0, "x"], [0.1, 0.0]]), "game.gamma[0][1]"),
        (lambda d: d.update(accuracy={}), "accuracy"),
        (lambda d: d.pop("org"), "org"),
    ],
)
def test_errors_name_the_field(edit: Any, field: str) -> None:
    data = _data()
    edit(data)
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert err.value.field == field
    assert field in str(err.value)


def test_inconsistent_values_are_game_errors_naming_the_org() -> None:
    data = _data()
    data["game"]["gamma"] = [[0.0, 0.05], [0.06, 0.0]]
    with pytest.raises(GameError, match="symmetric") as err:
        parse_config(data)
    assert err.value.field == "gamma" and err.value.org == "org0"
    data = _data()
    data["org"][0]["theta"] = 10.0
    data["game"]["gamma"] = [[0.0, 0.9], [0.9, 0.0]]
    with pytest.raises(GameError, match="weight w") as err:
        parse_config(data)
    assert err.value.org == "org0"


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[game\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_presets_are_listed_and_the_demo_file_loads() -> None:
    assert "cogen-demo" in cogen_preset_names()
    path = Path(str(resources.files("solver").joinpath("presets", "cogen-demo.toml")))
    assert load_config(path).game.names == load_cogen_preset("cogen-demo").names
    with pytest.raises(ConfigError, match="unknown cogen preset"):
        load_cogen_preset("paper-table2")


REQUIRED = {
    "mechanism",
    "algorithm",
    "status",
    "strategies",
    "payoffs",
    "redistribution",
    "potential",
    "social_welfare",
    "is_nash",
    "converged",
    "iterations",
    "ir",
}


@pytest.mark.parametrize("algorithm", [None, *ALGORITHMS])
def test_solve_cli_returns_the_json_protocol(tmp_path: Path, algorithm: str | None) -> None:
    path = tmp_path / "game.toml"
    path.write_text(ISSUE_EXAMPLE)
    out = solve_cli(load_config(path), algorithm, {})
    assert REQUIRED <= set(out)
    assert out["mechanism"] == "cogen"
    assert out["algorithm"] == (algorithm or "fixed-point")
    assert [s["name"] for s in out["strategies"]] == ["org0", "org1"]
    assert all(isinstance(s["x"], float) for s in out["strategies"])
    assert len(out["payoffs"]) == len(out["ir"]) == 2
    json.dumps(out, allow_nan=False)


def test_solve_cli_options(demo_config: Any) -> None:
    out = solve_cli(demo_config, "random", {"seed": 7})
    again = solve_cli(demo_config, "random", {"seed": 7})
    assert out["strategies"] == again["strategies"]
    with_ir = solve_cli(demo_config, None, {"ir_range": True, "method": "damped"})
    assert with_ir["converged"] and with_ir["ir_kappa_range"][0][0] == 0.0
    with pytest.raises(ConfigError) as err:
        solve_cli(demo_config, "exact", {"seed": 1})
    assert err.value.field == "options.seed"
    with pytest.raises(GameError, match="unknown cogen algorithm"):
        solve_cli(demo_config, "cgbd", {})
    with pytest.raises(ConfigError, match="true or false"):
        solve_cli(demo_config, None, {"ir_range": "yes"})


@pytest.fixture()
def demo_config() -> Any:
    from solver.cogen import CogenConfig

    return CogenConfig(load_cogen_preset("cogen-demo"))
