"""Aggregation over seeds (mean and spread), the paper's headline ratios, and the Markdown table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fl_node.experiments._schemes import LABELS, SCHEMES

__all__ = ["aggregate", "claims", "feedback_table", "markdown_table"]


def _stats(values: Sequence[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    return {
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "min": float(a.min()),
        "max": float(a.max()),
    }


def _present(seeds: Sequence[dict[str, Any]]) -> list[str]:
    return [k for k in SCHEMES if all(k in s["schemes"] for s in seeds)]


def scheme_label(seeds: Sequence[dict[str, Any]], key: str) -> str:
    """Display label; for the centralized optimum, which algorithm(s) actually ran."""
    if key != "central":
        return LABELS[key]
    algs = sorted({s["schemes"][key]["algorithm"] for s in seeds})
    return " / ".join("CGBD" if a == "cgbd" else "Exact" for a in algs)


def aggregate(seeds: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per scheme: contributed data, accuracy, welfare and checks over the seeds."""
    rows = []
    for key in _present(seeds):
        per = [s["schemes"][key] for s in seeds]
        gca = [s["schemes"]["gca"] for s in seeds]
        wpr = [s["schemes"]["wpr"] for s in seeds]
        curves = np.array([p["training"]["accuracy"] for p in per], dtype=float)
        rows.append(
            {
                "scheme": key,
                "label": scheme_label(seeds, key),
                "total_x": _stats([p["total_x"] for p in per]),
                "total_d": _stats([p["total_d"] for p in per]),
                "samples_trained": _stats([p["training"]["total_samples"] for p in per]),
                "final_accuracy": _stats([p["training"]["accuracy"][-1] for p in per]),
                "last3_accuracy": _stats(
                    [float(np.mean(p["training"]["accuracy"][-3:])) for p in per]
                ),
                "social_welfare": _stats([p["social_welfare"] for p in per]),
                "welfare_minus_wpr": _stats(
                    [
                        p["social_welfare"] - w["social_welfare"]
                        for p, w in zip(per, wpr, strict=True)
                    ]
                ),
                "welfare_minus_gca": _stats(
                    [
                        p["social_welfare"] - g["social_welfare"]
                        for p, g in zip(per, gca, strict=True)
                    ]
                ),
                "nash": sum(bool(p["is_nash"]) for p in per),
                "feasible": sum(bool(p["feasible"]) for p in per),
                "all_ir": sum(all(p["individually_rational"]) for p in per),
                "seeds": len(per),
                "accuracy_mean": curves.mean(axis=0).tolist(),
                "accuracy_std": (
                    curves.std(axis=0, ddof=1) if len(per) > 1 else np.zeros(curves.shape[1])
                ).tolist(),
            }
        )
    return rows


def claims(seeds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """DBR versus GCA per seed: relative data and final-accuracy gains (the paper's 64%, 23.2%)."""
    data, acc, pts = [], [], []
    for s in seeds:
        d, g = s["schemes"]["dbr"], s["schemes"]["gca"]
        data.append(d["total_x"] / g["total_x"] - 1.0)
        ad, ag = d["training"]["accuracy"][-1], g["training"]["accuracy"][-1]
        acc.append(ad / ag - 1.0)
        pts.append(ad - ag)
    return {
        "dbr_vs_gca_data": {"per_seed": data, **_stats(data)},
        "dbr_vs_gca_accuracy_relative": {"per_seed": acc, **_stats(acc)},
        "dbr_vs_gca_accuracy_points": {"per_seed": pts, **_stats(pts)},
        "paper": {"data_up_to": 0.64, "accuracy_up_to": 0.232},
    }


def feedback_table(
    seeds: Sequence[dict[str, Any]], feedback: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per scheme: contributed data and welfare gain over GCA under the paper's P and the fit."""
    if not feedback:
        return []
    rows = []
    for key in _present(seeds):
        row: dict[str, Any] = {"scheme": key, "label": scheme_label(seeds, key)}
        row["paper_P"] = {
            "total_x": _stats([s["schemes"][key]["total_x"] for s in seeds]),
            "welfare_minus_gca": _stats(
                [
                    s["schemes"][key]["social_welfare"] - s["schemes"]["gca"]["social_welfare"]
                    for s in seeds
                ]
            ),
            "nash": sum(bool(s["schemes"][key]["is_nash"]) for s in seeds),
        }
        for part in ("same_gamma", "refit_gamma"):
            per = [f[part] for f in feedback]
            row[part] = {
                "total_x": _stats([p[key]["total_x"] for p in per]),
                "welfare_minus_gca": _stats(
                    [p[key]["social_welfare"] - p["gca"]["social_welfare"] for p in per]
                ),
                "nash": sum(bool(p[key]["is_nash"]) for p in per),
            }
        rows.append(row)
    return rows


def _pm(st: dict[str, float], fmt: str) -> str:
    return f"{st['mean']:{fmt}} ± {st['std']:{fmt}}"


def markdown_table(result: dict[str, Any]) -> str:
    """The results table (and the feedback table) as Markdown."""
    n = len(result["seeds"])
    lines = [
        f"Mean ± standard deviation over {n} seed(s); "
        f"{result['options']['rounds']} FL rounds; {result['options']['orgs']} silos.",
        "",
        "| scheme | data contributed (samples) | Σ d_i | final test accuracy | "
        "mean acc. last 3 rounds | social welfare | SW − SW(GCA) | Nash | deadline met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["table"]:
        lines.append(
            f"| {r['label']} | {_pm(r['total_x'], '.0f')} | {_pm(r['total_d'], '.2f')} | "
            f"{_pm(r['final_accuracy'], '.4f')} | {_pm(r['last3_accuracy'], '.4f')} | "
            f"{_pm(r['social_welfare'], '.1f')} | {_pm(r['welfare_minus_gca'], '.2f')} | "
            f"{r['nash']}/{r['seeds']} | {r['feasible']}/{r['seeds']} |"
        )
    c = result["claims"]
    lines += [
        "",
        "DBR vs GCA per seed: data "
        + ", ".join(f"{v:+.1%}" for v in c["dbr_vs_gca_data"]["per_seed"])
        + "; final accuracy "
        + ", ".join(f"{v:+.1%}" for v in c["dbr_vs_gca_accuracy_relative"]["per_seed"])
        + " (paper: data up to +64%, accuracy up to +23.2%).",
    ]
    fb = result.get("feedback_table") or []
    if fb:
        lines += [
            "",
            "Equilibria with the fitted P (solver only): total data contributed, and SW − SW(GCA)"
            " in each game.",
            "",
            "| scheme | data, paper P | data, fitted P (same γ) | data, fitted P (γ* again) | "
            "SW − SW(GCA), paper P | SW − SW(GCA), fitted P (same γ) | "
            "SW − SW(GCA), fitted P (γ* again) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in fb:
            lines.append(
                f"| {r['label']} | {_pm(r['paper_P']['total_x'], '.0f')} | "
                f"{_pm(r['same_gamma']['total_x'], '.0f')} | "
                f"{_pm(r['refit_gamma']['total_x'], '.0f')} | "
                f"{_pm(r['paper_P']['welfare_minus_gca'], '.2f')} | "
                f"{_pm(r['same_gamma']['welfare_minus_gca'], '.2f')} | "
                f"{_pm(r['refit_gamma']['welfare_minus_gca'], '.2f')} |"
            )
    return "\n".join(lines) + "\n"
