"""``fedsettle demo --mechanism market``: the model-sharing market (mechanism 3) end to end.

The market has no strategy phase (every org reports N_i, c_i, K_i once and the graph is
recomputed every FL round), so the seam's :class:`fl_node.coordinator.Coordinator` flow does not
fit; :class:`MarketDemo` is registered as a *demo flow* (``fl_node.mechanisms.demo_flow``) and
:func:`fl_node.demo.run_demo` hands the whole run to :meth:`MarketDemo.run_demo`:

1. silos with their own train/test splits (:func:`fl_node.market.build_silos`: digits' label
   clusters for a multiple of 3 silos, else a Dirichlet split) and their N_i, c_i, K_i
   (:meth:`fl_node.market.MarketParams.draw`);
2. a spawned anvil: deploy, open a market round with one slot per silo
   (:func:`settlement.market_config`, :func:`settlement.market_orgs`), every silo checks the
   opened round against the terms it accepted and deposits its bond (:func:`fl_node.chain_steps.join`);
3. real personalized training (:func:`fl_node.market.run_market`): round 0 local, then every
   priced FL round the coordinator computes the distances from the silos' models vs theta0, the
   graph and payments (:func:`solver.market.solve_round`) and each importer's prox center, and
   every silo trains locally with the prox term; a local-only run on the same silos is the
   comparison;
4. the coordinator submits the table of every priced round's graph and distances
   (:meth:`settlement.SettlementClient.market_table_submit`); the contract computes the payoffs
   (``payoffCalculate``), checked against the Python mirror :func:`settlement.market_outcome`;
   every silo withdraws;
5. ``report.json``, ``report.md`` (plots: graph, accuracy gain, payments), ``deployment.json`` and
   anvil's ``chain-state.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fl_node.demo import DemoOptions
    from fl_node.report import ReportView
    from solver.market import MarketRound

__all__ = ["MarketDemo", "distance_wad", "market_graphs"]

Progress = Callable[[str], None]

#: wei per 1.0 unit of market utility in the demo round
UNIT_WEI = 10**16
#: K_i goes on chain with 6 decimals (``x_scale``), c_i too (``f_scale``, the default)
K_SCALE = 10**6
#: width of the hidden layer of the silos' MLP
HIDDEN = 32
ETH = 10**18
#: the longest lock a silo accepts: both windows (deposit, report) and a margin
MAX_LOCK_S = 2 * 3600 + 600


def distance_wad(d: float) -> int:
    """A model distance in [0, 2] as the contract's WAD integer (truncated, clipped to 2 WAD)."""
    from settlement import WAD, to_wad

    return min(to_wad(max(float(d), 0.0), field="distance"), 2 * WAD)


def market_graphs(rounds: Sequence[MarketRound]) -> list[Any]:
    """The coordinator's table: every priced FL round's graph with its distances in WAD."""
    from settlement.rules import MarketGraph

    return [
        MarketGraph.from_rows(
            [list(row) for row in r.graph],
            [[distance_wad(v) for v in row] for row in np.asarray(r.distance)],
        )
        for r in rounds
    ]


class MarketDemo:
    """The market's demo flow (no strategy phase; see the module docstring)."""

    name = "market"
    #: the Dirichlet concentration of the split used when the silo count is not a multiple of 3
    demo_alpha = 0.3

    @property
    def report_view(self) -> ReportView:
        """Columns and plots of ``report.md`` (:class:`fl_node.report.ReportView`)."""
        return _report_view()

    def check_options(self, opts: DemoOptions) -> None:
        """Reject demo options the market cannot run (a ValueError naming the option)."""
        if not opts.attest:
            raise ValueError(
                "--no-attest: the market's table of graphs is submitted by the coordinator; "
                "run the market demo without --no-attest"
            )

    def run_demo(self, opts: DemoOptions, progress: Progress = print) -> dict[str, Any]:
        """Run the market demo and write its outputs into ``opts.out``; return the report."""
        import torch

        from fl_node.market import LocalTraining, MarketParams, Setup, build_silos, model_vector
        from fl_node.models import build_model

        start = time.perf_counter()
        marks: dict[str, float] = {}

        def mark(name: str) -> None:
            marks[name] = round(time.perf_counter() - start, 3)

        torch.set_num_threads(1)
        out = Path(opts.out)
        out.mkdir(parents=True, exist_ok=True)
        n = opts.orgs
        # the label clusters are digits' (three groups of labels); otherwise a Dirichlet split
        split = "clusters" if opts.dataset == "digits" and n % 3 == 0 else "dirichlet"
        silos = build_silos(
            split, n, seed=opts.seed, alpha=opts.dirichlet_alpha, dataset=opts.dataset
        )
        names = [s.name for s in silos.silos]
        params = MarketParams()
        market = params.draw(names, silos.sizes, opts.seed)
        model = build_model(silos.meta, "mlp", seed=opts.seed, hidden=(HIDDEN,))
        # round 0 is local training (distances need a direction); then opts.rounds priced rounds
        setup = Setup(
            silos.silos,
            model,
            model_vector(model),
            opts.rounds + 1,
            LocalTraining(epochs=opts.epochs, lr=opts.lr),
            opts.seed,
        )
        progress(
            f"[data] {opts.dataset}: {n} silos ({split} split), N = {silos.sizes}; "
            f"c and K drawn (lambda_pay {params.lambda_pay})"
        )
        mark("data")
        run, local, chain = _chain_round(opts, market, setup, params, progress, mark)
        mark("report")
        result = _result(opts, market, params, run, local, chain, marks, silos.split)
        (out / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        (out / "deployment.json").write_text(
            json.dumps(chain["deployment"], indent=2), encoding="utf-8"
        )
        from fl_node.report import write_human_report

        write_human_report(out, result)
        progress(
            f"[done] round settled at {marks['settle']:.1f} s, wall time "
            f"{time.perf_counter() - start:.1f} s; outputs in {out}/"
        )
        return result


def _chain_round(
    opts: DemoOptions,
    market: Any,
    setup: Any,
    params: Any,
    progress: Progress,
    mark: Callable[[str], None],
) -> tuple[Any, Any, dict[str, Any]]:
    """Open, deposit, train, submit the table, settle, withdraw; return the runs and chain data."""
    from fl_node import chain_steps
    from fl_node.market import run_baseline, run_market
    from settlement import (
        AcceptedTerms,
        AnvilBackend,
        SettlementClient,
        TermsMismatch,
        check_round,
        dev_accounts,
        market_bonds,
        market_config,
        market_orgs,
        market_outcome,
    )

    n = market.n
    out = Path(opts.out)
    state_file = out / "chain-state.json"
    with AnvilBackend(accounts=n + 2, dump_state=state_file, tx_gas_limit=True) as chain:
        operator, coordinator, *silo_keys = dev_accounts(n + 2)
        client = SettlementClient.deploy(chain, operator)
        progress(f"[chain] anvil at {chain.rpc_url}, contract {client.address}")
        config = market_config(
            now=client.chain_time(),
            coordinator=coordinator.address,
            lambda_pay=params.lambda_pay,
            unit_wei=UNIT_WEI,
            rounds=opts.rounds,
            x_scale=K_SCALE,
        )
        orgs = market_orgs(
            [k.address for k in silo_keys],
            [int(v) for v in market.N],
            [float(v) for v in market.c],
            [float(v) for v in market.K],
            x_scale=K_SCALE,
        )
        opened = client.market_round_open(config, orgs)
        round_id = int(opened.round_id)
        receipts = [r for r in (client.deploy_receipt, opened.receipt) if r is not None]
        # every silo checks the round against the slots and config it accepted and its bond
        # against the mirror's (settlement.check_round's bond check is TradeFL's/cogen's), then
        # deposits
        expected = AcceptedTerms(config=config, orgs=orgs, rho=bytes(n * (n - 1)))
        mirror_bonds = market_bonds(config, orgs)
        for i, key in enumerate(silo_keys):
            check_round(client, round_id, expected, max_lock=MAX_LOCK_S)
            if int(client.required_bond(round_id, i)) != mirror_bonds[i]:
                raise TermsMismatch(
                    f"bond[{i}]", str(mirror_bonds[i]), str(client.required_bond(round_id, i))
                )
            receipt = chain_steps.join(client, round_id, i, key)
            if receipt is not None:
                receipts.append(receipt)
        mark("join")
        bonds = [int(p.bond) for p in client.profiles(round_id)]
        progress(f"[chain] market round {round_id} opened; {n} silos deposited bonds {bonds} wei")

        run = run_market(setup, market, params)
        for k, r in enumerate(run.rounds, start=1):
            edges = sum(len(row) for row in r.graph)
            acc = float(np.mean(run.accuracy.history[k]))
            progress(
                f"[train] round {k}: {edges} imports, mean personalized accuracy {acc:.4f}, "
                f"graph {[[market.names[j] for j in row] for row in r.graph]}"
            )
        mark("train")
        local = run_baseline("local", setup)
        mark("local")
        progress(f"[train] local-only: mean accuracy {float(np.mean(local.final)):.4f}")

        receipts.append(
            client.market_table_submit(round_id, market_graphs(run.rounds), sender=coordinator)
        )
        settled = chain_steps.settle(client, round_id, sender=operator)
        if settled is not None:
            receipts.append(settled)
        payouts = []
        for i, key in enumerate(silo_keys):
            receipt, amount = chain_steps.withdraw(client, round_id, i, key)
            payouts.append(int(amount))
            if receipt is not None:
                receipts.append(receipt)
        mark("settle")
        profiles = client.profiles(round_id)
        state = client.round_state(round_id)
        mirror = market_outcome(
            config,
            orgs,
            {i: int(p.deposited) for i, p in enumerate(profiles) if p.joined},
            client.market_table(round_id),
        )
        progress(f"[settle] round {round_id} settled; {n} silos withdrew their payouts")
        doc = {
            "round_id": round_id,
            "profiles": profiles,
            "payouts": payouts,
            "sum_deposits_wei": int(state.total_deposits),
            "sum_payouts_wei": int(state.total_withdrawn),
            "payoff_digest": "0x" + bytes(state.payoff_digest).hex(),
            "mirror_payoffs": [int(p) for p in mirror.payoffs],
            "mirror_digest": "0x" + bytes(mirror.digest).hex(),
            "gas": {"total": sum(int(r.gas_used) for r in receipts)},
            "config": config,
            "deployment": {
                "chain_id": client.chain_id,
                "contract_address": client.address,
                "round_id": round_id,
                "rpc": {
                    "url": chain.rpc_url,
                    "note": "anvil spawned by the demo; reopen with --state",
                },
                "state_file": state_file.name,
            },
        }
    return run, local, doc


def _result(
    opts: DemoOptions,
    market: Any,
    params: Any,
    run: Any,
    local: Any,
    chain: dict[str, Any],
    marks: dict[str, float],
    split: str,
) -> dict[str, Any]:
    """The ``report.json`` document."""
    names = list(market.names)
    n = len(names)
    rounds = run.rounds
    paid = np.sum([r.payments.sum(axis=1) for r in rounds], axis=0)
    received = np.sum([r.payments.sum(axis=0) for r in rounds], axis=0)
    personal, alone = run.accuracy.final, local.final
    orgs_out = []
    for i, (name, prof) in enumerate(zip(names, chain["profiles"], strict=True)):
        imports = [[names[j] for j in r.graph[i]] for r in rounds]
        exports = [[names[k] for k in range(n) if i in r.graph[k]] for r in rounds]
        orgs_out.append(
            {
                "name": name,
                "address": prof.account,
                "N": int(market.N[i]),
                "c": float(market.c[i]),
                "K": float(market.K[i]),
                "imports": imports,
                "exports": exports,
                "payments": {
                    "paid": float(paid[i]),
                    "received": float(received[i]),
                    "net": float(received[i] - paid[i]),
                },
                "utility": float(sum(r.utility[i] for r in rounds)),
                "bond_wei": int(prof.bond),
                "deposit_wei": int(prof.deposited),
                "R_wei": int(prof.payoff),
                "payout_wei": chain["payouts"][i],
                "accuracy_personalized": float(personal[i]),
                "accuracy_local": float(alone[i]),
                "accuracy_gain": float(personal[i] - alone[i]),
            }
        )
    return {
        "mechanism": "market",
        "orgs": orgs_out,
        "graphs": [[list(map(int, row)) for row in r.graph] for r in rounds],
        "accuracy": [float(np.mean(h)) for h in run.accuracy.history],
        "accuracy_local": [float(np.mean(h)) for h in local.history],
        "ir_all_rounds": bool(all(bool(np.all(r.ir)) for r in rounds)),
        "sum_R_wei": sum(o["R_wei"] for o in orgs_out),
        "sum_deposits_wei": chain["sum_deposits_wei"],
        "sum_payouts_wei": chain["sum_payouts_wei"],
        "mirror_payoffs_wei": chain["mirror_payoffs"],
        "mirror_matches": chain["mirror_payoffs"] == [o["R_wei"] for o in orgs_out]
        and chain["mirror_digest"] == chain["payoff_digest"],
        "payoff_digest": chain["payoff_digest"],
        "gas": chain["gas"],
        "round_id": chain["round_id"],
        "timings_s": marks,
        # from the start of the run to the report's numbers (settled round; plots not included)
        "wall_time_s": marks["report"],
        "market": {
            "split": split,
            "unit_wei": UNIT_WEI,
            "k_scale_onchain": K_SCALE,
            "hidden": HIDDEN,
            "priced_rounds": len(rounds),
            **asdict(params),
        },
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
    }


# --------------------------------------------------------------------------------- report.md
def _accuracy_line(result: dict[str, Any]) -> str:
    orgs = result["orgs"]
    better = sum(o["accuracy_gain"] > 0 for o in orgs)
    edges = sum(len(row) for g in result["graphs"] for row in g)
    return (
        f"- Market: {result['market']['priced_rounds']} priced FL rounds after a local round 0, "
        f"{edges} imports in all; mean personalized accuracy **{result['accuracy'][-1]:.4f}** "
        f"vs local-only {result['accuracy_local'][-1]:.4f} ({better}/{len(orgs)} silos gain); "
        f"IR in every round: {result['ir_all_rounds']}; on-chain payoffs equal the Python "
        f"mirror: {result['mirror_matches']}; wall time {result['wall_time_s']:.1f} s"
    )


def _graph_plot(out: Path, result: dict[str, Any], plt: Any) -> str:
    """The silos on a circle; an arrow exporter -> importer per edge, width = rounds it held."""
    orgs = result["orgs"]
    names = [o["name"] for o in orgs]
    n = len(names)
    angle = 2 * np.pi * np.arange(n) / n
    xy = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    count = np.zeros((n, n))
    for g in result["graphs"]:
        for i, row in enumerate(g):
            for j in row:
                count[i, j] += 1
    fig, ax = plt.subplots(figsize=(5, 5))
    top = max(float(count.max()), 1.0)
    for i in range(n):
        for j in range(n):
            if count[i, j]:
                ax.annotate(
                    "",
                    xy=xy[i] * 0.9,
                    xytext=xy[j] * 0.9,
                    arrowprops={
                        "arrowstyle": "->",
                        "lw": 0.5 + 2.5 * count[i, j] / top,
                        "alpha": 0.7,
                        "connectionstyle": "arc3,rad=0.1",
                    },
                )
    ax.scatter(xy[:, 0], xy[:, 1], s=500, c="tab:blue", zorder=3)
    for k, name in enumerate(names):
        ax.text(*(xy[k] * 1.18), name, ha="center", va="center", fontsize=8)
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"Imports (exporter -> importer) over {len(result['graphs'])} rounds")
    fig.tight_layout()
    fig.savefig(out / "graph.png", dpi=110)
    plt.close(fig)
    return "graph.png"


def _plots(out: Path, result: dict[str, Any], plt: Any) -> list[str]:
    from fl_node.report import bar_plot

    orgs = result["orgs"]
    names = [o["name"] for o in orgs]
    return [
        _graph_plot(out, result, plt),
        bar_plot(
            plt,
            out,
            "accuracy_gain.png",
            names,
            [o["accuracy_gain"] for o in orgs],
            signed="yes",
            ylabel="accuracy gain",
            title="Personalized (market) minus local-only accuracy",
        ),
        bar_plot(
            plt,
            out,
            "payments.png",
            names,
            [o["R_wei"] / ETH for o in orgs],
            signed="yes",
            ylabel="R_i (ETH)",
            title="On-chain payoffs: export income minus import payments",
        ),
    ]


def _report_view() -> ReportView:
    from fl_node.report import ReportView

    return ReportView(
        accuracy_line=_accuracy_line,
        columns=(
            ("silo", lambda o: str(o["name"])),
            ("address", lambda o: f"`{o['address'][:10]}…`"),
            ("N", lambda o: str(o["N"])),
            ("c", lambda o: f"{o['c']:.3f}"),
            ("K", lambda o: f"{o['K']:.0f}"),
            ("imports", lambda o: str(sum(len(r) for r in o["imports"]))),
            ("exports", lambda o: str(sum(len(r) for r in o["exports"]))),
            ("net received", lambda o: f"{o['payments']['net']:.4g}"),
            ("R (wei)", lambda o: str(o["R_wei"])),
            ("payout (wei)", lambda o: str(o["payout_wei"])),
            ("acc. market", lambda o: f"{o['accuracy_personalized']:.3f}"),
            ("acc. local", lambda o: f"{o['accuracy_local']:.3f}"),
        ),
        plots=_plots,
    )
