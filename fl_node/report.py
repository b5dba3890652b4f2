"""The human report of a demo round: Markdown with PNG plots (accuracy, contributions, payoffs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_human_report"]

_ETH = 10**18


def _plots(out: Path, result: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    orgs = result["orgs"]
    names = [o["name"] for o in orgs]
    files = []

    fig, ax = plt.subplots(figsize=(5, 3.2))
    rounds = list(range(1, len(result["accuracy"]) + 1))
    ax.plot(rounds, result["accuracy"], marker="o")
    ax.set_xlabel("FL round")
    ax.set_ylabel("test accuracy")
    ax.set_title("Global model accuracy per round")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=110)
    plt.close(fig)
    files.append("accuracy.png")

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.bar(names, [o["x"] for o in orgs], label="x = d s (samples)")
    ax.set_ylabel("contributed samples")
    ax.set_title("Contributions chosen by best response")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(out / "contributions.png", dpi=110)
    plt.close(fig)
    files.append("contributions.png")

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    r_eth = [o["R_wei"] / _ETH for o in orgs]
    ax.bar(names, r_eth, color=["tab:green" if v >= 0 else "tab:red" for v in r_eth])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("R_i (ETH)")
    ax.set_title("On-chain redistribution (sums to zero)")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(out / "payoffs.png", dpi=110)
    plt.close(fig)
    files.append("payoffs.png")
    return files


def write_human_report(out: Path, result: dict[str, Any]) -> Path:
    """Write ``report.md`` (and its plots) into ``out`` from the demo's report; return its path."""
    plots = _plots(out, result)
    eq = result["equilibrium"]
    phase_seconds = float(result["strategy_phase"]["seconds"])
    lines = [
        f"# fedsettle demo round {result['round_id']}",
        "",
        f"- FL rounds: {len(result['accuracy'])}; final test accuracy "
        f"**{result['accuracy'][-1]:.4f}** (loss {result['loss'][-1]:.4f}); the same model trained "
        f"centrally for as many passes: {result['centralized_accuracy']:.4f}",
        f"- Strategy phase: converged={eq['converged']} in {eq['sweeps']} sweeps "
        f"({eq['queries']} best-response queries, {phase_seconds * 1e3:.1f} ms); Nash "
        f"equilibrium: {eq['is_nash']}; potential {eq['potential']:.6g}; social welfare "
        f"{eq['social_welfare']:.6g}",
        f"- Budget balance on chain: sum R_i = {result['sum_R_wei']} wei; deposits "
        f"{result['sum_deposits_wei']} wei = payouts {result['sum_payouts_wei']} wei",
        f"- Gas used by the round: {result['gas']['total']:,}",
        f"- Payoff digest: `{result['payoff_digest']}`",
        "",
        "| silo | address | d | f (samples/s) | x | c | R (wei) | payout (wei) | payoff C_i | IR |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in result["orgs"]:
        lines.append(
            f"| {o['name']} | `{o['address'][:10]}…` | {o['d']:.3f} | {o['f']:.0f} | "
            f"{o['x']:.1f} | {o['c']:.1f} | {o['R_wei']} | {o['payout_wei']} | "
            f"{o['payoff']:.4g} | {'yes' if o['individually_rational'] else 'no'} |"
        )
    lines += ["", *[f"![{p}]({p})" for p in plots], ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
