"""Cogen games with a structured (block) gamma: validated on the table, solved without a dense
matrix, with the dense game's equilibrium; and dense file matrices kept without a copy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from solver import BlockMatrix, GameError
from solver.cogen import CogenGame, load_config, random_cogen_game, solve, solve_cli


def _game_pair(n: int = 60) -> tuple[CogenGame, CogenGame]:
    base = random_cogen_game(n, seed=1)
    labels = np.arange(n) % 3
    block = BlockMatrix(
        labels, np.array([[3.0, 1.0, 2.0], [1.0, 2.5, 0.5], [2.0, 0.5, 1.5]]) / (10 * n)
    )
    return replace(base, gamma=block), replace(base, gamma=block.toarray())


def test_block_gamma_solves_like_its_dense_matrix() -> None:
    structured, dense = _game_pair()
    assert isinstance(structured.gamma, BlockMatrix)
    np.testing.assert_allclose(structured.Gamma, dense.Gamma, rtol=1e-12)
    np.testing.assert_allclose(structured.w, dense.w, rtol=1e-12)
    for algorithm in ("fixed-point", "exact"):
        a, b = solve(structured, algorithm), solve(dense, algorithm)
        np.testing.assert_allclose(a.x, b.x, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(a.payoffs, b.payoffs, rtol=1e-9, atol=1e-6)
    doubled = structured.scaled(gamma=2.0)
    assert isinstance(doubled.gamma, BlockMatrix)
    np.testing.assert_allclose(doubled.Gamma, 2 * dense.Gamma, rtol=1e-12)


@pytest.mark.parametrize(
    ("means", "diagonal", "message"),
    [
        ([[0.01, 0.02], [0.03, 0.01]], 0.0, r"symmetric.*block means \[0\]\[1\]"),
        ([[0.01, -0.02], [-0.02, 0.01]], 0.0, ">= 0"),
        ([[0.01, 0.02], [0.02, 0.01]], 0.5, "diagonal"),
    ],
)
def test_block_gamma_errors(means: list[list[float]], diagonal: float, message: str) -> None:
    base = random_cogen_game(10, seed=0)
    with pytest.raises(GameError, match=message):
        replace(base, gamma=BlockMatrix(np.arange(10) % 2, means, diagonal))


def test_unused_cluster_entries_are_not_checked() -> None:
    base = random_cogen_game(10, seed=0)
    game = replace(base, gamma=BlockMatrix(np.zeros(10, dtype=int), [[0.01, -1.0], [5.0, 0.0]]))
    assert game.Gamma[0] == pytest.approx(0.09)


def test_config_matrices_structured_or_read_only(tmp_path: Path) -> None:
    orgs = "".join(
        f'[[org]]\nname = "o{i}"\nD = 900.0\ndelta = 0.5\ntheta = 4000.0\nc = 0.02\n'
        f"x_max = 2000.0\n"
        for i in range(4)
    )
    head = '[game]\nmechanism = "cogen"\na = 2.0\nb = 0.5\nalpha_D = 0.8\nkappa = 1e-3\n'
    block = 'gamma = { form = "block", sizes = [1, 3], means = [[0.0, 0.02], [0.02, 0.01]] }\n'
    (tmp_path / "g.toml").write_text(head + block + orgs)
    cfg = load_config(tmp_path / "g.toml")
    assert isinstance(cfg.game.gamma, BlockMatrix)
    assert cfg.game.gamma.toarray()[2].tolist() == [0.02, 0.01, 0.0, 0.01]
    out = solve_cli(cfg, None, {"payments": "edges"})  # the market's option is ignored
    assert out["success"] is True
    np.save(tmp_path / "gamma.npy", cfg.game.gamma.toarray())
    (tmp_path / "g.toml").write_text(head + 'gamma = "gamma.npy"\n' + orgs)
    dense = load_config(tmp_path / "g.toml").game.gamma
    assert isinstance(dense, np.ndarray) and not dense.flags.writeable
    mine = np.array(cfg.game.gamma.toarray())
    game = replace(cfg.game, gamma=mine)
    assert game.gamma is not mine and mine.flags.writeable  # a caller's array: copied
