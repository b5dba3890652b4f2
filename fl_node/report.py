"""The human report of a demo round: Markdown with PNG plots, in the round mechanism's terms.

The common parts (strategy phase, budget balance, gas, payoff digest) are the same for every
mechanism; the accuracy line, the per-silo table's columns and the plots come from the
mechanism's :class:`ReportView` (its ``report_view`` attribute; TradeFL's is
:data:`TRADEFL_VIEW`, cogen's is :data:`fl_node.mechanisms.cogen.COGEN_VIEW`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "IDENTITY_COLUMNS",
    "MONEY_COLUMNS",
    "TRADEFL_VIEW",
    "ReportView",
    "bar_plot",
    "payoff_plot",
    "result_asset",
    "write_human_report",
]

_ETH = {"symbol": "ETH", "decimals": 18, "token": None}


def result_asset(result: dict[str, Any]) -> dict[str, Any]:
    """The round's settlement asset (symbol, decimals, token address or None for ETH)."""
    return dict(result.get("asset") or _ETH)


Row = dict[str, Any]


@dataclass(frozen=True)
class ReportView:
    """What a mechanism puts in ``report.md``.

    Attributes
    ----------
    accuracy_line : callable
        ``(result) -> str``: the first bullet (the trained model's accuracy).
    columns : sequence of (header, cell)
        The per-silo table: ``cell(org_row) -> str``.
    plots : callable
        ``(out, result, plt) -> [file names]``: writes PNGs into ``out`` with matplotlib's
        ``pyplot`` (Agg backend).
    """

    accuracy_line: Callable[[dict[str, Any]], str]
    columns: Sequence[tuple[str, Callable[[Row], str]]]
    plots: Callable[[Path, dict[str, Any], Any], list[str]]


def bar_plot(
    plt: Any, out: Path, name: str, labels: list[str], values: list[float], **text: str
) -> str:
    """One bar chart per silo (``ylabel``, ``title``; ``signed`` colours by sign); returns ``name``."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    if text.get("signed"):
        ax.bar(labels, values, color=["tab:green" if v >= 0 else "tab:red" for v in values])
        ax.axhline(0, color="black", linewidth=0.8)
    else:
        ax.bar(labels, values, label=text.get("label"))
    ax.set_ylabel(text["ylabel"])
    ax.set_title(text["title"])
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name


def payoff_plot(plt: Any, out: Path, name: str, result: dict[str, Any], title: str) -> str:
    """Signed bars of every silo's on-chain payoff R_i in the round's asset; returns ``name``."""
    asset = result_asset(result)
    orgs = result["orgs"]
    return bar_plot(
        plt,
        out,
        name,
        [o["name"] for o in orgs],
        [o["R_wei"] / 10 ** asset["decimals"] for o in orgs],
        signed="yes",
        ylabel=f"R_i ({asset['symbol']})",
        title=title,
    )


Column = tuple[str, Callable[[Row], str]]

#: the first columns of every mechanism's per-silo table
IDENTITY_COLUMNS: tuple[Column, ...] = (
    ("silo", lambda o: str(o["name"])),
    ("address", lambda o: f"`{o['address'][:10]}…`"),
)
#: the on-chain money of a silo (headers say wei; a token round's report names its unit)
MONEY_COLUMNS: tuple[Column, ...] = (
    ("R (wei)", lambda o: str(o["R_wei"])),
    ("payout (wei)", lambda o: str(o["payout_wei"])),
)


def _tradefl_plots(out: Path, result: dict[str, Any], plt: Any) -> list[str]:
    orgs = result["orgs"]
    names = [o["name"] for o in orgs]
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
    return [
        "accuracy.png",
        bar_plot(
            plt,
            out,
            "contributions.png",
            names,
            [o["x"] for o in orgs],
            label="x = d s (samples)",
            ylabel="contributed samples",
            title="Contributions chosen by best response",
        ),
        payoff_plot(plt, out, "payoffs.png", result, "On-chain redistribution (sums to zero)"),
    ]


def _tradefl_accuracy(result: dict[str, Any]) -> str:
    return (
        f"- FL rounds: {len(result['accuracy'])}; final test accuracy "
        f"**{result['accuracy'][-1]:.4f}** (loss {result['loss'][-1]:.4f}); the same model trained "
        f"centrally for as many passes: {result['centralized_accuracy']:.4f}"
    )


#: TradeFL's report: d, f, x, c per silo; accuracy, contributions and payoffs plots
TRADEFL_VIEW = ReportView(
    accuracy_line=_tradefl_accuracy,
    columns=(
        *IDENTITY_COLUMNS,
        ("d", lambda o: f"{o['d']:.3f}"),
        ("f (samples/s)", lambda o: f"{o['f']:.0f}"),
        ("x", lambda o: f"{o['x']:.1f}"),
        ("c", lambda o: f"{o['c']:.1f}"),
        *MONEY_COLUMNS,
        ("payoff C_i", lambda o: f"{o['payoff']:.4g}"),
        ("IR", lambda o: "yes" if o["individually_rational"] else "no"),
    ),
    plots=_tradefl_plots,
)


def _view(result: dict[str, Any]) -> ReportView:
    from fl_node.mechanisms import get_mechanism

    name = str(result.get("mechanism", "tradefl"))
    view = getattr(get_mechanism(name), "report_view", None)
    return view if isinstance(view, ReportView) else TRADEFL_VIEW


def _header(header: str, asset: dict[str, Any]) -> str:
    """A column header in the round's base unit (wei, or the token's smallest unit)."""
    return (
        header if asset["token"] is None else header.replace("(wei)", f"({asset['symbol']} units)")
    )


def write_human_report(out: Path, result: dict[str, Any]) -> Path:
    """Write ``report.md`` (and its plots) into ``out`` from the demo's report; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    view = _view(result)
    plots = view.plots(out, result, plt)
    lines = [f"# fedsettle demo round {result['round_id']}", "", view.accuracy_line(result)]
    if "strategy_phase" in result:  # the market has none
        eq = result["equilibrium"]
        phase_seconds = float(result["strategy_phase"]["seconds"])
        lines.append(
            f"- Strategy phase: converged={eq['converged']} in {eq['sweeps']} sweeps "
            f"({eq['queries']} best-response queries, {phase_seconds * 1e3:.1f} ms); Nash "
            f"equilibrium: {eq['is_nash']}; potential {eq['potential']:.6g}; social welfare "
            f"{eq['social_welfare']:.6g}"
        )
    asset = result_asset(result)
    unit = (
        "wei"
        if asset["token"] is None
        else f"{asset['symbol']} base units (10^-{asset['decimals']})"
    )
    lines += [
        f"- Settled in {asset['symbol']}"
        + ("" if asset["token"] is None else f" (ERC-20 at `{asset['token']}`)")
        + f"; amounts below in {unit}",
        f"- Budget balance on chain: sum R_i = {result['sum_R_wei']}; deposits "
        f"{result['sum_deposits_wei']} = payouts {result['sum_payouts_wei']}",
        f"- Gas used by the round: {result['gas']['total']:,}",
        f"- Payoff digest: `{result['payoff_digest']}`",
        "",
        "| " + " | ".join(_header(h, asset) for h, _ in view.columns) + " |",
        "|" + "---|" * len(view.columns),
    ]
    for o in result["orgs"]:
        lines.append("| " + " | ".join(cell(o) for _, cell in view.columns) + " |")
    lines += ["", *[f"![{p}]({p})" for p in plots], ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
