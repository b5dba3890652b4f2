"""Plots of the schemes experiment (matplotlib, Agg backend): one PNG per figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from fl_node.experiments._schemes import COLORS
from solver import AccuracyFit, PaperAccuracy

__all__ = ["write_plots"]

FIGURES = (
    "schemes_data.png",
    "schemes_accuracy.png",
    "schemes_welfare.png",
    "schemes_data_gamma.png",
    "fit_accuracy.png",
    "fit_feedback.png",
)


def _bar_with_points(
    ax: Any, rows: list[dict[str, Any]], values: list[list[float]], ylabel: str
) -> None:
    xs = np.arange(len(rows))
    means = [float(np.mean(v)) for v in values]
    stds = [float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for v in values]
    ax.bar(
        xs,
        means,
        yerr=stds,
        capsize=4,
        color=[COLORS[r["scheme"]] for r in rows],
        alpha=0.75,
    )
    for x, v in zip(xs, values, strict=True):
        ax.scatter(np.full(len(v), x) + np.linspace(-0.15, 0.15, len(v)), v, s=12, c="k", zorder=3)
    ax.set_xticks(xs, [r["label"] for r in rows])
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)


def _per_seed(result: dict[str, Any], key: str, fn: Any) -> list[float]:
    return [float(fn(s["schemes"][key], s)) for s in result["seeds"]]


def write_plots(out: Path, result: dict[str, Any], fit: AccuracyFit | None) -> list[str]:
    """Write every figure into ``out``; return the file names written."""
    rows = result["table"]
    n_seeds = len(result["seeds"])
    written = []
    spread = f"mean ± std over {n_seeds} seed(s), dots = seeds"

    # -- data contributed (the paper's Fig. 12, data half, at gamma*) -------------------------
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    vals = [_per_seed(result, r["scheme"], lambda p, s: p["total_x"]) for r in rows]
    _bar_with_points(ax, rows, vals, "total data contributed Σ d_i s_i (samples)")
    ax.axhline(result["train_samples"], color="gray", ls=":", lw=1)
    ax.set_title(f"Data contributed at γ* (mean ± std, {n_seeds} seeds; dots = seeds)")
    fig.tight_layout()
    fig.savefig(out / FIGURES[0], dpi=120)
    plt.close(fig)
    written.append(FIGURES[0])

    # -- test accuracy per round (the paper's Fig. 15) ------------------------------------------
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for r in rows:
        m = np.array(r["accuracy_mean"])
        sd = np.array(r["accuracy_std"])
        rounds = np.arange(1, m.size + 1)
        style = "--" if r["scheme"] == "central" else "-"
        ax.plot(rounds, m, style, color=COLORS[r["scheme"]], label=r["label"], marker="o", ms=3)
        ax.fill_between(rounds, m - sd, m + sd, color=COLORS[r["scheme"]], alpha=0.12)
    ax.set_xlabel("FL round")
    ax.set_ylabel("test accuracy of the global model")
    ax.set_title(f"Test accuracy per round ({result['model']}, mean ± std over {n_seeds} seed(s))")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / FIGURES[1], dpi=120)
    plt.close(fig)
    written.append(FIGURES[1])

    # -- social welfare --------------------------------------------------------------------------
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    vals = [
        _per_seed(
            result,
            r["scheme"],
            lambda p, s: p["social_welfare"] - s["schemes"]["wpr"]["social_welfare"],
        )
        for r in rows
    ]
    _bar_with_points(ax, rows, vals, "SW − SW(WPR)  (payoff units)")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_title(f"Social welfare relative to WPR (mean ± std, {n_seeds} seeds; dots = seeds)")
    fig.tight_layout()
    fig.savefig(out / FIGURES[2], dpi=120)
    plt.close(fig)
    written.append(FIGURES[2])

    # -- data vs gamma (the paper's Fig. 12), per seed, with predicted accuracy -----------------
    fig, axes = plt.subplots(1, n_seeds, figsize=(4.2 * n_seeds + 0.6, 3.9), squeeze=False)
    for ax, s in zip(axes[0], result["seeds"], strict=True):
        sw = s["gamma_sweep"]
        g = np.array(sw["gammas"])
        for key in ("dbr", "gca", "fip"):
            if key in sw["total_x"] and key in s["schemes"]:
                ax.plot(g, sw["total_x"][key], color=COLORS[key], label=key.upper())
        for key in ("wpr", "tos"):
            ax.axhline(s["schemes"][key]["total_x"], color=COLORS[key], ls="--", label=key.upper())
        ax.axvline(s["gamma_star"], color="gray", ls="-.", lw=1)
        ax.set_xlabel("incentive intensity γ")
        ax.set_title(f"seed {s['seed']}: γ* = {s['gamma_star']:.3g} (dash-dot)", fontsize=10)
        ax.grid(alpha=0.3)
        if fit is not None:
            twin = ax.twinx()
            pred = fit.function.value(np.maximum(np.array(sw["total_x"]["dbr"]), 1.0))
            twin.plot(g, pred, color="tab:red", ls=":", lw=1.2)
            twin.set_ylabel("DBR accuracy predicted by the fitted P (red dotted)", fontsize=8)
            twin.tick_params(axis="y", labelsize=8, colors="tab:red")
    axes[0][0].set_ylabel("total data contributed (samples)")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / FIGURES[3], dpi=120)
    plt.close(fig)
    written.append(FIGURES[3])

    # -- the fit of P ------------------------------------------------------------------------------
    points = result["fit"]["points"]
    if fit is not None and points:
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        for src in sorted({p["source"] for p in points}):
            sel = [p for p in points if p["source"] == src]
            ax.scatter(
                [p["samples"] for p in sel],
                [p["accuracy"] for p in sel],  # the fit's target: mean of the last rounds
                s=22,
                color=COLORS.get(src, "gray"),
                label=src.upper() if src != "probe" else "probe (uniform d)",
                zorder=3,
            )
        w = np.linspace(
            max(1.0, min(p["samples"] for p in points) * 0.8), result["train_samples"], 200
        )
        f = result["fit"]["power"]
        ax.plot(
            w,
            fit.predict(w),
            "k-",
            label=(
                f"fit a − b X^−c: a={f['params']['a']:.3f}, b={f['params']['b']:.3g}, "
                f"c={f['params']['c']:.3f} (RMSE {f['rmse']:.3f})"
            ),
        )
        pf = result["fit"].get("paper", {})
        if "params" in pf:
            paper_fit = PaperAccuracy(pf["params"]["A0"], pf["params"]["G"])
            ax.plot(
                w,
                paper_fit.value(w),
                "k--",
                label=(
                    f"fit A0 − 1/√(XG) − 1/G: A0={pf['params']['A0']:.3f}, "
                    f"G={pf['params']['G']:.3g} (RMSE {pf['rmse']:.3f})"
                ),
            )
        g0 = result["seeds"][0]["game"]
        ax.plot(
            w,
            PaperAccuracy(g0["A0"], g0["G"]).value(w),
            color="gray",
            ls=":",
            label=f"game's prior P (A0={g0['A0']:g}, G={g0['G']:g})",
        )
        ax.set_xlabel("samples trained on, X = Σ d_i s_i")
        ax.set_ylabel(f"test accuracy, {result['fit']['target']}", fontsize=9)
        ax.set_title("Data-accuracy function P fitted to the measured runs")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower right")
        fig.tight_layout()
        fig.savefig(out / FIGURES[4], dpi=120)
        plt.close(fig)
        written.append(FIGURES[4])

    # -- equilibria with the fitted P --------------------------------------------------------------
    fb = result.get("feedback_table") or []
    if fb:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        xs = np.arange(len(fb))
        parts = (
            ("paper_P", "paper P (game's prior)"),
            ("same_gamma", "fitted P, same γ"),
            ("refit_gamma", "fitted P, γ* chosen again"),
        )
        width = 0.26
        for j, (part, label) in enumerate(parts):
            for ax, field in zip(axes, ("total_x", "welfare_minus_gca"), strict=True):
                means = [r[part][field]["mean"] for r in fb]
                stds = [r[part][field]["std"] for r in fb]
                ax.bar(xs + (j - 1) * width, means, width, yerr=stds, capsize=3, label=label)
        for ax, ylabel in zip(
            axes, ("total data contributed (samples)", "SW − SW(GCA) in the same game"), strict=True
        ):
            ax.set_xticks(xs, [r["label"] for r in fb])
            ax.set_ylabel(ylabel)
            ax.grid(axis="y", alpha=0.3)
        axes[1].axhline(0.0, color="k", lw=0.8)
        axes[0].legend(fontsize=8, loc="lower left")
        fig.suptitle(f"Equilibria with the prior P and with the fitted P ({spread.split(',')[0]})")
        fig.tight_layout()
        fig.savefig(out / FIGURES[5], dpi=120)
        plt.close(fig)
        written.append(FIGURES[5])
    return written
