"""Plots of the market experiment (matplotlib, Agg backend): one PNG per figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["METHOD_LABELS", "write_market_plots"]

METHOD_LABELS = {
    "local": "Local",
    "fedavg": "FedAvg",
    "fedprox": "FedProx",
    "ditto": "Ditto",
    "fedamp": "FedAMP-style",
    "cfl": "CFL-style",
    "fedfomo": "FedFomo-style",
    "pfedgraph": "pFedGraph-style",
    "market": "Market (iPFL)",
}
SPLITS = ("clusters", "dirichlet")


def _accuracy(ax: Any, result: dict[str, Any]) -> None:
    methods = list(METHOD_LABELS)
    width = 0.38
    for k, split in enumerate(SPLITS):
        vals = [[r["methods"][m]["mean_honest"] for r in result["runs"][split]] for m in methods]
        xs = np.arange(len(methods)) + (k - 0.5) * width
        ax.bar(
            xs,
            [np.mean(v) for v in vals],
            width,
            yerr=[np.std(v) for v in vals],
            capsize=3,
            label=split,
        )
    ax.set_xticks(np.arange(len(methods)))
    ax.set_xticklabels([METHOD_LABELS[m] for m in methods], rotation=30, ha="right")
    ax.set_ylabel("mean personalized test accuracy")
    lo = min(
        r["methods"][m]["mean_honest"] for s in SPLITS for r in result["runs"][s] for m in methods
    )
    ax.set_ylim(max(0.0, lo - 0.1), 1.0)
    ax.legend()


def _gain(ax: Any, result: dict[str, Any]) -> None:
    width = 0.38
    for k, split in enumerate(SPLITS):
        runs = result["runs"][split]
        g = np.array(
            [
                np.array(r["methods"]["market"]["final"]) - np.array(r["methods"]["local"]["final"])
                for r in runs
            ]
        )
        xs = np.arange(g.shape[1]) + (k - 0.5) * width
        ax.bar(xs, g.mean(axis=0), width, yerr=g.std(axis=0), capsize=3, label=split)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("silo")
    ax.set_ylabel("market accuracy - local accuracy")
    ax.legend()


def _graph(fig: Any, ax: Any, result: dict[str, Any]) -> None:
    r = result["runs"]["clusters"][0]
    led = r["methods"]["market"]["ledger"]
    freq = np.array(led["edges"]) / max(led["rounds"], 1)
    im = ax.imshow(freq, vmin=0, vmax=1, cmap="Blues")
    ax.set_xlabel("exporter j")
    ax.set_ylabel("importer i")
    ax.set_title(f"share of rounds i imports j (clusters, seed {r['seed']}; groups {r['groups']})")
    fig.colorbar(im, ax=ax)


def _payments(ax: Any, result: dict[str, Any]) -> None:
    r = result["runs"]["clusters"][0]["methods"]["market"]
    xs = np.arange(len(r["received"]))
    ax.bar(xs - 0.2, r["received"], 0.4, label="money received (- net payment)")
    ax.bar(xs + 0.2, r["true_utility"], 0.4, label="utility U_i")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("silo")
    ax.set_ylabel("sum over rounds (utility units)")
    ax.legend()


def _robust(ax: Any, result: dict[str, Any]) -> None:
    kinds = {
        "free_rider_no_rule": "2 free-riders\n(no rule)",
        "free_rider": "2 free-riders\n(distance-2 rule)",
        "sign_flip": "2 sign-flippers",
    }
    labels = ["clean market", "market, attacked", "FedAvg, attacked"]
    keys = ["honest_clean_market_acc", "honest_market_acc", "honest_fedavg_acc"]
    width = 0.27
    for k, key in enumerate(keys):
        vals = [[r[kind][key] for r in result["robustness"]] for kind in kinds]
        ax.bar(
            np.arange(len(kinds)) + (k - 1) * width,
            [np.mean(v) for v in vals],
            width,
            yerr=[np.std(v) for v in vals],
            capsize=3,
            label=labels[k],
        )
    ax.set_xticks(np.arange(len(kinds)))
    ax.set_xticklabels(list(kinds.values()))
    ax.set_ylabel("honest silos' mean accuracy")
    ax.set_ylim(0.0, 1.0)
    ax.legend(loc="lower right")


def _misreport(ax: Any, result: dict[str, Any]) -> None:
    cases = [
        ("size_x2_unbound", "size x2\nunbound"),
        ("size_x2_bound", "size x2\nbound"),
        ("size_x2_noisy_duplicates_bound", "size x2 noisy\ndups, bound"),
        ("cost_x2", "cost x2"),
    ]
    width = 0.38
    for k, (key, label) in enumerate(
        (("liar_received_gain", "money received"), ("liar_true_utility_gain", "true utility"))
    ):
        vals = [[m[c][key] for m in result["misreport"]] for c, _ in cases]
        ax.bar(
            np.arange(len(cases)) + (k - 0.5) * width,
            [np.mean(v) for v in vals],
            width,
            yerr=[np.std(v) for v in vals],
            capsize=3,
            label=f"liar's gain in {label}",
        )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(cases)))
    ax.set_xticklabels([label for _, label in cases])
    ax.set_ylabel("vs truthful, summed over rounds")
    ax.legend()


def write_market_plots(out: Path, result: dict[str, Any]) -> list[str]:
    """Write the figures into ``out``; returns their file names."""
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for name, draw, size in (
        ("market_accuracy.png", _accuracy, (10, 4.5)),
        ("market_gain_per_silo.png", _gain, (8, 4)),
        ("market_graph.png", None, (6.5, 5.5)),
        ("market_payments.png", _payments, (8, 4)),
        ("market_robustness.png", _robust, (8, 4.5)),
        ("market_misreport.png", _misreport, (8, 4.5)),
    ):
        fig, ax = plt.subplots(figsize=size)
        if draw is None:
            _graph(fig, ax, result)
        else:
            draw(ax, result)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        names.append(name)
    return names
