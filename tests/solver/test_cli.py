"""``fedsettle solve``: json and table output, exit codes on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import solver
from fl_node.cli import ExitCode, main


def _write(tmp_path: Path, game: solver.Game) -> Path:
    path = tmp_path / "game.toml"
    path.write_text(solver.game_to_toml(game))
    return path


@pytest.mark.parametrize(
    "algorithm", ["dbr", "dbr-sim", "cgbd", "exact", "wpr", "gca", "fip", "tos"]
)
def test_json_output_for_every_algorithm(
    preset: solver.Game, tmp_path: Path, capsys: pytest.CaptureFixture[str], algorithm: str
) -> None:
    small = preset.replace(orgs=preset.orgs[:5], rho=preset.rho_dense()[:5, :5])
    code = main(
        [
            "solve",
            "--config",
            str(_write(tmp_path, small)),
            "--algorithm",
            algorithm,
            "--format",
            "json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    for key in (
        "algorithm",
        "status",
        "strategies",
        "payoffs",
        "redistribution",
        "potential",
        "social_welfare",
        "is_nash",
        "individually_rational",
        "budget_balance",
        "iterations",
        "seconds",
    ):
        assert key in out
    assert out["algorithm"] == algorithm
    assert [s["name"] for s in out["strategies"]] == list(small.names)
    ref = solver.solve(small, algorithm)
    assert [s["d"] for s in out["strategies"]] == pytest.approx(list(ref.d), rel=1e-12)
    assert out["potential"] == pytest.approx(ref.potential, rel=1e-12)
    assert abs(out["budget_balance"]) < 1e-12
    assert len(out["payoffs"]) == len(out["individually_rational"]) == 5


def test_table_output_with_ir_range(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["solve", "--preset", "paper-table2", "--algorithm", "dbr", "--ir-range"])
    text = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "algorithm dbr: converged" in text
    assert all(name in text for name in solver.load_preset("paper-table2").names)
    assert "Nash equilibrium yes" in text and "IR gamma range   [0, " in text


def test_json_ir_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "--preset", "paper-table2", "--format", "json", "--ir-range"]) == 0
    out = json.loads(capsys.readouterr().out)
    ((lo, hi),) = out["ir_gamma_range"]
    assert lo == 0.0 and hi > 0.003


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[game]\ntau = 60.0\n", "game.gamma"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_config_exits_with_config_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["solve", "--config", str(path)]) == ExitCode.CONFIG
    assert needle in capsys.readouterr().err


def test_invalid_game_values_exit_with_config_code(
    preset: solver.Game, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = solver.game_to_toml(preset).replace("D_min = 0.1", "D_min = 1.5")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["solve", "--config", str(path)]) == ExitCode.CONFIG
    assert "D_min" in capsys.readouterr().err
    assert main(["solve", "--config", str(tmp_path / "none.toml")]) == ExitCode.CONFIG
    assert main(["solve", "--preset", "nope"]) == ExitCode.CONFIG


def test_too_large_for_cgbd_exits_with_solver_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, solver.random_game(12, seed=1))
    assert main(["solve", "--config", str(path), "--algorithm", "cgbd"]) == ExitCode.SOLVER
    assert "exact" in capsys.readouterr().err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "--preset", "paper-table2", "--algorithm", "magic"]) == ExitCode.USAGE
    assert "unknown algorithm 'magic'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["solve"])


def test_solve_imports_only_its_own_command_module() -> None:
    """`fedsettle solve` registers only the solve parser: the other commands' modules (demo
    imports the mechanisms package) stay unimported, while `fedsettle --help` still lists all."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from fl_node.cli import main\n"
        "main(['solve', '--preset', 'paper-table2', '--format', 'json'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fl_node.cli.', 'fl_node.mech'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out.splitlines()[-1].replace("'", '"'))
    assert loaded == ["fl_node.cli._exit", "fl_node.cli._options", "fl_node.cli.solve"]
    helptext = subprocess.run(
        [sys.executable, "-c", "from fl_node.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
    ).stdout
    for command in ("audit", "demo", "node", "solve"):
        assert command in helptext
