"""Validation of the game model: every invalid input raises GameError naming field and org."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import solver
from solver import Game, GameError, Org


def _org(name: object = "a", **kw: object) -> Org:
    base = dict(name=name, s=1500.0, p=1000.0, F=(1e9, 2e9, 3e9), eta=5e7, T1=2.0, T3=2.0)
    base.update(kw)
    return Org(**base)  # type: ignore[arg-type]


def _game(**kw: object) -> Game:
    base: dict[str, object] = dict(
        orgs=(_org("a"), _org("b", p=1500.0)),
        tau=60.0,
        gamma=0.003,
        lam=5e-7,
        w_e=0.01,
        kappa=1e-27,
        G=5.0,
        D_min=0.1,
        A0=0.215,
        rho=[[0.0, 0.1], [0.1, 0.0]],
    )
    base.update(kw)
    return Game(**base)  # type: ignore[arg-type]


def test_valid_game_derives_weights_and_levels() -> None:
    g = _game()
    assert g.n == 2 and g.names == ("a", "b")
    np.testing.assert_allclose(g.z, [1000 - 0.1 * 1500, 1500 - 0.1 * 1000])
    np.testing.assert_allclose(g.rhobar, [0.1, 0.1])
    # dmax at 1 GHz = 56 s * 1e9 / (5e7 * 1500) = 0.7466..., capped at 1 above
    np.testing.assert_allclose(g.arrays.hi[0] / 1500, [56e9 / 7.5e10, 1.0, 1.0])
    assert g.arrays.ok.all()


@pytest.mark.parametrize(
    ("kwargs", "field", "org"),
    [
        ({"rho": [[0.0, 0.1], [0.2, 0.0]]}, "rho", "a"),
        ({"rho": [[0.0, 1.5], [1.5, 0.0]]}, "rho", "a"),
        ({"rho": [[0.0, -0.1], [-0.1, 0.0]]}, "rho", "a"),
        ({"rho": [[0.1, 0.1], [0.1, 0.0]]}, "rho", "a"),
        ({"rho": [[0.0, 0.1, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, 0.0]]}, "rho", None),
        ({"rho": [[0.0, 0.9], [0.9, 0.0]]}, "rho", "a"),  # z_a = 1000 - 0.9 * 1500 < 0
        ({"tau": -1.0}, "tau", None),
        ({"gamma": -0.1}, "gamma", None),
        ({"lam": 0.0}, "lam", None),
        ({"D_min": 0.0}, "D_min", None),
        ({"D_min": 1.5}, "D_min", None),
        ({"G": float("nan")}, "G", None),
        ({"w_e": -1.0}, "w_e", None),
        ({"kappa": "big"}, "kappa", None),
        ({"tau": 3.0}, "F", "a"),  # T1 + T3 = 4 s > tau: no level can meet the deadline
        ({"orgs": (_org("a"), _org("a"))}, "orgs", None),
        ({"orgs": ()}, "orgs", None),
    ],
)
def test_invalid_game_names_field_and_org(
    kwargs: dict[str, object], field: str, org: str | None
) -> None:
    with pytest.raises(GameError) as info:
        _game(**kwargs)
    assert info.value.field == field
    assert info.value.org == org
    assert field in str(info.value)
    if org is not None:
        assert repr(org) in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"s": -5.0}, "s"),
        ({"p": 0.0}, "p"),
        ({"eta": float("inf")}, "eta"),
        ({"T1": -1.0}, "T1"),
        ({"e_comm": -1.0}, "e_comm"),
        ({"F": ()}, "F"),
        ({"F": (2e9, 1e9)}, "F"),
        ({"F": (0.0, 1e9)}, "F"),
        ({"F": "fast"}, "F"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_org_names_field(kwargs: dict[str, object], field: str) -> None:
    kw = {"name": "zed", **kwargs}
    with pytest.raises(GameError) as info:
        _org(**kw)  # type: ignore[arg-type]
    assert info.value.field == field
    assert field in str(info.value)


def test_no_feasible_level_message_says_how_to_fix() -> None:
    with pytest.raises(GameError, match="raise tau or F") as info:
        _game(orgs=(_org("a", eta=1e10), _org("b")))
    assert info.value.org == "a"


def test_symmetrize_is_explicit_and_warns() -> None:
    rho = [[0.0, 0.1], [0.3, 0.0]]
    with pytest.warns(solver.RhoSymmetrizedWarning):
        sym = solver.symmetrize_rho(rho)
    np.testing.assert_allclose(sym, [[0.0, 0.2], [0.2, 0.0]])
    assert _game(rho=sym).rho[0, 1] == 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solver.symmetrize_rho(sym)  # already symmetric: no warning


def test_game_is_immutable_and_replace_revalidates() -> None:
    g = _game()
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.gamma = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        g.rho[0, 1] = 0.5
    assert g.replace(gamma=0.0).gamma == 0.0
    with pytest.raises(GameError):
        g.replace(gamma=-1.0)


def test_sparse_rho_matches_dense() -> None:
    dense = solver.random_game(12, seed=3)
    sparse = dense.replace(rho=sp.csr_matrix(dense.rho))
    d = np.full(12, 0.5)
    f = np.array([o.F[-1] for o in dense.orgs])
    np.testing.assert_allclose(
        solver.payoffs(sparse, d, f), solver.payoffs(dense, d, f), rtol=1e-12
    )
    np.testing.assert_allclose(sparse.z, dense.z, rtol=1e-14)
    r = solver.redistribution_matrix(sparse, d, f)
    np.testing.assert_allclose(r.toarray(), solver.redistribution_matrix(dense, d, f), rtol=1e-12)
    asym = sp.csr_matrix(([0.1], ([0], [1])), shape=(12, 12))
    with pytest.raises(GameError, match="symmetric"):
        dense.replace(rho=asym)


def test_view_holds_only_own_and_public_parameters() -> None:
    g = _game()
    v = g.view("b")
    assert v.org.name == "b" and v.z == pytest.approx(g.z[1]) and v.gamma == g.gamma
    assert g.index("b") == 1
    with pytest.raises(GameError):
        g.view("nobody")


def test_accuracy_must_be_increasing_concave() -> None:
    class Convex(solver.AccuracyFunction):
        def value(self, omega):  # type: ignore[no-untyped-def]
            return np.asarray(omega, dtype=float) ** 2

        def derivative(self, omega):  # type: ignore[no-untyped-def]
            return 2 * np.asarray(omega, dtype=float)

    with pytest.raises(GameError) as info:
        _game(accuracy=Convex())
    assert info.value.field == "accuracy"
