"""``fedsettle experiment schemes``: the schemes' strategies, real FL training, the fit of P.

Per seed: build the silos and the consortium game, pick gamma* (DBR's welfare-maximizing gamma on
a grid), solve every scheme, train contribution-weighted FedAvg with each scheme's strategies, and
train a few uniform-fraction probe runs. Then fit P from all distinct runs, solve the schemes
again with the fitted P, aggregate over seeds, and write the JSON, the table and the plots.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fl_node.data import get_source
from fl_node.experiments._feedback import (
    SMOOTH_ROUNDS,
    FitPoint,
    feedback,
    fit_summary,
    try_fit,
)
from fl_node.experiments._schemes import LABELS, SCHEMES, scheme_strategies, sweep_gamma
from fl_node.experiments._setting import SchemesOptions, build_setting
from fl_node.experiments._summary import aggregate, claims, feedback_table, markdown_table
from fl_node.experiments._training import TrainingCache

__all__ = ["run_schemes"]

Progress = Callable[[str], None]


def _options_dict(opts: SchemesOptions) -> dict[str, Any]:
    raw = asdict(opts)
    raw["out"] = str(opts.out)
    raw["probes"] = list(opts.probes)
    raw["rho_mean"] = opts.rho_mean
    return raw


def run_schemes(opts: SchemesOptions, progress: Progress = print) -> dict[str, Any]:
    """Run the experiment and write ``schemes.json``, ``schemes_table.md`` and the plots.

    Parameters
    ----------
    opts
        Options; ``opts.quick`` shrinks them (see :meth:`SchemesOptions.effective`).
    progress
        Receives one line per step.

    Returns
    -------
    dict
        The content of ``schemes.json``.
    """
    started = time.perf_counter()
    opts = opts.effective()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = _run(opts, progress, started)
    finally:
        torch.set_num_threads(threads_before)
    return result


def _run(opts: SchemesOptions, progress: Progress, started: float) -> dict[str, Any]:
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    split = get_source(opts.dataset).split(test_fraction=0.25, seed=0)
    gammas = np.linspace(0.0, opts.gamma_max, opts.gamma_points)
    cache = TrainingCache()
    seeds_out: list[dict[str, Any]] = []
    points: list[FitPoint] = []
    settings = []
    timings = {"solve": 0.0, "train": 0.0, "fit_feedback": 0.0}
    for k in range(opts.seeds):
        seed = opts.first_seed + k
        setting = build_setting(opts, split, seed)
        settings.append(setting)
        t0 = time.perf_counter()
        sweep = sweep_gamma(setting.game, gammas)
        gamma = sweep.best if opts.gamma is None else float(opts.gamma)
        game = setting.game.replace(gamma=gamma)
        strategies = scheme_strategies(game, fip=opts.fip, cgbd_max_profiles=opts.cgbd_max_profiles)
        timings["solve"] += time.perf_counter() - t0
        progress(
            f"[seed {seed}] {opts.orgs} silos, sizes {setting.sizes}, label skew "
            f"{setting.label_skew:.2f}; gamma* = {gamma:.4g}; central = "
            f"{strategies['central'].algorithm}"
        )
        t0 = time.perf_counter()
        schemes: dict[str, Any] = {}
        for key, strat in strategies.items():
            run, reused = cache.get_or_train(
                setting.silos,
                setting.test,
                setting.meta,
                strat.d,
                strat.x,
                rounds=opts.rounds,
                epochs=opts.epochs,
                lr=opts.lr,
                seed=seed,
            )
            if not reused:
                points.append(FitPoint.from_curve(seed, key, run.total_samples, run.accuracy))
            schemes[key] = {**strat.summary(), "training": run.to_dict(), "reused_run": reused}
            progress(
                f"[seed {seed}] {LABELS[key]:>12}: {run.total_samples:4d} samples, "
                f"SW {strat.result.social_welfare:.2f}, final accuracy {run.accuracy[-1]:.4f}"
                + (" (same profile as an earlier scheme)" if reused else f", {run.seconds:.1f} s")
            )
        probes = []
        n = len(setting.silos)
        s = np.array(setting.sizes, dtype=float)
        for d in opts.probes:
            run, reused = cache.get_or_train(
                setting.silos,
                setting.test,
                setting.meta,
                [d] * n,
                list(d * s),
                rounds=opts.rounds,
                epochs=opts.epochs,
                lr=opts.lr,
                seed=seed,
            )
            if not reused:
                points.append(FitPoint.from_curve(seed, "probe", run.total_samples, run.accuracy))
            probes.append({"d": d, "training": run.to_dict()})
            progress(
                f"[seed {seed}]  probe d={d}: {run.total_samples:4d} samples, final accuracy "
                f"{run.accuracy[-1]:.4f}"
            )
        timings["train"] += time.perf_counter() - t0
        seeds_out.append(
            {
                "seed": seed,
                "sizes": setting.sizes,
                "label_skew": setting.label_skew,
                "histograms": setting.histograms,
                "gamma_star": gamma,
                "gamma_sweep": {
                    "gammas": sweep.gammas.tolist(),
                    "welfare": sweep.welfare.tolist(),
                    "total_x": {k2: v.tolist() for k2, v in sweep.total_x.items()},
                },
                "game": _game_dict(game),
                "schemes": schemes,
                "probes": probes,
            }
        )

    t0 = time.perf_counter()
    fits: dict[str, Any] = {}
    power = try_fit(points, form="power")
    paper = try_fit(points, form="paper")
    schemes_only = try_fit(points, form="power", sources=SCHEMES)
    final = try_fit(points, form="power", final=True)
    for name, fit in (
        ("power", power),
        ("paper", paper),
        ("power_schemes_only", schemes_only),
        ("power_final_round", final),
    ):
        fits[name] = fit_summary(fit) if not isinstance(fit, str) else {"error": fit}
    fits["points"] = [asdict(p) for p in points]
    fits["target"] = f"mean test accuracy of the last {SMOOTH_ROUNDS} rounds"
    fb: list[dict[str, Any]] = []
    if not isinstance(power, str):
        for setting, seed_out in zip(settings, seeds_out, strict=True):
            profiles = {
                k: (np.array(v["d"]), np.array(v["f"])) for k, v in seed_out["schemes"].items()
            }
            fb.append(
                {
                    "seed": seed_out["seed"],
                    **feedback(
                        setting.game,
                        seed_out["gamma_star"],
                        power,
                        gammas,
                        fip=opts.fip,
                        cgbd_max_profiles=opts.cgbd_max_profiles,
                        profiles=profiles,
                    ),
                }
            )
        progress(
            f"[fit] P(X) = a - b X^-c: a={power.params['a']:.4f} b={power.params['b']:.4g} "
            f"c={power.params['c']:.4f}; RMSE {power.rmse:.4f}, R^2 {power.r2:.3f} "
            f"({power.n_points} runs)"
        )
    else:
        progress(f"[fit] not fitted: {power}")
    timings["fit_feedback"] += time.perf_counter() - t0

    table = aggregate(seeds_out)
    result: dict[str, Any] = {
        "experiment": "schemes",
        "options": _options_dict(opts),
        "model": type(_model_for(settings[0])).__name__,
        "test_samples": len(split.test),
        "train_samples": len(split.train),
        "seeds": seeds_out,
        "table": table,
        "claims": claims(seeds_out),
        "fit": fits,
        "feedback": fb,
        "feedback_table": feedback_table(seeds_out, fb),
        "training_runs": {"distinct": len(points), "reused": cache.hits},
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "platform": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": 1,
        },
    }
    t0 = time.perf_counter()
    from fl_node.experiments._plots import write_plots

    result["figures"] = write_plots(out, result, power if not isinstance(power, str) else None)
    result["timings_s"]["plots"] = round(time.perf_counter() - t0, 2)
    result["timings_s"]["total"] = round(time.perf_counter() - started, 2)
    (out / "schemes.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (out / "schemes_table.md").write_text(markdown_table(result), encoding="utf-8")
    progress(f"[done] {result['timings_s']['total']:.1f} s; outputs in {out}/")
    return result


def _model_for(setting: Any) -> Any:
    from fl_node.models import build_model

    return build_model(setting.meta, "auto", seed=0)


def _game_dict(game: Any) -> dict[str, Any]:
    return {
        "tau": game.tau,
        "gamma": game.gamma,
        "lam": game.lam,
        "w_e": game.w_e,
        "kappa": game.kappa,
        "G": game.G,
        "A0": game.A0,
        "D_min": game.D_min,
        "orgs": [
            {
                "name": o.name,
                "s": o.s,
                "p": o.p,
                "F": list(o.F),
                "eta": o.eta,
                "T1": o.T1,
                "T3": o.T3,
            }
            for o in game.orgs
        ],
        "rho_mean": float(np.asarray(game.rho_dense())[~np.eye(game.n, dtype=bool)].mean()),
    }
