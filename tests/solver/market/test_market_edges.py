"""solver.market.solve_round_edges: the greedy graph and its payments on the edges only, checked
against the dense solve_round (same graph, same thresholds, same payments and IR flags)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import solver.market as sm
from fl_node.cli import main
from fl_node.cli import solve as solve_cli_module
from solver import BlockMatrix, ConfigError, GameError
from solver.market import _edges


def _same(market: sm.Market, distance: object) -> sm.EdgeRound:
    dense = sm.solve_round(market, np.asarray(distance))
    edges = sm.solve_round_edges(market, distance)
    assert edges.graph == dense.graph
    for i, row in enumerate(edges.graph):
        cols = list(row)
        assert np.array_equal(edges.threshold[i], dense.threshold[i, cols])
        np.testing.assert_allclose(edges.payments[i], dense.payments[i, cols], rtol=1e-13)
    np.testing.assert_allclose(edges.net_payment, dense.net_payment, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(edges.gain, dense.gain, rtol=1e-13)
    np.testing.assert_array_equal(edges.export_cost, dense.export_cost)
    for flag in ("ir", "ir_importer", "ir_exporter"):
        np.testing.assert_array_equal(getattr(edges, flag), getattr(dense, flag))
    assert abs(edges.budget_balance - dense.budget_balance) < 1e-9
    return edges


@pytest.mark.parametrize("seed", [0, 1])
def test_random_markets_match_the_dense_round(seed: int) -> None:
    market, d = sm.random_market(250, seed=seed)
    edges = _same(market, d)
    assert max(len(r) for r in edges.graph) > 5  # rows long enough to exercise the ranking


def test_rows_past_the_known_candidates_are_recomputed(monkeypatch: pytest.MonkeyPatch) -> None:
    market, d = sm.random_market(120, seed=4)
    for top in (1, 2, 5):
        monkeypatch.setattr(_edges, "FIRST_CANDIDATES", top)
        _same(market, d)


def test_free_candidates_and_small_markets() -> None:
    market, d = sm.random_market(90, seed=2)
    free = market.replace(lambda_pay=0.0, c=np.where(np.arange(90) % 3 == 0, 0.0, market.c))
    edges = _same(free, d)
    assert any(np.isinf(t).any() for t in edges.threshold)  # c_j = 0, lambda = 0: T = +inf
    row = next(i for i, t in enumerate(edges.threshold) if np.isinf(t[0]))
    assert edges.to_dict()["threshold"][row][0] == "inf"
    small, d5 = sm.random_market(6, seed=1)
    _same(small, d5)


def test_block_distances_stay_structured() -> None:
    market, _ = sm.random_market(200, seed=3)
    labels = np.random.default_rng(0).integers(0, 3, 200)
    block = BlockMatrix(labels, [[0.1, 0.9, 1.2], [0.9, 0.2, 0.5], [1.2, 0.5, 0.05]])
    _same(market, block)
    halves = labels % 2
    with pytest.raises(GameError, match=r"means\[0\]\[1\]"):
        sm.solve_round_edges(market, BlockMatrix(halves, [[0.1, 0.9], [0.8, 0.2]]))
    with pytest.raises(GameError, match=r"\[0, 2\]"):
        sm.check_distance_form(BlockMatrix(halves, [[0.1, 2.5], [2.5, 0.2]]), 200)
    with pytest.raises(GameError, match="diagonal must be 0"):
        sm.check_distance_form(BlockMatrix(np.zeros(200, dtype=int), [[0.1]], 0.1), 200)
    # an unused cluster's row of means is not an entry of the matrix
    two = BlockMatrix(np.zeros(200, dtype=int), [[0.3, 5.0], [-1.0, 0.0]])
    assert sm.check_distance_form(two, 200) is two


def _market_file(tmp_path: Path, n: int, distance: str) -> str:
    market, d = sm.random_market(n, seed=0)
    np.save(tmp_path / "d.npy", d)
    orgs = "".join(
        f'\n[[org]]\nname = "{name}"\nN = {float(N)!r}\nc = {float(c)!r}\nK = {float(K)!r}\n'
        for name, N, c, K in zip(market.names, market.N, market.c, market.K, strict=True)
    )
    path = tmp_path / "market.toml"
    path.write_text(
        f'[game]\nmechanism = "market"\nlambda_pay = 0.5\ndistance = {distance}\n{orgs}'
    )
    return str(path)


def test_cli_payments_forms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _market_file(tmp_path, 40, '"d.npy"')

    def run(*extra: str) -> dict[str, object]:
        assert main(["solve", "--config", path, "--format", "json", *extra]) == 0
        return json.loads(capsys.readouterr().out)

    dense, edges = run(), run("--payments", "edges")
    assert dense["payments_form"] == "dense" and edges["payments_form"] == "edges"
    assert run("--payments", "dense") == dense
    assert edges["graph"] == dense["graph"]
    names = dense["names"]
    for i, row in enumerate(dense["graph"]):
        cols = [names.index(v) for v in row]
        np.testing.assert_allclose(
            edges["payments"][i], [dense["payments"][i][j] for j in cols], rtol=1e-13
        )
        assert edges["threshold"][i] == [dense["threshold"][i][j] for j in cols]
    for key in ("net_payment", "gain", "utility"):
        np.testing.assert_allclose(edges[key], dense[key], rtol=1e-12, atol=1e-12)
    assert edges["ir"] == dense["ir"]
    assert len(dense["payments"]) == 40 and all(len(r) == 40 for r in dense["payments"])


def test_auto_switches_to_edges_above_the_dense_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert solve_cli_module.PAYMENTS_FORMS == sm.PAYMENTS_FORMS
    assert solve_cli_module.MARKET_DENSE_UP_TO == sm.DENSE_UP_TO
    cfg = sm.load_config(
        Path(
            _market_file(
                tmp_path,
                30,
                '{ form = "block", sizes = [10, 20], means = [[0.2, 1.0], [1.0, 0.3]] }',
            )
        )
    )
    assert isinstance(cfg.distance, BlockMatrix)
    assert sm.solve_cli(cfg, None, {})["payments_form"] == "dense"
    monkeypatch.setattr("solver.market._cli.DENSE_UP_TO", 29)
    out = sm.solve_cli(cfg, None, {})
    assert out["payments_form"] == "edges"
    assert out == sm.solve_cli(cfg, None, {"payments": "edges"})
    with pytest.raises(ConfigError, match="payments"):
        sm.solve_cli(cfg, None, {"payments": "sparse"})


def test_dense_checks_in_tiles_report_the_first_entry_in_row_order() -> None:
    _, d = sm.random_market(700, seed=5)
    bad = d.copy()
    bad[650, 3] += 0.01  # mirror (3, 650) comes first in row order
    bad[600, 610] = bad[610, 600] = 0.5  # symmetric change: no error
    bad[20, 690] += 0.02
    with pytest.raises(GameError, match=r"distance\[3\]\[650\]"):
        sm.check_distance(bad, 700)
    bad[400, 5] = 2.5
    with pytest.raises(GameError, match=r"distance\[400\]\[5\]': entry must lie in \[0, 2\]"):
        sm.check_distance(bad, 700)
    bad[400, 5] = np.nan
    with pytest.raises(GameError, match=r"distance\[400\]\[5\]"):
        sm.check_distance(bad, 700)
