"""``fedsettle solve --config`` dispatch by ``[game].mechanism`` (unit test of the dispatch only:
the mechanism is a tiny module written here and put on the ``solver`` package path)."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

import solver
from fl_node.cli import ExitCode, main

FAKE = '''
"""A fake mechanism: echoes its config and the CLI arguments it was given."""
import tomllib
from pathlib import Path

import solver

CALLS = []


def load_config(path: Path):
    data = tomllib.loads(path.read_text())
    if "size" not in data["game"]:
        raise solver.ConfigError("missing required key 'size'", field="game.size")
    return data["game"]


def solve_cli(config, algorithm, options):
    CALLS.append((config, algorithm, options))
    if algorithm == "magic":
        raise solver.GameError("unknown algorithm 'magic'; choose from ['greedy']", field="algorithm")
    if algorithm == "huge":
        raise solver.ProblemTooLargeError("too many profiles")
    return {"mechanism": "fakemech", "success": config["size"] > 0, "algorithm": algorithm,
            "options": options, "size": config["size"]}
'''


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "fakemech.py").write_text(FAKE)
    (pkg / "notamech.py").write_text("X = 1\n")
    monkeypatch.setattr(solver, "__path__", [*solver.__path__, str(pkg)])
    yield tmp_path
    for name in ("solver.fakemech", "solver.notamech"):
        sys.modules.pop(name, None)


def _config(tmp_path: Path, body: str) -> str:
    path = tmp_path / "game.toml"
    path.write_text(body)
    return str(path)


def test_mechanism_names_list_tradefl_and_modules(fake: Path) -> None:
    names = solver.mechanism_names()
    assert names[0] == "tradefl" and "fakemech" in names and "presets" not in names
    assert isinstance(solver.mechanism_module("fakemech"), solver.Mechanism)


def test_dispatch_calls_the_protocol(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(fake, '[game]\nmechanism = "fakemech"\nsize = 3\n')
    code = main(["solve", "--config", cfg, "--algorithm", "greedy", "--max-rounds", "7"])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    assert out == {
        "mechanism": "fakemech",
        "success": True,
        "algorithm": "greedy",
        "options": {"max_rounds": 7},
        "size": 3,
    }
    mod = sys.modules["solver.fakemech"]
    assert mod.CALLS == [({"mechanism": "fakemech", "size": 3}, "greedy", {"max_rounds": 7})]
    # no --algorithm: the mechanism's default (None); success False is the solver exit code
    cfg = _config(fake, '[game]\nmechanism = "fakemech"\nsize = 0\n')
    assert main(["solve", "--config", cfg, "--format", "json", "--ir-range"]) == ExitCode.SOLVER
    assert mod.CALLS[-1][1:] == (None, {"ir_range": True})
    capsys.readouterr()


def test_load_parsed_gets_the_parsed_file_once(
    fake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mechanism with load_parsed gets the CLI's parsed mapping: the file is parsed once."""
    cfg = _config(fake, '[game]\nmechanism = "fakemech"\nsize = 4\n')
    mod = solver.mechanism_module("fakemech")
    parsed: list[tuple[dict[str, object], Path]] = []
    monkeypatch.setattr(
        mod,
        "load_parsed",
        lambda data, path: parsed.append((data, path)) or data["game"],
        raising=False,
    )
    monkeypatch.setattr(mod, "load_config", lambda path: pytest.fail("parsed twice"))
    parses = []
    real_loads = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: parses.append(text) or real_loads(text))
    assert main(["solve", "--config", cfg, "--format", "json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["size"] == 4
    assert parsed == [({"game": {"mechanism": "fakemech", "size": 4}}, Path(cfg))]
    assert len(parses) == 1


def test_mechanism_errors_map_to_exit_codes(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(fake, '[game]\nmechanism = "fakemech"\nsize = 3\n')
    assert main(["solve", "--config", cfg, "--algorithm", "magic"]) == ExitCode.USAGE
    assert "unknown algorithm 'magic'" in capsys.readouterr().err
    assert main(["solve", "--config", cfg, "--algorithm", "huge", "--format", "json"]) == 5
    out = json.loads(capsys.readouterr().out)
    assert out["error"] == {"code": 5, "kind": "solver", "message": "too many profiles"}


def test_mechanism_config_errors_exit_3(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(fake, '[game]\nmechanism = "fakemech"\n')
    assert main(["solve", "--config", cfg]) == ExitCode.CONFIG
    assert "game.size" in capsys.readouterr().err
    cfg = _config(fake, '[game]\nmechanism = "notamech"\n')
    assert main(["solve", "--config", cfg]) == ExitCode.CONFIG
    assert "does not provide load_config" in capsys.readouterr().err


def test_unknown_mechanism_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path, '[game]\nmechanism = "auction"\n')
    assert main(["solve", "--config", cfg, "--format", "json"]) == ExitCode.CONFIG
    captured = capsys.readouterr()
    assert "unknown mechanism 'auction'; known: ['tradefl'" in captured.err
    assert json.loads(captured.out)["error"]["kind"] == "config"
    cfg = _config(tmp_path, "[game]\nmechanism = 5\n")
    assert main(["solve", "--config", cfg]) == ExitCode.CONFIG
    assert "game.mechanism" in capsys.readouterr().err


def test_tradefl_named_explicitly_is_the_existing_game(
    preset: solver.Game, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = solver.game_to_toml(preset).replace("[game]\n", '[game]\nmechanism = "tradefl"\n', 1)
    assert main(["solve", "--config", _config(tmp_path, text), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mechanism"] == "tradefl" and out["status"] == "optimal"
    cfg = tomllib.loads(text)
    cfg["game"]["mechanism"] = "cogen"
    with pytest.raises(solver.ConfigError, match="this schema is mechanism 'tradefl'"):
        solver.parse_game(cfg)
