"""Reproduce the simulation figures of the TradeFL paper (Sec. VI, Figs. 4-12) with ``solver``.

Every figure is computed on the ``paper-table2`` preset (n = 10, the paper's Table II ranges, the
parameters the paper omits chosen so that equilibria are interior). Figures 10-11 vary the mean
competition intensity and the energy weight around it. Each figure is written as a PNG plot and
a JSON file with the plotted numbers; ``summary.json`` holds the headline numbers,
``preset.json`` the preset's parameters, ``a0_sensitivity.json`` welfare and IR at other A0,
``untuned_games.json`` the paper's shapes in random Table II games. The write-up
``docs/paper-reproduction.md`` is then rendered from these JSON files by ``paper_report.py``
(every number in it comes from them; ``--report-only`` re-renders without recomputing).

Run: ``python experiments/paper_figures.py --out docs/figures [--quick | --report-only]``

``--quick`` uses coarse grids and skips CGBD (its master enumerates 5^10 level profiles per
iteration), for smoke tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import NDArray

import solver
from solver import Game, SolveResult

FloatArray = NDArray[np.float64]
#: a grid of numbers: a list or a 1-D array
Floats = Sequence[float] | FloatArray

PRESET = "paper-table2"

#: schemes compared at one gamma (Figs. 4-6), in plotting order
SCHEMES: tuple[str, ...] = (
    "dbr",
    "dbr-sim",
    "cgbd",
    "cgbd-paper",
    "exact",
    "wpr",
    "gca",
    "fip",
    "tos",
)
#: schemes swept over gamma (Figs. 7-9, 12); CGBD is left out (seconds per point)
SWEPT: tuple[str, ...] = ("dbr", "exact", "wpr", "gca", "fip", "tos")

LABELS: dict[str, str] = {
    "dbr": "DBR",
    "dbr-sim": "DBR (simultaneous)",
    "cgbd": "CGBD (valid cuts)",
    "cgbd-paper": "CGBD (paper's cuts)",
    "exact": "Exact (certified)",
    "wpr": "WPR",
    "gca": "GCA",
    "fip": "FIP",
    "tos": "TOS",
}
COLORS: dict[str, str] = {
    "dbr": "tab:blue",
    "dbr-sim": "tab:cyan",
    "cgbd": "tab:red",
    "cgbd-paper": "tab:pink",
    "exact": "black",
    "wpr": "tab:orange",
    "gca": "tab:green",
    "fip": "tab:purple",
    "tos": "tab:brown",
}


@dataclass(frozen=True)
class Grids:
    """Parameter grids of one run.

    ``gammas`` is the gamma axis of Figs. 7-9 and 12, ``heat_gammas`` that of the heatmaps,
    ``mu_fractions`` the mean competition of Fig. 10 as fractions of the largest mean that keeps
    every weight z_i > 0, ``w_es`` the energy weights of Fig. 11; ``refine`` is the number of
    points of the fine grid around the best gamma; ``cgbd`` whether CGBD runs at all; ``a0s``
    the A0 values of the sensitivity table besides the preset's; ``untuned_seeds`` the random
    games of the untuned study and ``untuned_gammas`` their gamma grid.
    """

    gammas: FloatArray
    heat_gammas: FloatArray
    mu_fractions: FloatArray
    w_es: FloatArray
    refine: int
    cgbd: bool
    a0s: tuple[float, ...] = (0.3, 1.0)
    untuned_seeds: tuple[int, ...] = ()
    untuned_gammas: FloatArray = dataclasses.field(default_factory=lambda: np.zeros(0))


FULL = Grids(
    gammas=np.linspace(0.0, 0.1, 201),
    heat_gammas=np.linspace(0.0, 0.08, 81),
    mu_fractions=np.linspace(0.05, 0.92, 16),
    w_es=np.geomspace(1e-3, 1e-1, 15),
    refine=41,
    cgbd=True,
    untuned_seeds=tuple(range(1000, 1030)),
    untuned_gammas=np.linspace(0.0, 0.1, 41),
)
QUICK = Grids(
    gammas=np.linspace(0.0, 0.1, 11),
    heat_gammas=np.linspace(0.0, 0.08, 9),
    mu_fractions=np.linspace(0.1, 0.9, 3),
    w_es=np.geomspace(1e-3, 1e-1, 3),
    refine=5,
    cgbd=False,
    untuned_seeds=(1000, 1001, 1002),
    untuned_gammas=np.linspace(0.0, 0.1, 11),
)


# -- games -------------------------------------------------------------------------------------


def preset_game() -> Game:
    """The ``paper-table2`` preset."""
    return solver.load_preset(PRESET)


def mean_rho(game: Game) -> float:
    """Mean off-diagonal competition intensity."""
    r = game.rho_dense()
    return float(r[~np.eye(game.n, dtype=bool)].mean())


def mu_limit(game: Game) -> float:
    """Largest mean competition for which the preset's rho pattern, rescaled, keeps every z_i > 0.

    z_i = p_i - mu (pattern p)_i with pattern = rho / mean(rho), so the limit is
    min_i p_i / (pattern p)_i.
    """
    pattern = game.rho_dense() / mean_rho(game)
    p = game.arrays.p
    return float(np.min(p / (pattern @ p)))


def with_mean_rho(game: Game, mu: float) -> Game:
    """The game with rho rescaled to mean off-diagonal intensity ``mu`` (same pattern).

    The paper draws rho_ij ~ N(mu, sigma^2) afresh; rescaling the preset's fixed pattern isolates
    the effect of the mean (the relative spread stays that of the preset, about 27%).
    """
    if not mu > 0:
        raise ValueError(f"mu must be > 0, got {mu!r}")
    return game.replace(rho=game.rho_dense() * (mu / mean_rho(game)))


# -- solving ------------------------------------------------------------------------------------


def run_scheme(game: Game, name: str) -> SolveResult:
    """Solve ``game`` with one scheme of :data:`SCHEMES` (``cgbd-paper``: CGBD with eq. 20's cuts)."""
    if name == "cgbd-paper":
        return solver.cgbd(game, cuts="paper")
    if name == "tos":
        return solver.tos(game)
    return solver.solve(game, name)


def run_schemes(game: Game, *, cgbd: bool = True) -> dict[str, SolveResult]:
    """Every scheme of :data:`SCHEMES` on one game (CGBD variants only if ``cgbd``)."""
    names = [s for s in SCHEMES if cgbd or not s.startswith("cgbd")]
    return {s: run_scheme(game, s) for s in names}


def true_potential(game: Game, res: SolveResult) -> float:
    """The potential of ``res``'s profile in ``game`` (WPR's own result is in the gamma = 0 game)."""
    return solver.potential(game, res.d, res.f)


def potential_traces(game: Game, results: dict[str, SolveResult]) -> dict[str, dict[str, Any]]:
    """Per scheme, the potential after each iteration, evaluated in ``game`` itself.

    Iterations are rounds for DBR/WPR/GCA/FIP, Benders iterations for CGBD (best value found,
    plus the master's value as ``upper``), branch-and-bound nodes for the exact solver (best
    value and proven bound); TOS is a single evaluation.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, res in results.items():
        tr = res.trace
        entry: dict[str, Any] = {"final": true_potential(game, res)}
        if name == "tos" or tr is None:
            entry["potential"] = [entry["final"]]
        elif name == "exact":
            entry["potential"] = tr.lower.tolist() if tr.lower is not None else [entry["final"]]
            entry["upper"] = tr.upper.tolist() if tr.upper is not None else None
        elif name.startswith("cgbd"):
            entry["potential"] = tr.lower.tolist() if tr.lower is not None else []
            entry["upper"] = tr.upper.tolist() if tr.upper is not None else None
        else:
            entry["potential"] = [
                solver.potential(game, d, f) for d, f in zip(tr.d, tr.f, strict=True)
            ]
        out[name] = entry
    return out


def payoff_dynamics(game: Game) -> dict[str, Any]:
    """Payoffs of every organization along DBR: sequential per best-response update, and the
    damped simultaneous variant per round (both from Algorithm 2's start, D_min at top level)."""
    seq = solver.dbr(game, trace_updates=True)
    sim = solver.dbr(game, mode="simultaneous")
    assert seq.trace is not None and sim.trace is not None
    return {
        "names": list(game.names),
        "sequential": {
            "payoffs": seq.trace.payoffs.tolist(),
            "rounds": seq.iterations,
            "updates": len(seq.trace.payoffs) - 1,
        },
        "simultaneous": {"payoffs": sim.trace.payoffs.tolist(), "rounds": sim.iterations},
        "equilibrium": seq.payoffs.tolist(),
    }


def scheme_table(game: Game, results: dict[str, SolveResult]) -> dict[str, dict[str, Any]]:
    """Welfare, potential (in ``game``), data, damage and checks of each scheme's result."""
    return {
        name: {
            "social_welfare": r.social_welfare,
            "potential": true_potential(game, r),
            "sum_d": float(r.d.sum()),
            "damage": float(r.parts.damage.sum()),
            "is_nash": r.is_nash,
            "feasible": r.feasible,
            "all_ir": bool(r.individually_rational.all()),
            "iterations": r.iterations,
            "seconds": r.seconds,
            "status": str(r.status),
        }
        for name, r in results.items()
    }


def gamma_sweep(game: Game, gammas: Floats, schemes: Sequence[str] = SWEPT) -> dict[str, Any]:
    """Welfare, total damage, total data fraction, accuracy P(Omega) and smallest payoff of each
    scheme at every gamma (Figs. 7-9, 12)."""
    keys = ("social_welfare", "damage", "sum_d", "accuracy", "min_payoff")
    data: dict[str, dict[str, list[float]]] = {s: {k: [] for k in keys} for s in schemes}
    nash: dict[str, list[bool]] = {s: [] for s in schemes}
    for g in gammas:
        gg = game.replace(gamma=float(g))
        for s in schemes:
            r = run_scheme(gg, s)
            row = data[s]
            row["social_welfare"].append(r.social_welfare)
            row["damage"].append(float(r.parts.damage.sum()))
            row["sum_d"].append(float(r.d.sum()))
            row["accuracy"].append(float(game.P.value_scalar(float(r.x.sum()))))
            # WPR's own payoffs omit redistribution; the smallest payoff is its own
            row["min_payoff"].append(float(r.payoffs.min()))
            nash[s].append(r.is_nash)
    return {"gammas": [float(g) for g in gammas], "schemes": data, "is_nash": nash}


def best_gamma(
    game: Game, gammas: Floats, welfare: Floats, *, points: int = 41
) -> tuple[float, float]:
    """gamma* and SW(gamma*) under DBR: the grid's best point, refined on a finer grid between its
    neighbours (welfare jumps where a compute level switches, so no derivative-based search)."""
    sw = np.asarray(welfare, dtype=float)
    gs = np.asarray(gammas, dtype=float)
    k = int(np.argmax(sw))
    best_g, best_sw = float(gs[k]), float(sw[k])
    lo, hi = float(gs[max(k - 1, 0)]), float(gs[min(k + 1, len(gs) - 1)])
    if points > 1 and hi > lo:
        for g in np.linspace(lo, hi, points):
            v = solver.dbr(game.replace(gamma=float(g)), trace=False).social_welfare
            if v > best_sw:
                best_g, best_sw = float(g), v
    return best_g, best_sw


def welfare_grid(gammas: Floats, values: Floats, make: Callable[[float], Game]) -> FloatArray:
    """SW under DBR on values x gammas: row k is the game ``make(values[k])`` at every gamma."""
    out = np.empty((len(values), len(gammas)))
    for k, v in enumerate(values):
        base = make(float(v))
        for j, g in enumerate(gammas):
            out[k, j] = solver.dbr(base.replace(gamma=float(g)), trace=False).social_welfare
    return out


def pct(a: float, b: float) -> float:
    """Relative increase of a over b, in percent."""
    return 100.0 * (a / b - 1.0)


def summarize(
    game: Game,
    table: dict[str, dict[str, Any]],
    table_star: dict[str, dict[str, Any]],
    sweep: dict[str, Any],
    gamma_star: float,
    sw_star: float,
    ir: solver.GammaRange,
) -> dict[str, Any]:
    """Headline numbers to compare with the paper's claims."""
    sch = sweep["schemes"]
    gs = np.asarray(sweep["gammas"])
    dbr_sw = np.asarray(sch["dbr"]["social_welfare"])
    exact_sw = np.asarray(sch["exact"]["social_welfare"])
    dbr_d = np.asarray(sch["dbr"]["sum_d"])
    gca_d = np.asarray(sch["gca"]["sum_d"])
    data_gain = 100.0 * (dbr_d / gca_d - 1.0)
    k_gain = int(np.argmax(data_gain))

    def gains(tab: dict[str, dict[str, Any]]) -> dict[str, float]:
        base = tab["dbr"]["social_welfare"]
        return {
            s: pct(base, tab[s]["social_welfare"]) for s in ("wpr", "gca", "fip", "tos") if s in tab
        }

    return {
        "preset": PRESET,
        "preset_gamma": game.gamma,
        "mean_rho": mean_rho(game),
        "gamma_star": gamma_star,
        "sw_at_gamma_star": sw_star,
        "sw_at_gamma_0": float(dbr_sw[0]),
        "sw_at_gamma_max": float(dbr_sw[-1]),
        "gamma_max": float(gs[-1]),
        "sw_gain_over_gamma_0_pct": pct(sw_star, float(dbr_sw[0])),
        "dbr_sw_gain_pct_at_preset_gamma": gains(table),
        "dbr_sw_gain_pct_at_gamma_star": gains(table_star),
        "dbr_vs_exact_max_abs_sw_diff": float(np.max(np.abs(dbr_sw - exact_sw))),
        "sum_d_at_gamma_star": {
            s: table_star[s]["sum_d"] for s in ("dbr", "gca", "wpr", "fip", "tos")
        },
        "data_gain_vs_gca_pct_at_gamma_star": pct(
            table_star["dbr"]["sum_d"], table_star["gca"]["sum_d"]
        ),
        "data_gain_vs_gca_pct_max": float(data_gain[k_gain]),
        "data_gain_vs_gca_gamma_of_max": float(gs[k_gain]),
        "ir_gamma_intervals": [[a, b] for a, b in ir.intervals],
        "ir_algorithm": ir.algorithm,
    }


def preset_facts(game: Game) -> dict[str, Any]:
    """The preset's parameters as the write-up's parameter table states them."""
    ar = game.arrays
    off = game.rho_dense()[~np.eye(game.n, dtype=bool)]
    omega_lo = float(ar.lo.sum())
    return {
        "n": game.n,
        "p": [float(ar.p.min()), float(ar.p.max())],
        "s": [float(ar.s.min()), float(ar.s.max())],
        "F_top": [float(min(o.F[-1] for o in game.orgs)), float(max(o.F[-1] for o in game.orgs))],
        "levels": sorted({len(o.F) for o in game.orgs}),
        "eta": [float(ar.eta.min()), float(ar.eta.max())],
        "T": [float(min(ar.T1.min(), ar.T3.min())), float(max(ar.T1.max(), ar.T3.max()))],
        "rho": [float(off.min()), float(off.max())],
        "mean_rho": float(off.mean()),
        "sum_p": float(ar.p.sum()),
        "params": {k: float(getattr(game, k)) for k in ("tau", "gamma", "lam", "w_e", "kappa")}
        | {k: float(getattr(game, k)) for k in ("G", "D_min", "A0")},
        # the smallest A0 with P(Omega) > 0 on every feasible aggregate (P's lowest point is
        # at the smallest aggregate, every org at D_min)
        "a0_floor": float(1.0 / game.G + 1.0 / math.sqrt(game.G * omega_lo)),
        "p_range_on_feasible": [
            float(game.P.value_scalar(omega_lo)),
            float(game.P.value_scalar(game.tables.omega_hi)),
        ],
    }


def ir_binding(game: Game, limit: float) -> dict[str, Any]:
    """Who loses IR just above the IR limit on gamma (1% above it, at the potential maximizer)."""
    res = solver.maximize_potential(game.replace(gamma=1.01 * limit))
    bad = [i for i in range(game.n) if not res.individually_rational[i]]
    p = game.arrays.p
    return {
        "gamma": 1.01 * limit,
        "orgs": [game.names[i] for i in bad],
        "payoffs": [float(res.payoffs[i]) for i in bad],
        "smallest_p_org": game.names[int(np.argmin(p))],
    }


def a0_sensitivity(game: Game, gamma_star: float, a0s: Sequence[float]) -> dict[str, Any]:
    """Welfare of every scheme, DBR's gains and the IR range at several A0 (strategies do not
    depend on A0; each welfare shifts by (A0' - A0) sum p)."""
    rows = []
    for a0 in (game.A0, *a0s):
        g0 = game.replace(A0=float(a0))
        row: dict[str, Any] = {"A0": float(a0)}
        for label, gamma in (("preset_gamma", game.gamma), ("gamma_star", gamma_star)):
            gg = g0.replace(gamma=gamma)
            sw = {s: run_scheme(gg, s).social_welfare for s in ("dbr", "wpr", "gca", "fip")}
            row[label] = {
                "social_welfare": sw,
                "dbr_gain_pct": {s: pct(sw["dbr"], sw[s]) for s in ("wpr", "gca", "fip")},
                "dbr_gain_money": {s: sw["dbr"] - sw[s] for s in ("wpr", "gca", "fip")},
            }
        row["ir_gamma_intervals"] = [list(iv) for iv in solver.ir_gamma_range(g0).intervals]
        rows.append(row)
    return {"preset_A0": game.A0, "sum_p": float(game.arrays.p.sum()), "rows": rows}


def _best_over_gamma(game: Game, gammas: Floats) -> float:
    return max(solver.dbr(game.replace(gamma=float(g)), trace=False).social_welfare for g in gammas)


#: ranges of the consortium parameters the paper omits, for untuned games that draw them too
CONSORTIUM_RANGES: dict[str, tuple[float, float]] = {
    "tau": (45.0, 90.0),  # uniform
    "w_e": (0.003, 0.03),  # log-uniform
    "lam": (1.5e-7, 1.5e-6),  # log-uniform
}


def untuned_game(seed: int, *, consortium: bool = False) -> Game:
    """A random game from the paper's Table II ranges (``solver.random_game(10, seed)``): the
    organizations are drawn afresh. The consortium parameters the paper omits stay the
    preset's, or with ``consortium`` tau, w_e and lambda are drawn from
    :data:`CONSORTIUM_RANGES` as well (G, A0, D_min stay the preset's)."""
    if not consortium:
        return solver.random_game(10, seed=seed)
    rng = np.random.default_rng([seed, 1])
    (t0, t1), (w0, w1), (l0, l1) = (CONSORTIUM_RANGES[k] for k in ("tau", "w_e", "lam"))
    return solver.random_game(
        10,
        seed=seed,
        tau=float(rng.uniform(t0, t1)),
        w_e=float(np.exp(rng.uniform(math.log(w0), math.log(w1)))),
        lam=float(np.exp(rng.uniform(math.log(l0), math.log(l1)))),
    )


def untuned_shapes(seed: int, gammas: Floats, *, consortium: bool = False) -> dict[str, Any]:
    """Which of the paper's shapes hold in one untuned game (DBR over ``gammas``)."""
    game = untuned_game(seed, consortium=consortium)
    gs = np.asarray(gammas, dtype=float)
    res = {s: [run_scheme(game.replace(gamma=float(g)), s) for g in gs] for s in ("dbr", "gca")}
    fip = [run_scheme(game.replace(gamma=float(g)), "fip") for g in gs]
    wpr = run_scheme(game, "wpr")  # does not depend on gamma
    sw = np.array([r.social_welfare for r in res["dbr"]])
    k = int(np.argmax(sw))
    star = res["dbr"][k]
    scale = max(1.0, abs(float(sw[k])))
    mu = mean_rho(game)
    best = float(sw[k])
    best_mu = {f: _best_over_gamma(with_mean_rho(game, f * mu), gs) for f in (0.5, 1.5)}
    best_we = {f: _best_over_gamma(game.replace(w_e=f * game.w_e), gs) for f in (0.5, 2.0)}
    return {
        "seed": seed,
        "params": {k: float(getattr(game, k)) for k in ("tau", "w_e", "lam")},
        "gamma_star": float(gs[k]),
        "sw_at_gamma_star": best,
        "sw_at_gamma_0": float(sw[0]),
        "sw_at_gamma_max": float(sw[-1]),
        "all_nash": all(r.is_nash for r in res["dbr"]),
        "shapes": {
            "interior_gamma_star": bool(
                0 < k < len(gs) - 1 and best > max(sw[0], sw[-1]) + 1e-9 * scale
            ),
            "dbr_above_wpr_at_gamma_star": bool(best > wpr.social_welfare),
            "dbr_above_gca_at_gamma_star": bool(best > res["gca"][k].social_welfare),
            "dbr_above_fip_at_gamma_star": bool(best > fip[k].social_welfare),
            "more_data_than_gca_at_gamma_star": bool(star.d.sum() > res["gca"][k].d.sum()),
            "ir_at_gamma_star": bool(star.individually_rational.all()),
            "best_sw_falls_with_mu": bool(best_mu[1.5] < best_mu[0.5]),
            "best_sw_falls_with_w_e": bool(best_we[2.0] < best_we[0.5]),
        },
        "dbr_gain_money_at_gamma_star": {
            "wpr": best - wpr.social_welfare,
            "gca": best - res["gca"][k].social_welfare,
            "fip": best - fip[k].social_welfare,
        },
    }


def untuned_study(
    seeds: Sequence[int], gammas: Floats, *, consortium: bool = False
) -> dict[str, Any]:
    """:func:`untuned_shapes` over many random games, with the fraction in which each holds."""
    games = [untuned_shapes(s, gammas, consortium=consortium) for s in seeds]
    names = list(games[0]["shapes"]) if games else []
    return {
        "consortium_drawn": consortium,
        "consortium_ranges": CONSORTIUM_RANGES if consortium else None,
        "n_games": len(games),
        "seeds": list(seeds),
        "gammas": [float(g) for g in gammas],
        "fraction": {k: float(np.mean([g["shapes"][k] for g in games])) for k in names},
        "count": {k: int(sum(g["shapes"][k] for g in games)) for k in names},
        "games": games,
    }


# -- plots --------------------------------------------------------------------------------------


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_potential(traces: dict[str, dict[str, Any]], path: Path) -> None:
    """Fig. 4: potential per iteration for every scheme, flat after its last iteration; the right
    panel zooms on the converged values."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    horizon = max(len(t["potential"]) for n, t in traces.items() if n != "tos")
    finite = [v for n, t in traces.items() if n != "tos" for v in t["potential"]]
    finals = [t["potential"][-1] for n, t in traces.items() if n != "tos"]
    for ax in axes:
        for name, t in traces.items():
            if name == "tos":
                continue
            ys = list(t["potential"]) + [t["potential"][-1]] * (horizon - len(t["potential"]))
            ax.step(
                range(len(ys)),
                ys,
                where="post",
                color=COLORS[name],
                label=LABELS[name],
                lw=3.5 if name == "dbr" else 1.5,
                ls=":" if name == "cgbd-paper" else "-",
                zorder=1 if name == "dbr" else 2,
            )
            if name == "cgbd" and t.get("upper"):
                ax.step(
                    range(len(t["upper"])),
                    t["upper"],
                    where="post",
                    color=COLORS[name],
                    ls="--",
                    lw=1,
                    label="CGBD master bound",
                )
        ax.set_xlabel("iteration (round; CGBD: Benders iteration; exact: B&B node)")
        ax.grid(alpha=0.3)
    lo, hi = min(finite), max(finite)
    pad = 0.08 * (hi - lo)
    axes[0].set_ylim(lo - pad, hi + 3 * pad)
    flo, fhi = min(finals), max(finals)
    fpad = 0.1 * (fhi - flo) if fhi > flo else 0.01 * abs(fhi)
    axes[1].set_ylim(flo - fpad, fhi + fpad)
    axes[1].set_title("zoom on the converged values")
    if "tos" in traces:
        axes[0].text(
            0.99,
            0.03,
            f"TOS: Φ = {traces['tos']['final']:.4f} (off scale)",
            transform=axes[0].transAxes,
            ha="right",
            va="bottom",
            color=COLORS["tos"],
        )
    axes[0].set_ylabel("potential Φ")
    axes[0].set_title("full range")
    axes[1].legend(fontsize=8, loc="center right")
    fig.suptitle("Fig. 4 — potential dynamics per scheme (paper-table2, preset γ)")
    _save(fig, path)


def plot_payoffs(dyn: dict[str, Any], path: Path) -> None:
    """Fig. 5: every organization's payoff along sequential and simultaneous DBR."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    cmap = plt.get_cmap("tab10")
    for ax, key, xlabel in (
        (axes[0], "sequential", "best-response update (sequential DBR)"),
        (axes[1], "simultaneous", "round (simultaneous damped DBR)"),
    ):
        pay = np.asarray(dyn[key]["payoffs"])
        for i, name in enumerate(dyn["names"]):
            ax.plot(range(len(pay)), pay[:, i], marker="o", ms=3, color=cmap(i % 10), label=name)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("payoff C_i")
    axes[0].set_title(
        f"sequential: {dyn['sequential']['rounds']} rounds, {dyn['sequential']['updates']} updates"
    )
    axes[1].set_title(f"simultaneous: {dyn['simultaneous']['rounds']} rounds")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Fig. 5 — payoff dynamics of the organizations under DBR")
    _save(fig, path)


def plot_welfare_schemes(tables: dict[str, dict[str, dict[str, Any]]], path: Path) -> None:
    """Fig. 6: social welfare per scheme, at the preset gamma and at gamma*."""
    fig, ax = plt.subplots(figsize=(10, 4.8))
    names = [s for s in SCHEMES if all(s in t for t in tables.values())]
    width = 0.8 / len(tables)
    for k, (label, tab) in enumerate(tables.items()):
        xs = np.arange(len(names)) + (k - (len(tables) - 1) / 2) * width
        vals = [tab[s]["social_welfare"] for s in names]
        bars = ax.bar(
            xs,
            vals,
            width,
            label=label,
            color=[COLORS[s] for s in names],
            alpha=1.0 if k == 0 else 0.55,
            edgecolor="black",
            lw=0.5,
            hatch=None if k == 0 else "//",
        )
        for b, v in zip(bars, vals, strict=True):
            ax.text(
                b.get_x() + b.get_width() / 2, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7
            )
    ax.set_xticks(
        np.arange(len(names)), [LABELS[s].replace(" (", "\n(") for s in names], fontsize=8
    )
    ax.set_ylabel("social welfare Σ C_i")
    ax.set_title("Fig. 6 — social welfare per scheme (solid: preset γ, hatched: γ*)")
    from matplotlib.patches import Patch

    handles = [
        Patch(
            facecolor="lightgrey",
            edgecolor="black",
            alpha=1.0 if k == 0 else 0.55,
            hatch=None if k == 0 else "//",
            label=label,
        )
        for k, label in enumerate(tables)
    ]
    ax.legend(handles=handles, fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def plot_welfare_gamma(
    sweep: dict[str, Any],
    gamma_star: float,
    sw_star: float,
    ir: solver.GammaRange,
    preset_gamma: float,
    path: Path,
) -> None:
    """Fig. 7: SW vs gamma under DBR (and the exact optimum), with the IR range and min payoff."""
    gs = np.asarray(sweep["gammas"])
    sch = sweep["schemes"]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, height_ratios=(2, 1))
    ax.plot(gs, sch["dbr"]["social_welfare"], color=COLORS["dbr"], lw=2.4, label="DBR")
    ax.plot(
        gs,
        sch["exact"]["social_welfare"],
        color=COLORS["exact"],
        ls="--",
        lw=1,
        label="exact potential maximizer",
    )
    ax.plot(
        [gamma_star], [sw_star], "r*", ms=14, label=f"γ* = {gamma_star:.4g}, SW = {sw_star:.1f}"
    )
    ax.axvline(preset_gamma, color="grey", ls=":", label=f"preset γ = {preset_gamma:g}")
    ax.set_ylabel("social welfare")
    ax.set_title("Fig. 7 — impact of γ on social welfare under DBR")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax2.plot(
        gs, sch["dbr"]["min_payoff"], color=COLORS["dbr"], label="min_i C_i at the DBR equilibrium"
    )
    ax2.axhline(0, color="grey", lw=0.8)
    for a, b in ir.intervals:
        ax2.axvspan(
            a, min(b, gs[-1]), color="tab:green", alpha=0.15, label=f"IR range [{a:.3g}, {b:.4g}]"
        )
    ax2.set_xlabel("incentive intensity γ")
    ax2.set_ylabel("smallest payoff")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    _save(fig, path)


def _sweep_plot(
    sweep: dict[str, Any],
    key: str,
    ylabel: str,
    title: str,
    gamma_star: float,
    path: Path,
    schemes: Sequence[str] = ("dbr", "wpr", "gca", "fip", "tos"),
) -> None:
    gs = np.asarray(sweep["gammas"])
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for s in schemes:
        ax.plot(
            gs,
            sweep["schemes"][s][key],
            color=COLORS[s],
            label=LABELS[s],
            lw=2.4 if s == "dbr" else 1.5,
        )
    ax.axvline(gamma_star, color="red", ls=":", label=f"γ* = {gamma_star:.4g}")
    ax.set_xlabel("incentive intensity γ")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_heatmap(
    gammas: Floats,
    values: Floats,
    sw: FloatArray,
    ylabel: str,
    title: str,
    path: Path,
    *,
    log_y: bool = False,
    mark: float | None = None,
    legend_loc: str = "upper right",
) -> None:
    """Figs. 10-11: SW over gamma x parameter, each row's best gamma marked; the side panel shows
    per row the best SW over gamma, SW at gamma = 0 and SW at the largest gamma."""
    gs = np.asarray(gammas)
    vs = np.asarray(values)
    fig, (ax, side) = plt.subplots(1, 2, figsize=(11, 5), sharey=True, width_ratios=(3, 1.2))
    mesh = ax.pcolormesh(gs, vs, sw, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="social welfare (DBR)", pad=0.02)
    best = gs[np.argmax(sw, axis=1)]
    ax.plot(best, vs, "*-", color="red", mec="white", mew=0.6, ms=9, lw=1, label="best γ per row")
    if mark is not None:
        ax.axhline(mark, color="white", ls=":", lw=1.2, label="preset")
        side.axhline(mark, color="grey", ls=":", lw=1.2)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("incentive intensity γ")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc=legend_loc)
    side.plot(sw.max(axis=1), vs, "o-", color="red", ms=3, label="best over γ")
    side.plot(sw[:, 0], vs, "s-", color=COLORS["wpr"], ms=3, label="γ = 0")
    side.plot(sw[:, -1], vs, "^-", color="tab:blue", ms=3, label=f"γ = {gs[-1]:g}")
    side.set_xlabel("social welfare")
    side.set_title("per row")
    side.grid(alpha=0.3)
    side.legend(fontsize=8)
    _save(fig, path)


def plot_data(sweep: dict[str, Any], gamma_star: float, path: Path) -> None:
    """Fig. 12: total data fraction sum_i d_i vs gamma, and DBR's gain over GCA."""
    gs = np.asarray(sweep["gammas"])
    sch = sweep["schemes"]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, height_ratios=(2, 1))
    for s in ("dbr", "wpr", "gca", "fip", "tos"):
        ax.plot(
            gs, sch[s]["sum_d"], color=COLORS[s], label=LABELS[s], lw=2.4 if s == "dbr" else 1.5
        )
    ax.axvline(gamma_star, color="red", ls=":", label=f"γ* = {gamma_star:.4g}")
    ax.set_ylabel("total data contribution Σ d_i")
    ax.set_title("Fig. 12 — total data contribution across γ")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    gain = 100.0 * (np.asarray(sch["dbr"]["sum_d"]) / np.asarray(sch["gca"]["sum_d"]) - 1.0)
    ax2.plot(gs, gain, color=COLORS["dbr"])
    ax2.axhline(64, color="grey", ls="--", lw=1, label="paper: up to +64%")
    ax2.axvline(gamma_star, color="red", ls=":")
    ax2.set_xlabel("incentive intensity γ")
    ax2.set_ylabel("DBR vs GCA (%)")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    _save(fig, path)


# -- driver -------------------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON (numpy values converted, non-finite numbers as null)."""
    path.write_text(json.dumps(_jsonable(data), indent=1) + "\n")


def run(out: Path, grids: Grids, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Compute every figure, write PNG + JSON into ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    timings: dict[str, float] = {}

    def tick(label: str, start: float) -> float:
        timings[label] = time.perf_counter() - start
        log(f"{label}: {timings[label]:.1f} s")
        return time.perf_counter()

    game = preset_game()
    t = time.perf_counter()
    results = run_schemes(game, cgbd=grids.cgbd)
    traces = potential_traces(game, results)
    write_json(out / "fig04_potential.json", {"gamma": game.gamma, "traces": traces})
    plot_potential(traces, out / "fig04_potential.png")
    dyn = payoff_dynamics(game)
    write_json(out / "fig05_payoffs.json", dyn)
    plot_payoffs(dyn, out / "fig05_payoffs.png")
    t = tick("figs 4-5 (schemes at preset gamma)", t)

    sweep = gamma_sweep(game, grids.gammas)
    gamma_star, sw_star = best_gamma(
        game, sweep["gammas"], sweep["schemes"]["dbr"]["social_welfare"], points=grids.refine
    )
    ir = solver.ir_gamma_range(game)
    t = tick("gamma sweep + gamma* + IR range", t)

    star = game.replace(gamma=gamma_star)
    table = scheme_table(game, results)
    table_star = scheme_table(star, run_schemes(star, cgbd=grids.cgbd))
    tables = {f"preset γ = {game.gamma:g}": table, f"γ* = {gamma_star:.4g}": table_star}
    write_json(
        out / "fig06_welfare_schemes.json",
        {
            "preset_gamma": game.gamma,
            "gamma_star": gamma_star,
            "preset": table,
            "gamma_star_table": table_star,
        },
    )
    plot_welfare_schemes(tables, out / "fig06_welfare_schemes.png")
    t = tick("fig 6 (schemes at gamma*)", t)

    write_json(
        out / "fig07_09_12_gamma_sweep.json",
        {
            **sweep,
            "gamma_star": gamma_star,
            "sw_at_gamma_star": sw_star,
            "ir_intervals": [list(iv) for iv in ir.intervals],
            "ir_scan": {"gammas": ir.gammas, "min_payoff": ir.min_payoff},
        },
    )
    plot_welfare_gamma(sweep, gamma_star, sw_star, ir, game.gamma, out / "fig07_welfare_gamma.png")
    _sweep_plot(
        sweep,
        "social_welfare",
        "social welfare",
        "Fig. 8 — social welfare of the schemes across γ",
        gamma_star,
        out / "fig08_welfare_gamma_schemes.png",
    )
    _sweep_plot(
        sweep,
        "damage",
        "total competition damage Σ D_i",
        "Fig. 9 — competition damage across γ",
        gamma_star,
        out / "fig09_damage_gamma.png",
    )
    plot_data(sweep, gamma_star, out / "fig12_data_gamma.png")
    t = tick("figs 7-9, 12 plots", t)

    mus = grids.mu_fractions * mu_limit(game)
    sw_mu = welfare_grid(grids.heat_gammas, mus, lambda m: with_mean_rho(game, m))
    write_json(
        out / "fig10_welfare_gamma_mu.json",
        {
            "gammas": grids.heat_gammas,
            "mu": mus,
            "mu_limit": mu_limit(game),
            "preset_mu": mean_rho(game),
            "social_welfare": sw_mu,
            "best_gamma": grids.heat_gammas[np.argmax(sw_mu, axis=1)],
            "best_sw": sw_mu.max(axis=1),
        },
    )
    plot_heatmap(
        grids.heat_gammas,
        mus,
        sw_mu,
        "mean competition intensity μ",
        "Fig. 10 — social welfare over γ and μ (DBR)",
        out / "fig10_welfare_gamma_mu.png",
        mark=mean_rho(game),
    )
    t = tick("fig 10 (gamma x mu)", t)

    sw_we = welfare_grid(grids.heat_gammas, grids.w_es, lambda w: game.replace(w_e=w))
    write_json(
        out / "fig11_welfare_gamma_we.json",
        {
            "gammas": grids.heat_gammas,
            "w_e": grids.w_es,
            "preset_w_e": game.w_e,
            "social_welfare": sw_we,
            "best_gamma": grids.heat_gammas[np.argmax(sw_we, axis=1)],
            "best_sw": sw_we.max(axis=1),
        },
    )
    plot_heatmap(
        grids.heat_gammas,
        grids.w_es,
        sw_we,
        "energy weight ϖ_e (log)",
        "Fig. 11 — social welfare over γ and ϖ_e (DBR)",
        out / "fig11_welfare_gamma_we.png",
        log_y=True,
        mark=game.w_e,
        legend_loc="lower right",
    )
    t = tick("fig 11 (gamma x w_e)", t)

    facts = preset_facts(game)
    ends = [b for _, b in ir.intervals if math.isfinite(b)]
    facts["ir_binding"] = ir_binding(game, max(ends)) if ends else None
    write_json(out / "preset.json", facts)
    write_json(out / "a0_sensitivity.json", a0_sensitivity(game, gamma_star, grids.a0s))
    t = tick("A0 sensitivity", t)
    if grids.untuned_seeds:
        untuned = {
            "orgs_drawn": untuned_study(grids.untuned_seeds, grids.untuned_gammas),
            "all_drawn": untuned_study(grids.untuned_seeds, grids.untuned_gammas, consortium=True),
        }
        write_json(out / "untuned_games.json", untuned)
        t = tick(f"untuned games ({len(grids.untuned_seeds)})", t)

    summary = summarize(game, table, table_star, sweep, gamma_star, sw_star, ir)
    summary["heatmaps"] = {
        "mu": {
            "values": mus,
            "best_sw": sw_mu.max(axis=1),
            "sw_at_gamma_0": sw_mu[:, 0],
            "best_gamma": grids.heat_gammas[np.argmax(sw_mu, axis=1)],
        },
        "w_e": {
            "values": grids.w_es,
            "best_sw": sw_we.max(axis=1),
            "sw_at_gamma_0": sw_we[:, 0],
            "best_gamma": grids.heat_gammas[np.argmax(sw_we, axis=1)],
        },
    }
    summary["grids"] = {
        "gammas": len(grids.gammas),
        "heat_gammas": len(grids.heat_gammas),
        "mu": len(grids.mu_fractions),
        "w_e": len(grids.w_es),
        "cgbd": grids.cgbd,
    }
    timings["total"] = time.perf_counter() - t0
    timings["cpu_total"] = time.process_time() - cpu0
    summary["seconds"] = timings
    write_json(out / "summary.json", summary)
    log(f"total: {timings['total']:.1f} s")
    return summary


def _report_module() -> Any:
    """``paper_report.py`` next to this script (experiments/ is not a package)."""
    import importlib.util

    path = Path(__file__).with_name("paper_report.py")
    spec = importlib.util.spec_from_file_location("paper_report", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["paper_report"] = mod
    spec.loader.exec_module(mod)
    return mod


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/figures"), help="output directory")
    ap.add_argument("--quick", action="store_true", help="coarse grids, no CGBD (smoke test)")
    ap.add_argument(
        "--doc",
        type=Path,
        default=Path("docs/paper-reproduction.md"),
        help="write-up rendered from the JSON in --out (default docs/paper-reproduction.md)",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="only re-render the write-up from the JSON already in --out",
    )
    args = ap.parse_args(argv)
    report = _report_module()
    if args.report_only:
        args.doc.write_text(report.render(args.out))
        return 0
    summary = run(args.out, QUICK if args.quick else FULL)
    args.doc.write_text(report.render(args.out))
    keys = (
        "gamma_star",
        "sw_at_gamma_star",
        "dbr_sw_gain_pct_at_preset_gamma",
        "dbr_sw_gain_pct_at_gamma_star",
        "data_gain_vs_gca_pct_at_gamma_star",
        "data_gain_vs_gca_pct_max",
        "ir_gamma_intervals",
    )
    print(json.dumps(_jsonable({k: summary[k] for k in keys}), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
