"""Plots of the cogen experiment (matplotlib, Agg backend): one PNG per figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from fl_node.experiments._cogen_game import LABELS, SCHEMES

__all__ = ["FIGURES", "write_cogen_plots"]

FIGURES = (
    "cogen_generation_heterogeneity.png",
    "cogen_schemes.png",
    "cogen_generation_competition.png",
    "cogen_welfare_redistribution.png",
    "cogen_fit.png",
)


def _mean_by_alpha(
    sweeps: list[dict[str, Any]], key: str, fn: Any
) -> dict[float, tuple[list[float], np.ndarray]]:
    """alpha -> (sweep values, mean over seeds of fn(point))."""
    out = {}
    for alpha in sorted({s["alpha"] for s in sweeps}):
        group = [s for s in sweeps if s["alpha"] == alpha]
        xs = [p[key] for p in group[0]["points"]]
        ys = np.mean([[fn(p) for p in s["points"]] for s in group], axis=0)
        out[alpha] = (xs, ys)
    return out


def write_cogen_plots(out: Path, result: dict[str, Any]) -> list[str]:
    """Write every figure into ``out``; return the file names written."""
    hetero = result["heterogeneity"]
    n_seeds = len({h["setting"]["seed"] for h in hetero})
    note = f"mean over {n_seeds} seed(s)"

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for seed in sorted({h["setting"]["seed"] for h in hetero}):
        rows = sorted(
            (h for h in hetero if h["setting"]["seed"] == seed),
            key=lambda h: h["setting"]["mean_delta"],
        )
        d = [h["setting"]["mean_delta"] for h in rows]
        for key, style in (("fixed-point", "o-"), ("blind", "s--")):
            axes[0].plot(
                d,
                [h["schemes"][key]["game"]["total_x"] for h in rows],
                style,
                label=f"{LABELS[key]}, seed {seed}",
            )
        for ax, field in zip(axes[1:], ("val_loss", "final_accuracy"), strict=True):
            sign = -1.0 if field == "val_loss" else 1.0
            ax.plot(
                d,
                [
                    sign
                    * (
                        h["schemes"]["fixed-point"]["training"][field]
                        - h["schemes"]["none"]["training"][field]
                    )
                    for h in rows
                ],
                "o-",
                label=f"seed {seed}",
            )
    axes[0].set(xlabel="mean heterogeneity delta", ylabel="total generation X (samples)")
    axes[1].set(xlabel="mean heterogeneity delta", ylabel="val. loss: no generation - equilibrium")
    axes[2].set(xlabel="mean heterogeneity delta", ylabel="accuracy: equilibrium - no generation")
    for ax in axes[1:]:
        ax.axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Generation vs heterogeneity (Dirichlet alpha sweep)")
    fig.tight_layout()
    fig.savefig(out / FIGURES[0], dpi=110)
    plt.close(fig)

    table = result["table"]
    alphas = sorted({r["alpha"] for r in table})
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    width = 0.8 / len(SCHEMES)
    for j, key in enumerate(SCHEMES):
        rows = [next(r for r in table if r["alpha"] == a and r["scheme"] == key) for a in alphas]
        pos = np.arange(len(alphas)) + (j - len(SCHEMES) / 2 + 0.5) * width
        for ax, field in zip(axes, ("total_x", "accuracy", "measured_welfare"), strict=True):
            ax.bar(pos, [r[field] for r in rows], width, label=LABELS[key])
    for ax, ylabel in zip(
        axes,
        ("total generation X", "final test accuracy", "measured welfare (money)"),
        strict=True,
    ):
        ax.set_xticks(np.arange(len(alphas)), [f"alpha={a:g}" for a in alphas])
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
    axes[1].set_ylim(bottom=max(0.0, min(r["accuracy"] for r in table) - 0.05))
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Schemes side by side ({note})")
    fig.tight_layout()
    fig.savefig(out / FIGURES[1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for alpha, (xs, ys) in _mean_by_alpha(
        result["competition"], "gamma", lambda p: p["game"]["total_x"]
    ).items():
        ax.plot(xs, ys, "o-", label=f"alpha={alpha:g}")
    ax.set(xlabel="competition intensity gamma", ylabel="equilibrium total generation X")
    ax.set_title(f"Generation vs competition ({note})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / FIGURES[2], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for alpha, (xs, ys) in _mean_by_alpha(
        result["redistribution"], "kappa", lambda p: p["game"]["social_welfare"]
    ).items():
        axes[0].plot(xs, ys, "o-", label=f"alpha={alpha:g}")
    for alpha, (xs, ys) in _mean_by_alpha(
        result["redistribution"], "kappa", lambda p: p["measured"]["welfare"]
    ).items():
        axes[1].plot(xs, ys, "o-", label=f"alpha={alpha:g}")
    axes[0].set(
        xlabel="redistribution intensity kappa", ylabel="social welfare (game, fitted loss)"
    )
    axes[1].set(xlabel="redistribution intensity kappa", ylabel="welfare with measured loss")
    for ax in axes:
        ax.set_xscale("symlog", linthresh=min(k for k in result["options"]["kappas"] if k > 0))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Welfare vs redistribution intensity ({note})")
    fig.tight_layout()
    fig.savefig(out / FIGURES[3], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 4))
    fit = result["fit"]
    pts = fit["points"]
    pred = [
        fit["e"]
        + fit["a"] * p["total_samples"] ** (-fit["b"])
        + fit["alpha_D"] * p["heterogeneity"]
        for p in pts
    ]
    ax.scatter([p["val_loss"] for p in pts], pred, s=14, label="probe runs (fitted)")
    sp = [v for h in hetero for v in h["schemes"].values()]
    ax.scatter(
        [v["training"]["val_loss"] for v in sp],
        [v["game"]["predicted_val_loss"] for v in sp],
        s=14,
        marker="x",
        label="scheme runs (predicted)",
    )
    lo = min(min(p["val_loss"] for p in pts), min(pred))
    hi = max(max(p["val_loss"] for p in pts), max(pred))
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.set(xlabel="measured validation loss", ylabel="fitted e + a N^-b + alpha_D H")
    ax.set_title(f"Loss fit: R^2 {fit['r2']:.3f}, status {fit['status']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / FIGURES[4], dpi=110)
    plt.close(fig)
    return list(FIGURES)
