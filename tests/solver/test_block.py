"""solver.BlockMatrix: the uniform and block matrix forms kept structured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from solver import BlockMatrix, load_matrix


def test_operations_match_the_dense_matrix() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 50)
    means = rng.random((4, 4))
    m = BlockMatrix(labels, means, diagonal=0.25)
    dense = m.toarray()
    assert dense[3, 3] == 0.25 and dense[0, 1] == means[labels[0], labels[1]]
    v = rng.random(50)
    np.testing.assert_allclose(m @ v, dense @ v, rtol=1e-12)
    np.testing.assert_allclose(m.sum(axis=1), dense.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(m.sum(axis=0), dense.sum(axis=0), rtol=1e-12)
    assert m.sum() == pytest.approx(dense.sum(), rel=1e-12)
    np.testing.assert_array_equal((2.0 * m).toarray(), 2.0 * dense)
    np.testing.assert_array_equal(m.T.toarray(), dense.T)
    np.testing.assert_array_equal(m.take_rows([7, 2, 7]), dense[[7, 2, 7]])
    np.testing.assert_array_equal(np.asarray(m), dense)
    assert m[4, 9] == dense[4, 9] and m[5, 5] == 0.25 and m.shape == (50, 50)
    with pytest.raises(ValueError, match="labels"):
        BlockMatrix([0, 2], [[1.0, 0.0], [0.0, 1.0]])


def test_occurring_pairs_skip_singletons_and_empty_clusters() -> None:
    m = BlockMatrix([0, 0, 1], np.zeros((3, 3)))
    assert m.occurring().tolist() == [
        [True, True, False],
        [True, False, False],
        [False, False, False],
    ]


def test_load_matrix_structured_forms(tmp_path: Path) -> None:
    kw = {"field": "rho", "n": 5, "base_dir": tmp_path}
    block = {"form": "block", "sizes": [2, 3], "means": [[0.1, 0.2], [0.2, 0.3]]}
    b = load_matrix(block, structured=True, **kw)
    assert isinstance(b, BlockMatrix)
    np.testing.assert_array_equal(b.toarray(), load_matrix(block, **kw))
    u = load_matrix({"form": "uniform", "value": 0.5, "diagonal": 1.0}, structured=True, **kw)
    assert isinstance(u, BlockMatrix) and u.toarray()[0].tolist() == [1.0, 0.5, 0.5, 0.5, 0.5]
    pairs = {"form": "pairs", "pairs": [[0, 1, 0.4]]}
    assert isinstance(load_matrix(pairs, structured=True, **kw), np.ndarray)


def test_tradefl_block_rho_solves_like_its_dense_matrix(tmp_path: Path) -> None:
    import warnings

    import solver

    game = solver.random_game(40, seed=0)
    mu = 0.25 * 500 / (40 * 1500)
    block = {"form": "block", "sizes": [15, 25], "means": [[2 * mu, 0.5 * mu], [0.5 * mu, 2 * mu]]}
    path = tmp_path / "game.toml"
    value = (
        f'{{ form = "block", sizes = [15, 25], means = [[{2 * mu!r}, {0.5 * mu!r}], '
        f"[{0.5 * mu!r}, {2 * mu!r}]] }}"
    )
    path.write_text(solver.game_to_toml(game, rho_value=value))
    structured = solver.load_game(path)
    assert isinstance(structured.rho, BlockMatrix)
    dense = structured.replace(rho=load_matrix(block, field="rho", n=40, base_dir=tmp_path))
    a, b = solver.solve(structured, "exact"), solver.solve(dense, "exact")
    assert a.status == b.status == solver.Status.OPTIMAL
    np.testing.assert_allclose(a.d, b.d, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.redistribution, b.redistribution, rtol=1e-9, atol=1e-9)
    with pytest.raises(solver.GameError, match=r"block means \[0\]\[1\]"):
        structured.replace(rho=BlockMatrix(structured.rho.labels, [[0.0, 0.1], [0.2, 0.0]]))
    with pytest.raises(solver.GameError, match=r"\[0, 1\]"):
        structured.replace(rho=BlockMatrix(structured.rho.labels, [[0.0, 1.5], [1.5, 0.0]]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sym = solver.symmetrize_rho(BlockMatrix(structured.rho.labels, [[0.0, 0.1], [0.2, 0.0]]))
    assert isinstance(sym, BlockMatrix) and sym.means[0, 1] == pytest.approx(0.15)
    assert caught and issubclass(caught[0].category, solver.RhoSymmetrizedWarning)
