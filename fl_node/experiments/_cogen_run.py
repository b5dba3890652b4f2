"""``fedsettle experiment cogen``: generators, real FL training, loss fit, equilibrium sweeps.

1. Settings: for every (alpha, seed), silos with Dirichlet(alpha) label skew; each silo trains its
   generator on its own data; D_i, delta_i, c_i (measured cost) and the quality are recorded.
2. Probes: every silo generates ``f x_i^max`` for each probe level f; the runs give the points
   (N, H, validation loss) from which a, b, alpha_D are fitted (:func:`fl_node.cogen.fit_loss`).
3. Heterogeneity sweep: at (gamma, kappa), every scheme of :mod:`solver.cogen` (equilibrium and
   the baselines) is solved in each setting's game and its profile trained for real.
4. Competition sweep (gamma) and redistribution sweep (kappa): the equilibrium is solved and
   trained for each value, in every setting.

Every profile is scored by the game (fitted loss) and by the run (measured accuracy, loss and
welfare). Writes ``cogen.json`` and the PNG plots to ``opts.out``.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from fl_node.cogen import LossFit, fit_loss
from fl_node.data import get_source
from fl_node.experiments._cogen_game import (
    LABELS,
    SCHEMES,
    build_game,
    measured_welfare,
    solve_schemes,
)
from fl_node.experiments._cogen_setting import (
    CogenOptions,
    CogenSetting,
    build_cogen_setting,
    split_validation,
)
from fl_node.experiments._cogen_training import CogenRun, CogenTrainer
from solver.cogen import CogenResult, solve

__all__ = ["direction", "markdown_table", "run_cogen"]

Progress = Callable[[str], None]


def direction(values: list[float], rtol: float = 1e-6) -> str:
    """``increasing``, ``decreasing``, ``constant`` or ``non-monotonic`` (differences beyond
    ``rtol`` of the largest magnitude count)."""
    v = np.asarray(values, dtype=float)
    tol = rtol * max(1.0, float(np.max(np.abs(v)))) if v.size else 0.0
    d = np.diff(v)
    up, down = bool(np.any(d > tol)), bool(np.any(d < -tol))
    if up and down:
        return "non-monotonic"
    return "increasing" if up else "decreasing" if down else "constant"


def run_cogen(opts: CogenOptions, progress: Progress = print) -> dict[str, Any]:
    """Run the experiment; write ``cogen.json`` and the plots; return the JSON content."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(opts, progress)
    finally:
        torch.set_num_threads(threads)


def _profile(
    setting: CogenSetting,
    fit: LossFit,
    opts: CogenOptions,
    result: CogenResult,
    run: CogenRun,
    none: CogenRun,
) -> dict[str, Any]:
    return {
        "game": {
            "x": [float(v) for v in result.x],
            "total_x": result.total,
            "social_welfare": float(result.social_welfare),
            "payoffs": [float(v) for v in result.payoffs],
            "redistribution": [float(v) for v in result.redistribution],
            "is_nash": bool(result.is_nash),
            "ir": [bool(v) for v in result.individually_rational],
            "predicted_val_loss": float(fit.predict(run.total, run.heterogeneity)),
        },
        "training": run.to_dict(),
        "measured": measured_welfare(
            setting,
            fit,
            opts,
            loss_none=none.val_loss,
            loss=run.val_loss,
            delta_mixed=run.delta_mixed,
            x=run.x,
        ),
    }


def _run(opts: CogenOptions, progress: Progress) -> dict[str, Any]:
    started = time.perf_counter()
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    split = get_source("digits").split(test_fraction=0.25, seed=0)
    validation, test = split_validation(split.test)
    trainer = CogenTrainer(opts, validation, test)
    timings = {"generators": 0.0, "probes": 0.0, "sweeps": 0.0}

    settings: list[CogenSetting] = []
    for alpha in opts.alphas:
        for seed in opts.seeds:
            t0 = time.perf_counter()
            s = build_cogen_setting(opts, split, test, alpha, seed)
            timings["generators"] += time.perf_counter() - t0
            settings.append(s)
            progress(
                f"[alpha {alpha:g} seed {seed}] D {s.D}, delta "
                f"{[round(d, 2) for d in s.delta]}, c {[round(c.c, 4) for c in s.costs]}, "
                f"quality {[round(q.relative_quality, 2) for q in s.quality]}"
            )

    t0 = time.perf_counter()
    probe_runs: list[dict[str, Any]] = []
    for s in settings:
        for f in opts.probes:
            run = trainer.train(s, [f * m for m in s.x_max])
            probe_runs.append({"alpha": s.alpha, "seed": s.seed, "level": f, **run.to_dict()})
        progress(
            f"[alpha {s.alpha:g} seed {s.seed}] probes: "
            + ", ".join(
                f"f={r['level']:g} loss {r['val_loss']:.4f}"
                for r in probe_runs[-len(opts.probes) :]
            )
        )
    fit = fit_loss(
        [r["total_samples"] for r in probe_runs],
        [r["heterogeneity"] for r in probe_runs],
        [r["val_loss"] for r in probe_runs],
    )
    timings["probes"] = time.perf_counter() - t0
    progress(
        f"[fit] loss = {fit.e:.4f} + {fit.a:.4g} N^-{fit.b:.4f} + {fit.alpha_D:.4f} H; "
        f"R^2 {fit.r2:.3f}, status {fit.status} ({fit.n_points} runs)"
    )
    if not fit.usable:  # CogenOptions guarantees enough points; this guards the invariant
        raise RuntimeError(f"the loss fit has too few points ({fit.n_points})")

    t0 = time.perf_counter()
    hetero: list[dict[str, Any]] = []
    gamma_sweep: list[dict[str, Any]] = []
    kappa_sweep: list[dict[str, Any]] = []
    for s in settings:
        none_run = trainer.train(s, [0] * len(s.silos))
        game = build_game(s, fit, opts, gamma=opts.gamma, kappa=opts.kappa)
        schemes = {}
        for key, res in solve_schemes(game, seed=s.seed).items():
            schemes[key] = _profile(s, fit, opts, res, trainer.train(s, res.x), none_run)
        hetero.append({"setting": s.summary(), "schemes": schemes})
        eq = schemes["fixed-point"]
        progress(
            f"[alpha {s.alpha:g} seed {s.seed}] equilibrium X {eq['game']['total_x']:.0f}, "
            f"accuracy {eq['training']['final_accuracy']:.4f} (none "
            f"{none_run.accuracy[-1]:.4f}), welfare game {eq['game']['social_welfare']:.2f} "
            f"measured {eq['measured']['welfare']:.2f}"
        )
        for name, values, sweep in (
            ("gamma", opts.gammas, gamma_sweep),
            ("kappa", opts.kappas, kappa_sweep),
        ):
            rows = []
            for v in values:
                params = {"gamma": opts.gamma, "kappa": opts.kappa, name: v}
                res = solve(build_game(s, fit, opts, **params), "fixed-point")
                run = trainer.train(s, res.x)
                rows.append({name: v, **_profile(s, fit, opts, res, run, none_run)})
            sweep.append({"alpha": s.alpha, "seed": s.seed, "points": rows})
    timings["sweeps"] = time.perf_counter() - t0

    result: dict[str, Any] = {
        "experiment": "cogen",
        "formulation": "the project's formulation after seed papers 000/001 (spec section 2)",
        "options": opts.to_dict(),
        "labels": LABELS,
        "fit": {**fit.to_dict(), "points": probe_runs, "validation": _fit_check(hetero, fit)},
        "generators": _generator_summary(settings, opts),
        "heterogeneity": hetero,
        "competition": gamma_sweep,
        "redistribution": kappa_sweep,
        "findings": _findings(hetero, gamma_sweep, kappa_sweep),
        "table": _table(hetero),
        "training_runs": {"distinct": trainer.distinct, "reused": trainer.hits},
        "platform": {"python": platform.python_version(), "torch": torch.__version__},
    }
    from fl_node.experiments._cogen_plots import write_cogen_plots

    result["figures"] = write_cogen_plots(out, result)
    timings["total"] = time.perf_counter() - started
    result["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
    (out / "cogen.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "cogen_table.md").write_text(markdown_table(result), encoding="utf-8")
    progress(
        f"[done] {timings['total']:.1f} s, {trainer.distinct} training runs; outputs in {out}/"
    )
    return result


def _generator_summary(settings: list[CogenSetting], opts: CogenOptions) -> dict[str, Any]:
    """Measured cost and quality over every silo, next to the quality weight q of the score."""
    costs = [c for s in settings for c in s.costs]
    qual = [q for s in settings for q in s.quality]
    return {
        "kind": opts.generator,
        "price_per_cpu_second": opts.price,
        "c_mean": float(np.mean([c.c for c in costs])),
        "c_range": [float(min(c.c for c in costs)), float(max(c.c for c in costs))],
        "fit_cpu_seconds_mean": float(np.mean([c.fit_cpu_seconds for c in costs])),
        "q": opts.q,
        "relative_quality_mean": float(np.mean([q.relative_quality for q in qual])),
        "relative_quality_range": [
            float(min(q.relative_quality for q in qual)),
            float(max(q.relative_quality for q in qual)),
        ],
        "synthetic_accuracy_seen_mean": float(np.mean([q.synthetic_accuracy_seen for q in qual])),
        "real_accuracy_seen_mean": float(np.mean([q.real_accuracy_seen for q in qual])),
    }


def _fit_check(hetero: list[dict[str, Any]], fit: LossFit) -> dict[str, Any]:
    """How well the fit (from the probes) predicts the loss of the schemes' runs."""
    pred, meas = [], []
    for h in hetero:
        for v in h["schemes"].values():
            pred.append(v["game"]["predicted_val_loss"])
            meas.append(v["training"]["val_loss"])
    err = np.subtract(pred, meas)
    return {"runs": len(err), "rmse": float(np.sqrt(np.mean(err**2))), "bias": float(err.mean())}


def _findings(
    hetero: list[dict[str, Any]], gammas: list[dict[str, Any]], kappas: list[dict[str, Any]]
) -> dict[str, Any]:
    """The direction of each effect, per seed (and per alpha for the sweeps)."""
    seeds = sorted({h["setting"]["seed"] for h in hetero})
    out: dict[str, Any] = {
        "generation_vs_heterogeneity": [],
        "loss_reduction_vs_heterogeneity": [],
        "accuracy_gain_vs_heterogeneity": [],
    }
    for seed in seeds:
        rows = sorted(
            (h for h in hetero if h["setting"]["seed"] == seed),
            key=lambda h: h["setting"]["mean_delta"],
        )
        deltas = [h["setting"]["mean_delta"] for h in rows]
        xs = [h["schemes"]["fixed-point"]["game"]["total_x"] for h in rows]
        gain = [
            h["schemes"]["fixed-point"]["training"]["final_accuracy"]
            - h["schemes"]["none"]["training"]["final_accuracy"]
            for h in rows
        ]
        drop = [
            h["schemes"]["none"]["training"]["val_loss"]
            - h["schemes"]["fixed-point"]["training"]["val_loss"]
            for h in rows
        ]
        out["generation_vs_heterogeneity"].append(
            {"seed": seed, "mean_delta": deltas, "total_x": xs, "direction": direction(xs)}
        )
        out["loss_reduction_vs_heterogeneity"].append(
            {"seed": seed, "mean_delta": deltas, "reduction": drop, "direction": direction(drop)}
        )
        out["accuracy_gain_vs_heterogeneity"].append(
            {"seed": seed, "mean_delta": deltas, "gain": gain, "direction": direction(gain)}
        )
    out["generation_vs_competition"] = [
        {
            "alpha": g["alpha"],
            "seed": g["seed"],
            "total_x": [p["game"]["total_x"] for p in g["points"]],
            "direction": direction([p["game"]["total_x"] for p in g["points"]]),
        }
        for g in gammas
    ]
    out["welfare_vs_redistribution"] = [
        {
            "alpha": k["alpha"],
            "seed": k["seed"],
            "game_welfare": [p["game"]["social_welfare"] for p in k["points"]],
            "measured_welfare": [p["measured"]["welfare"] for p in k["points"]],
            "game_direction": direction([p["game"]["social_welfare"] for p in k["points"]]),
            "measured_direction": direction([p["measured"]["welfare"] for p in k["points"]]),
        }
        for k in kappas
    ]
    return out


def _table(hetero: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per alpha and scheme: means over seeds of generation, welfare and accuracy."""
    rows = []
    for alpha in sorted({h["setting"]["alpha"] for h in hetero}):
        group = [h for h in hetero if h["setting"]["alpha"] == alpha]
        for key in SCHEMES:
            vals = [h["schemes"][key] for h in group]
            rows.append(
                {
                    "alpha": alpha,
                    "scheme": key,
                    "label": LABELS[key],
                    "mean_delta": float(np.mean([h["setting"]["mean_delta"] for h in group])),
                    "total_x": float(np.mean([v["game"]["total_x"] for v in vals])),
                    "game_welfare": float(np.mean([v["game"]["social_welfare"] for v in vals])),
                    "measured_welfare": float(np.mean([v["measured"]["welfare"] for v in vals])),
                    "accuracy": float(np.mean([v["training"]["final_accuracy"] for v in vals])),
                    "val_loss": float(np.mean([v["training"]["val_loss"] for v in vals])),
                    "nash": all(v["game"]["is_nash"] for v in vals),
                }
            )
    return rows


def markdown_table(result: dict[str, Any]) -> str:
    """The schemes table of ``cogen.json`` as Markdown (means over seeds, per alpha)."""
    lines = [
        "| alpha | mean delta | scheme | total X | welfare (game) | welfare (measured) "
        "| accuracy | val. loss | Nash |",
        "|---:|---:|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in result["table"]:
        lines.append(
            f"| {r['alpha']:g} | {r['mean_delta']:.2f} | {r['label']} | {r['total_x']:.0f} "
            f"| {r['game_welfare']:.1f} | {r['measured_welfare']:.1f} | {r['accuracy']:.4f} "
            f"| {r['val_loss']:.4f} | {'yes' if r['nash'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"
