"""``fedsettle demo``: one complete settlement round on the embedded runtime.

Spawns anvil, deploys the settlement contract, creates N silos with non-IID shares of a bundled
dataset, runs the strategy phase (distributed best response between the silos' agents), trains
with contribution-weighted FedAvg through the same round loop the Flower ServerApp runs (here
over the in-process transport), settles on chain (reports attested by the coordinator,
``payoffCalculate``, every silo withdraws) and writes the report, the deployment record and
anvil's state dump, so the round can be reopened and audited later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fl_node.agent import SiloAgent, Strategy
from fl_node.chain_steps import ChainUnits, join, open_round, report, settle, to_report, withdraw
from fl_node.consortium import make_demo_consortium
from fl_node.strategy_phase import run_strategy_phase

__all__ = ["DemoOptions", "run_demo"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    orgs: int = 5
    rounds: int = 5
    dataset: str = "digits"
    out: Path = Path("out/demo")
    seed: int = 0
    alpha: float = 0.5
    epochs: int = 3
    lr: float = 0.05
    attest: bool = True

    def __post_init__(self) -> None:
        if not 2 <= self.orgs <= 50:
            raise ValueError(f"--orgs {self.orgs}: must be between 2 and 50 silos")
        if not 1 <= self.rounds <= 100:
            raise ValueError(f"--rounds {self.rounds}: must be between 1 and 100 FL rounds")
        if not 1 <= self.epochs <= 20:
            raise ValueError(f"--epochs {self.epochs}: must be between 1 and 20 local epochs")
        if not self.alpha > 0:
            raise ValueError(f"--alpha {self.alpha}: the Dirichlet concentration must be > 0")


@dataclass
class _Timer:
    marks: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)

    def mark(self, name: str) -> None:
        self.marks[name] = round(time.perf_counter() - self.start, 3)


def run_demo(opts: DemoOptions, progress: Progress = print) -> dict[str, Any]:
    """Run the demo round and write its outputs to ``opts.out``; return the report dict."""
    import numpy as np

    from fl_node.data import get_source
    from fl_node.flower import (
        Assignment,
        InProcessTransport,
        TrainConfig,
        centralized_evaluator,
        local_silos,
        run_session,
    )
    from fl_node.models import build_model, get_parameters
    from settlement import AnvilBackend, SettlementClient, dev_accounts

    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    timer = _Timer()
    n = opts.orgs
    import torch

    # Silos train on parallel threads; one torch thread each is fastest for these small models
    # (fl_node/compute.py measurements), and torch's thread count is process-wide.
    torch.set_num_threads(1)
    shared = {"dataset": opts.dataset, "alpha": opts.alpha, "data-seed": opts.seed}
    silos = local_silos(n, node_config=shared)
    node_ids = sorted(silos)
    names = [silos[k].name for k in node_ids]
    sizes = [len(silos[k].data) for k in node_ids]
    progress(
        f"[data] {opts.dataset}: {n} silos, non-IID (Dirichlet alpha={opts.alpha}), sizes {sizes}"
    )
    # The per-round deadline scales with the local epochs (eta), 0.3 s per epoch.
    consortium = make_demo_consortium(
        names, sizes, seed=opts.seed, epochs=opts.epochs, tau=0.3 * opts.epochs
    )
    units = ChainUnits()
    timer.mark("data")

    state_file = out / "chain-state.json"
    with AnvilBackend(accounts=n + 2, dump_state=state_file, tx_gas_limit=True) as chain:
        operator, coordinator, *silo_keys = dev_accounts(n + 2)
        client = SettlementClient.deploy(chain, operator)
        receipts: list[Any] = [client.deploy_receipt]
        progress(f"[chain] anvil at {chain.rpc_url}, contract {client.address}")
        round_id = open_round(
            client,
            consortium.terms,
            sizes,
            [o.F[-1] for o in consortium.orgs],
            [k.address for k in silo_keys],
            units=units,
            coordinator=coordinator.address if opts.attest else None,
        )
        for i, key in enumerate(silo_keys):
            receipts.append(join(client, round_id, i, key))
        progress(f"[chain] round {round_id} opened; {n} silos deposited their bonds")
        timer.mark("join")

        agents = [SiloAgent(org, consortium.terms) for org in consortium.orgs]
        start = [
            Strategy(o.name, consortium.terms.D_min, o.F[-1], consortium.terms.D_min * o.s)
            for o in consortium.orgs
        ]
        phase = run_strategy_phase(agents, start)
        progress(
            f"[strategy] distributed best response: converged={phase.converged} after "
            f"{phase.sweeps} sweeps, {phase.queries} queries, {phase.seconds * 1e3:.1f} ms"
        )
        timer.mark("strategy")

        by_node = dict(zip(node_ids, phase.strategies, strict=True))

        def before_training(identities: Mapping[int, Any], transport: Any) -> dict[int, Any]:
            return {nid: Assignment(d=s.d, f=s.f, x=s.x) for nid, s in by_node.items()}

        def on_round(rec: Any) -> None:
            progress(f"[train] round {rec.round}: accuracy {rec.accuracy:.4f}, loss {rec.loss:.4f}")

        split = get_source(opts.dataset).split(test_fraction=0.25, seed=opts.seed)
        model = build_model(split.meta, "auto", seed=0)
        session = run_session(
            InProcessTransport(silos),
            opts.rounds,
            initial_parameters=get_parameters(model),
            evaluate_fn=centralized_evaluator(model, split.test),
            train_config=TrainConfig(epochs=opts.epochs, lr=opts.lr, seed=opts.seed),
            round_timeout=120.0,
            before_training=before_training,
            on_round_end=on_round,
        )
        timer.mark("train")
        baseline = _centralized_baseline(opts)
        progress(
            f"[train] centralized baseline (same model, {opts.rounds * opts.epochs} epochs on all "
            f"training data): accuracy {baseline:.4f}"
        )

        completed = set(session.history.completed)
        for i, (nid, key) in enumerate(zip(node_ids, silo_keys, strict=True)):
            if nid not in completed:
                continue
            x, f = to_report(by_node[nid], sizes[i], client, round_id, i)
            att = (
                client.sign_contribution(coordinator.key, round_id, i, key.address, x, f)
                if opts.attest
                else b""
            )
            receipts.append(report(client, round_id, i, key, x, f, att))
        receipts.append(settle(client, round_id))
        payouts = []
        for i, key in enumerate(silo_keys):
            r, amount = withdraw(client, round_id, i, key)
            receipts.append(r)
            payouts.append(int(amount))
        progress(f"[settle] round {round_id} settled; {len(payouts)} silos withdrew their payouts")
        timer.mark("settle")
        profiles = client.profiles(round_id)
        state = client.round_state(round_id)
        chain_id = client.chain_id
        rpc = {"url": chain.rpc_url, "note": "anvil spawned by the demo; reopen with --state"}
        gas = {"total": sum(int(r.gas_used) for r in receipts if r is not None)}

    from solver import evaluate as evaluate_profile

    check = evaluate_profile(
        consortium.game(),
        np.array([s.d for s in phase.strategies]),
        np.array([s.f for s in phase.strategies]),
    )
    orgs_out: list[dict[str, Any]] = []
    for i, (s, prof) in enumerate(zip(phase.strategies, profiles, strict=True)):
        orgs_out.append(
            {
                "name": s.name,
                "address": prof.account,
                "d": s.d,
                "f": s.f,
                "x": s.x,
                "c": s.x + consortium.terms.lam * s.f,
                "x_onchain": prof.x,
                "f_onchain": prof.f,
                "bond_wei": int(prof.bond),
                "deposit_wei": int(prof.deposited),
                "R_wei": int(prof.payoff),
                "payout_wei": payouts[i],
                "payoff": float(check.payoffs[i]),
                "R_game": float(check.redistribution[i]),
                "individually_rational": bool(check.individually_rational[i]),
            }
        )
    result = {
        "orgs": orgs_out,
        "sum_R_wei": sum(int(p.payoff) for p in profiles),
        "sum_deposits_wei": int(state.total_deposits),
        "sum_payouts_wei": int(state.total_withdrawn),
        "accuracy": session.history.accuracy,
        "loss": session.history.loss,
        "centralized_accuracy": baseline,
        "equilibrium": {
            "converged": phase.converged,
            "is_nash": bool(check.is_nash),
            "potential": float(check.potential),
            "social_welfare": float(check.social_welfare),
            "sweeps": phase.sweeps,
            "queries": phase.queries,
        },
        "strategy_phase": phase.to_dict(),
        "gas": gas,
        "payoff_digest": "0x" + bytes(state.payoff_digest).hex(),
        "round_id": round_id,
        "timings_s": timer.marks,
        "consortium": {"terms": asdict(consortium.terms), "units": asdict(units)},
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
    }
    deployment = {
        "chain_id": chain_id,
        "contract_address": client.address,
        "round_id": round_id,
        "rpc": rpc,
        "state_file": state_file.name,
    }
    (out / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "deployment.json").write_text(json.dumps(deployment, indent=2), encoding="utf-8")
    from fl_node.report import write_human_report

    write_human_report(out, result, phase)
    progress(f"[done] {timer.marks['settle']:.1f} s; outputs in {out}/")
    return result


def _centralized_baseline(opts: DemoOptions) -> float:
    """Test accuracy of the same model trained centrally for the same number of passes."""
    from fl_node.data import get_source
    from fl_node.models import build_model
    from fl_node.training import train_centralized

    split = get_source(opts.dataset).split(test_fraction=0.25, seed=opts.seed)
    model = build_model(split.meta, "auto", seed=0)
    result = train_centralized(
        model, split.train, split.test, epochs=opts.rounds * opts.epochs, lr=opts.lr, seed=opts.seed
    )
    return float(result.history[-1].accuracy)
