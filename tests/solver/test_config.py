"""TOML configuration: round trip, schema errors naming the field, the accuracy table."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

import solver
from solver import ConfigError, GameError


def _config(preset: solver.Game) -> dict:
    return tomllib.loads(solver.game_to_toml(preset))


def test_round_trip_is_exact(preset: solver.Game, tmp_path: Path) -> None:
    path = tmp_path / "game.toml"
    path.write_text(solver.game_to_toml(preset, header="a comment\nsecond line"))
    back = solver.load_game(path)
    assert back.orgs == preset.orgs
    np.testing.assert_array_equal(back.rho, preset.rho)
    assert path.read_text().startswith("# a comment\n# second line\n[game]")
    fitted = preset.replace(accuracy=solver.PowerLawAccuracy(0.9, 2.0, 0.4))
    again = solver.parse_game(tomllib.loads(solver.game_to_toml(fitted)))
    assert again.accuracy == fitted.accuracy


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["game"].pop("gamma"), "game.gamma"),
        (lambda c: c["game"].update(gamma="high"), "game.gamma"),
        (lambda c: c["game"].update(gama=0.1), "game.gama"),
        (lambda c: c["org"][2].pop("eta"), "org[2].eta"),
        (lambda c: c["org"][1].update(F=3e9), "org[1].F"),
        (lambda c: c["org"][1].update(F=[]), "org[1].F"),
        (lambda c: c["org"][1].update(color="red"), "org[1].color"),
        (lambda c: c["org"][0].update(name=7), "org[0].name"),
        (lambda c: c["game"].update(rho=[[0.0]]), "game.rho"),
        (lambda c: c.pop("org"), "config.org"),
        (lambda c: c.update(extra=1), "extra"),
        (lambda c: c.update(accuracy={"form": "cubic"}), "accuracy.form"),
        (lambda c: c.update(accuracy={"form": "power", "a": 1.0, "b": 1.0}), "accuracy.c"),
        (lambda c: c["game"].update(symmetrize_rho="yes"), "game.symmetrize_rho"),
    ],
)
def test_schema_errors_name_the_field(preset: solver.Game, mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    cfg = _config(preset)
    mutate(cfg)
    with pytest.raises(ConfigError) as info:
        solver.parse_game(cfg)
    assert info.value.field == field
    assert field in str(info.value)


def test_invalid_values_raise_game_errors_naming_org(preset: solver.Game) -> None:
    cfg = _config(preset)
    cfg["game"]["rho"][0][1] = 0.5
    with pytest.raises(GameError, match="symmetric") as info:
        solver.parse_game(cfg)
    assert info.value.field == "rho" and info.value.org == "org01"
    cfg = _config(preset)
    cfg["org"][3]["s"] = -1.0
    with pytest.raises(GameError) as info2:
        solver.parse_game(cfg)
    assert info2.value.org == "org04" and info2.value.field == "s"


def test_symmetrize_option_warns(preset: solver.Game) -> None:
    cfg = _config(preset)
    cfg["game"]["rho"][0][1] = 0.02
    cfg["game"]["symmetrize_rho"] = True
    with pytest.warns(solver.RhoSymmetrizedWarning):
        g = solver.parse_game(cfg)
    assert g.rho[0, 1] == g.rho[1, 0] == pytest.approx((0.02 + preset.rho[1, 0]) / 2)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        solver.load_game(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[game\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        solver.load_game(bad)
    with pytest.raises(ConfigError, match="unknown preset"):
        solver.load_preset("nope")
