"""Matrix fields in config files (solver.load_matrix): every form, and errors naming field and file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import solver
from fl_node.cli import ExitCode, main
from solver import ConfigError, load_matrix


def _load(value: object, tmp_path: Path, n: int = 3, sparse: bool = False) -> object:
    return load_matrix(value, field="game.rho", n=n, base_dir=tmp_path, sparse=sparse)


def test_inline_npy_and_csv_agree(tmp_path: Path) -> None:
    m = np.array([[0.0, 0.1, 0.2], [0.1, 0.0, 0.3], [0.2, 0.3, 0.0]])
    np.save(tmp_path / "m.npy", m)
    np.savetxt(tmp_path / "m.csv", m, delimiter=",")
    for value in (m.tolist(), "m.npy", "m.csv", str(tmp_path / "m.csv")):
        got = _load(value, tmp_path)
        assert isinstance(got, np.ndarray) and got.dtype == float
        np.testing.assert_array_equal(got, m)


def test_structured_forms(tmp_path: Path) -> None:
    np.testing.assert_array_equal(
        _load({"form": "uniform", "value": 0.5}, tmp_path), 0.5 * (1 - np.eye(3))
    )
    means = [[0.1, 0.2], [0.2, 0.3]]
    by_sizes = _load({"form": "block", "sizes": [1, 2], "means": means}, tmp_path)
    by_labels = _load({"form": "block", "labels": [0, 1, 1], "means": means}, tmp_path)
    want = np.array([[0.0, 0.2, 0.2], [0.2, 0.0, 0.3], [0.2, 0.3, 0.0]])
    np.testing.assert_array_equal(by_sizes, want)
    np.testing.assert_array_equal(by_labels, want)
    diag = _load({"form": "uniform", "value": 1.0, "diagonal": 2.0}, tmp_path)
    assert np.all(np.diag(diag) == 2.0)


def test_pairs_inline_and_from_files(tmp_path: Path) -> None:
    rows = [[0, 1, 0.2], [1, 2, 0.1]]
    want = np.array([[0.0, 0.2, 0.0], [0.2, 0.0, 0.1], [0.0, 0.1, 0.0]])
    np.testing.assert_array_equal(_load({"form": "pairs", "pairs": rows}, tmp_path), want)
    np.savetxt(tmp_path / "p.csv", rows, delimiter=",")
    np.save(tmp_path / "p.npy", np.array(rows, dtype=float))
    for name in ("p.csv", "p.npy"):
        got = _load({"form": "pairs", "pairs": name}, tmp_path, sparse=True)
        assert sp.issparse(got)
        np.testing.assert_array_equal(got.toarray(), want)
    one_way = _load({"form": "pairs", "pairs": rows, "symmetric": False, "fill": 0.5}, tmp_path)
    assert one_way[0, 1] == 0.2 and one_way[1, 0] == 0.5 and one_way[0, 0] == 0.0
    # the same pair given both ways with the same value is fine
    both = _load({"form": "pairs", "pairs": [*rows, [1, 0, 0.2]]}, tmp_path)
    np.testing.assert_array_equal(both, want)


@pytest.mark.parametrize(
    ("value", "field", "needle"),
    [
        ([[0.0, 0.1], [0.1, 0.0]], "game.rho", "3 x 3"),
        ([[0.0, "x", 0], [0, 0, 0], [0, 0, 0]], "game.rho", "rows of numbers"),
        ([[0.0, True, 0], [0, 0, 0], [0, 0, 0]], "game.rho", "true/false"),
        ("missing.npy", "game.rho", "no such file"),
        ("m.txt", "game.rho", "must end in .npy"),
        ("bad.csv", "game.rho", "bad.csv"),
        ("small.npy", "game.rho", "in file 'small.npy'"),
        ("nan.npy", "game.rho", "not finite"),
        ("text.npy", "game.rho", "cannot read file"),
        (7, "game.rho", "must be a matrix"),
        ({"form": "ring"}, "game.rho.form", "uniform"),
        ({"form": "uniform"}, "game.rho.value", "needs key"),
        ({"form": "uniform", "value": 0.1, "mean": 1}, "game.rho.mean", "unknown key"),
        ({"form": "block", "means": [[0.1]]}, "game.rho.sizes", "exactly one"),
        ({"form": "block", "sizes": [1, 1], "means": [[0.1]]}, "game.rho.sizes", "adding up"),
        ({"form": "block", "labels": [0, 0, 2], "means": [[0.1]]}, "game.rho.labels", "0..0"),
        ({"form": "block", "sizes": [3], "means": [[0.1, 0.2]]}, "game.rho.means", "square"),
        ({"form": "pairs", "pairs": [[0, 3, 0.1]]}, "game.rho.pairs", "0..2"),
        ({"form": "pairs", "pairs": [[0, 0.5, 0.1]]}, "game.rho.pairs", "integers"),
        ({"form": "pairs", "pairs": [[1, 1, 0.1]]}, "game.rho.pairs", "two different"),
        ({"form": "pairs", "pairs": [[0, 1, 0.1], [1, 0, 0.2]]}, "game.rho.pairs", "twice"),
        ({"form": "pairs", "pairs": [[0, 1]]}, "game.rho.pairs", "[i, j, value]"),
        ({"form": "pairs", "pairs": "two.csv"}, "game.rho.pairs", "two.csv' must have 3"),
        ({"form": "pairs", "pairs": [], "symmetric": 1}, "game.rho.symmetric", "true or false"),
    ],
)
def test_errors_name_the_field_and_the_file(
    tmp_path: Path, value: object, field: str, needle: str
) -> None:
    (tmp_path / "bad.csv").write_text("0,1\nx,y\n")
    (tmp_path / "two.csv").write_text("0,1\n1,2\n")
    (tmp_path / "text.npy").write_text("not an array")
    np.save(tmp_path / "small.npy", np.zeros((2, 2)))
    np.save(tmp_path / "nan.npy", np.full((3, 3), np.nan))
    with pytest.raises(ConfigError) as info:
        _load(value, tmp_path)
    assert info.value.field == field
    assert needle in str(info.value)


def test_config_file_paths_are_relative_to_the_config(
    preset: solver.Game, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = tmp_path / "cfg"
    sub.mkdir()
    np.save(sub / "rho.npy", preset.rho_dense())
    text = solver.game_to_toml(preset)
    start, end = text.index("rho = ["), text.index("]\n\n", text.index("rho = [")) + 2
    (sub / "game.toml").write_text(text[:start] + 'rho = "rho.npy"\n' + text[end:])
    game = solver.load_game(sub / "game.toml")
    np.testing.assert_array_equal(game.rho, preset.rho)
    # a structured rho whose entries break the game's rules is a config error naming rho
    (sub / "bad.toml").write_text(
        text[:start] + 'rho = { form = "uniform", value = 0.4 }\n' + text[end:]
    )
    assert main(["solve", "--config", str(sub / "bad.toml")]) == ExitCode.CONFIG
    assert "field 'rho'" in capsys.readouterr().err


def test_sparse_pairs_build_a_sparse_game(preset: solver.Game, tmp_path: Path) -> None:
    dense = preset.rho_dense()
    i, j = np.triu_indices(preset.n, 1)
    text = solver.game_to_toml(preset)
    start, end = text.index("rho = ["), text.index("]\n\n", text.index("rho = [")) + 2
    np.savetxt(tmp_path / "pairs.csv", np.column_stack((i, j, dense[i, j])), delimiter=",")
    (tmp_path / "g.toml").write_text(
        text[:start] + 'rho = { form = "pairs", pairs = "pairs.csv" }\n' + text[end:]
    )
    game = solver.load_game(tmp_path / "g.toml")
    assert sp.issparse(game.rho)
    a, b = solver.maximize_potential(game), solver.maximize_potential(preset)
    assert a.potential == pytest.approx(b.potential, rel=1e-12)
