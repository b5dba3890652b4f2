"""Market TOML files and the ``fedsettle solve`` entry point (solver.market.load_config/solve_cli)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import solver
import solver.market as sm

EXAMPLE = """
[game]
mechanism = "market"
lambda_pay = 0.5
distance = [[0.0, 0.4, 0.9], [0.4, 0.0, 0.2], [0.9, 0.2, 0.0]]

[[org]]
name = "c0"
N = 800.0
c = 0.05
K = 20000.0

[[org]]
name = "c1"
N = 400.0
c = 0.02
K = 30000.0

[[org]]
name = "seller"
N = 1500
c = 0.01
K = 0.0
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "market.toml"
    p.write_text(text)
    return p


def test_load_and_solve_the_example(tmp_path: Path) -> None:
    cfg = sm.load_config(_write(tmp_path, EXAMPLE))
    assert cfg.market.names == ("c0", "c1", "seller")
    assert cfg.market.N.tolist() == [800.0, 400.0, 1500.0]
    assert cfg.distance[0, 2] == 0.9
    out = sm.solve_cli(cfg, None, {})
    json.dumps(out, allow_nan=False)  # strictly JSON
    for key in ("mechanism", "graph", "payments", "net_payment", "gain", "utility", "ir"):
        assert key in out
    assert out["mechanism"] == "market" and out["algorithm"] == sm.DEFAULT_ALGORITHM
    assert out["success"] is True
    assert out["graph"][2] == []  # the pure seller imports nothing
    res = sm.solve_round(cfg.market, cfg.distance)
    assert out["graph"] == [[cfg.market.names[j] for j in row] for row in res.graph]
    assert out["payments"] == res.payments.tolist()
    assert sm.solve_cli(cfg, "greedy", {}) == out


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("N = 400.0", "N = 0.0", "org[1].N"),
        ("N = 400.0", 'N = "many"', "org[1].N"),
        ("K = 0.0", "K = -1.0", "org[2].K"),
        ("c = 0.02", "c = -0.02", "org[1].c"),
        ('name = "c1"', 'name = "c0"', "org[1].name"),
        ("c = 0.02\n", "c = 0.02\nk = 1\n", "org[1].k"),
        ('mechanism = "market"', 'mechanism = "tradefl"', "game.mechanism"),
        ("lambda_pay = 0.5", "lambda_pay = -0.5", "game.lambda_pay"),
        ("lambda_pay = 0.5\n", "", "game.lambda_pay"),
        ("[0.0, 0.4, 0.9], [0.4", "[0.0, 0.4, 0.9], [0.5", "game.distance[0][1]"),
        ("[0.9, 0.2, 0.0]]", "[0.9, 0.2, 0.1]]", "game.distance[2][2]"),
        ("[0.9, 0.2, 0.0]]", "[2.5, 0.2, 0.0]]", "game.distance[2][0]"),
        ("[0.9, 0.2, 0.0]]", "[0.9, 0.2]]", "game.distance"),
    ],
)
def test_errors_name_the_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in EXAMPLE
    with pytest.raises(solver.ConfigError) as exc:
        sm.load_config(_write(tmp_path, EXAMPLE.replace(old, new, 1)))
    assert exc.value.field == field
    assert field in str(exc.value)


def test_file_errors_and_cli_arguments(tmp_path: Path) -> None:
    with pytest.raises(solver.ConfigError, match="no such file"):
        sm.load_config(tmp_path / "missing.toml")
    with pytest.raises(solver.ConfigError, match="not valid TOML"):
        sm.load_config(_write(tmp_path, "[game"))
    cfg = sm.load_config(_write(tmp_path, EXAMPLE))
    with pytest.raises(solver.ConfigError, match="unknown market algorithm"):
        sm.solve_cli(cfg, "dbr", {})
    generic = {"ir_range": True, "max_rounds": 5, "fallback": False}
    assert sm.solve_cli(cfg, None, generic) == sm.solve_cli(cfg, None, {})  # ignored


def test_table_format_shows_every_org(tmp_path: Path) -> None:
    out = sm.solve_cli(sm.load_config(_write(tmp_path, EXAMPLE)), None, {})
    text = sm.format_table(out)
    lines = text.splitlines()
    for i, name in enumerate(out["names"]):
        row = next(line for line in lines if line.startswith(name + " "))
        assert ", ".join(out["graph"][i]) in row or (not out["graph"][i] and row.endswith("-"))
    assert "budget balance" in text
