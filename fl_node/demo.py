"""``fedsettle demo``: one complete settlement round on the embedded runtime.

The demo is the consortium coordinator (:class:`fl_node.coordinator.Coordinator`, the same
orchestration ``fedsettle coordinator run`` uses) with in-process silos
(:class:`fl_node.coordinator.InProcessSilo`) and a spawned anvil: it creates N silos with
non-IID shares of a bundled dataset, draws the chosen mechanism's consortium (public terms and
each silo's private parameters), and lets the coordinator deploy the settlement contract, open
the round, collect the deposits, run the strategy phase, train (the Flower round loop over the
in-process transport; a mechanism without a strategy phase, the market, runs its own FL session
instead), submit the coordinator's report table, settle and let every silo withdraw. It then writes the
report, the deployment record and anvil's state dump, so the round can be reopened and audited.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

from fl_node.mechanisms import DEFAULT_MECHANISM, EmbeddedConsortium, get_mechanism, session_of

__all__ = ["DEMO_TOKEN", "DemoOptions", "DemoToken", "run_demo"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    orgs: int = 5
    rounds: int = 5
    dataset: str = "digits"
    out: Path = Path("out/demo")
    seed: int = 0
    #: Dirichlet concentration; None: the mechanism's ``demo_alpha`` (cogen 0.1), else 0.5
    alpha: float | None = None
    epochs: int = 3
    lr: float = 0.05
    attest: bool = True
    mechanism: str = DEFAULT_MECHANISM
    #: settle in a test stablecoin deployed on the spawned anvil (see :data:`DEMO_TOKEN`)
    token: bool = False

    def __post_init__(self) -> None:
        if not 2 <= self.orgs <= 50:
            raise ValueError(f"--orgs {self.orgs}: must be between 2 and 50 silos")
        if not 1 <= self.rounds <= 100:
            raise ValueError(f"--rounds {self.rounds}: must be between 1 and 100 FL rounds")
        if not 1 <= self.epochs <= 20:
            raise ValueError(f"--epochs {self.epochs}: must be between 1 and 20 local epochs")
        mechanism: Any = get_mechanism(self.mechanism)  # UnknownMechanism lists the names
        check = getattr(mechanism, "check_options", None)
        if check is not None:  # a mechanism that cannot run every option (the market)
            check(self)
        if self.alpha is None:
            object.__setattr__(self, "alpha", float(getattr(mechanism, "demo_alpha", 0.5)))
        if not self.dirichlet_alpha > 0:
            raise ValueError(f"--alpha {self.alpha}: the Dirichlet concentration must be > 0")

    @property
    def dirichlet_alpha(self) -> float:
        assert self.alpha is not None  # resolved in __post_init__
        return float(self.alpha)


@dataclass(frozen=True)
class DemoToken:
    """The test stablecoin of ``fedsettle demo --token`` (contracts/test/TestToken.sol).

    One unit of game payoff is ``unit`` token units (1,000 tUSD), every silo is minted
    ``grant`` before the round, and the report states amounts in tUSD.
    """

    symbol: str = "tUSD"
    decimals: int = 6
    unit: int = 1000 * 10**6
    grant: int = 1_000_000 * 10**6


DEMO_TOKEN = DemoToken()


@dataclass
class _Timer:
    marks: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)

    def mark(self, name: str) -> None:
        self.marks[name] = round(time.perf_counter() - self.start, 3)


class _Display:
    """Turns the coordinator's actions into the demo's progress lines and timing marks."""

    def __init__(self, progress: Progress, timer: _Timer, rpc_url: str) -> None:
        self.progress = progress
        self.timer = timer
        self.rpc_url = rpc_url

    def __call__(self, event: str, data: dict[str, Any]) -> None:
        say = self.progress
        if event == "deployed":
            say(f"[chain] anvil at {self.rpc_url}, contract {data['contract']}")
        elif event == "deposits-closed":
            self.timer.mark("join")
            say(
                f"[chain] round {data['round_id']} opened; {len(data['joined'])} silos deposited "
                "their bonds"
            )
        elif event == "strategy-phase":
            self.timer.mark("strategy")
            say(
                f"[strategy] distributed best response: converged={data['converged']} after "
                f"{data['sweeps']} sweeps, {data['queries']} queries, "
                f"{data['seconds'] * 1e3:.1f} ms"
            )
        elif event == "fl-round":
            say(
                f"[train] round {data['round']}: accuracy {data['accuracy']:.4f}, "
                f"loss {data['loss']:.4f}"
            )
        elif event == "market-round":
            say(
                f"[train] round {data['round']}: {data['imports']} imports, mean personalized "
                f"accuracy {data['accuracy']:.4f}, graph {data['graph']}"
            )
        elif event == "training-done":
            self.timer.mark("train")
            if data["dropped"]:
                say(f"[train] dropped: {data['dropped']}")
        elif event in ("strategy-dropped", "assignment-refused", "step-failed"):
            say(f"[{event}] {data}")


def _config(
    opts: DemoOptions,
    rpc_url: str,
    accounts: list[str],
    names: list[str],
    sizes: list[int],
    consortium: EmbeddedConsortium,
    token: str | None = None,
) -> Any:
    """The consortium.toml the demo would have written: dev keys, in-process silos."""
    from fl_node.coordinator import ConsortiumConfig, FLSettings, RoundSettings, SiloEntry
    from fl_node.daemon import KeySpec

    silos = tuple(
        SiloEntry(
            index=i,
            name=name,
            account=accounts[i],
            s=float(s),
            F_max=float(reg["F_max"]),
            p=float(reg["p"]),
            endpoint=f"inprocess://{name}",
            partition_id=i,
        )
        for i, (name, s, reg) in enumerate(zip(names, sizes, consortium.registry, strict=True))
    )
    out = Path(opts.out)
    return ConsortiumConfig(
        rpc_url=rpc_url,
        contract=None,
        operator=KeySpec("demo operator", dev_account=0),
        coordinator_key=KeySpec("demo coordinator", dev_account=1) if opts.attest else None,
        state_dir=out / "coordinator",
        result_path=None,
        terms=consortium.terms,
        units=consortium.units,
        silos=silos,
        # in-process silos deposit and report at once; --devnet warps past any deadline
        round=RoundSettings(
            deposit_window_s=3600,
            report_window_s=3600,
            join_timeout_s=30.0,
            report_timeout_s=30.0,
            poll_interval_s=0.05,
        ),
        fl=FLSettings(
            rounds=opts.rounds,
            epochs=opts.epochs,
            lr=opts.lr,
            round_timeout_s=120.0,
            dataset=opts.dataset,
            alpha=opts.dirichlet_alpha,
            seed=opts.seed,
        ),
        mode="embedded",
        mechanism=opts.mechanism,
        token=token,
    )


def run_demo(opts: DemoOptions, progress: Progress = print) -> dict[str, Any]:
    """Run the demo round and write its outputs to ``opts.out``; return the report dict.

    Raises
    ------
    fl_node.data.DataError
        If the dataset cannot be loaded (before anything is spawned).
    fl_node.coordinator.CoordinatorError
        If a step of the round fails (its cause is the original error).
    """
    import torch

    from fl_node.coordinator import Coordinator, InProcessSilo
    from fl_node.flower import local_silos
    from settlement import AnvilBackend, dev_accounts

    mechanism = get_mechanism(opts.mechanism)
    session = session_of(mechanism)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "coordinator", ignore_errors=True)  # a previous run's chain is gone
    timer = _Timer()
    n = opts.orgs
    # Silos train on parallel threads; one torch thread each is fastest for these small models
    # (fl_node/compute.py measurements), and torch's thread count is process-wide.
    torch.set_num_threads(1)
    if session is None:
        shared = {"dataset": opts.dataset, "alpha": opts.alpha, "data-seed": opts.seed}
        silos = local_silos(n, node_config=shared)
        names = [silos[k].name for k in sorted(silos)]
        sizes = [len(silos[k].data) for k in sorted(silos)]
        local = [silos[k] for k in sorted(silos)]
        progress(
            f"[data] {opts.dataset}: {n} silos, non-IID (Dirichlet alpha={opts.alpha}), "
            f"sizes {sizes}"
        )
    else:  # the session mechanism's own silos (the market: personalized train/test splits)
        names, sizes, line = session.demo_silos(
            n, dataset=opts.dataset, alpha=opts.dirichlet_alpha, seed=opts.seed
        )
        local = []
        progress(line)
    consortium = mechanism.demo_consortium(
        names, sizes, seed=opts.seed, epochs=opts.epochs, silos=local, progress=progress
    )
    timer.mark("data")

    state_file = out / "chain-state.json"
    with AnvilBackend(accounts=n + 2, dump_state=state_file, tx_gas_limit=True) as chain:
        _operator, _coordinator, *silo_keys = dev_accounts(n + 2)
        token = _deploy_token(chain, _operator, silo_keys, progress) if opts.token else None
        if token is not None:
            units = replace(consortium.units, unit_wei=DEMO_TOKEN.unit)
            consortium = replace(consortium, units=units)
        config = _config(
            opts,
            chain.rpc_url,
            [k.address for k in silo_keys],
            names,
            sizes,
            consortium,
            token=None if token is None else str(token.address),
        )
        # every silo checks the opened round against the terms it accepted before it deposits
        expected = mechanism.accepted_terms(
            config, coordinator=_coordinator.address if opts.attest else None
        )
        max_lock = config.round.deposit_window_s + config.round.report_window_s + 600
        links = {
            name: InProcessSilo(
                name, i, key, consortium.private[i], mechanism, expected=expected, max_lock=max_lock
            )
            for i, (name, key) in enumerate(zip(names, silo_keys, strict=True))
        }
        coordinator = Coordinator(
            config,
            devnet=True,
            log_stream=None,
            links=links,
            on_event=_Display(progress, timer, chain.rpc_url),
        )
        outcome = coordinator.run()
        if outcome["status"] != "settled":
            raise RuntimeError(f"the demo round ended {outcome['status']!r}")
        client = coordinator.client
        round_id = int(outcome["round_id"])
        payouts = [links[name].payout_wei for name in names]
        progress(f"[settle] round {round_id} settled; {len(payouts)} silos withdrew their payouts")
        timer.mark("settle")
        profiles = client.profiles(round_id)
        state = client.round_state(round_id)
        chain_id = client.chain_id
        rpc = {"url": chain.rpc_url, "note": "anvil spawned by the demo; reopen with --state"}
        receipts = [*coordinator.receipts, *(r for link in links.values() for r in link.receipts)]
        gas = {"total": sum(int(r.gas_used) for r in receipts)}
        asset = _asset(token, [k.address for k in silo_keys], client)
        if session is not None:
            assert coordinator.session is not None  # the session ran: the round settled
            report = session.demo_report(
                opts,
                coordinator.session,
                client,
                round_id,
                payouts=payouts,
                gas=gas,
                mark=timer.mark,
                marks=timer.marks,
                progress=progress,
            )
    deployment = {
        "chain_id": chain_id,
        "contract_address": client.address,
        "round_id": round_id,
        "rpc": rpc,
        "state_file": state_file.name,
    }
    if session is not None:  # its report is the mechanism's (no strategy phase to summarize)
        return _write_outputs(out, {**report, "asset": asset}, deployment, timer, progress)

    comparison = _comparison(mechanism, config, coordinator.strategies, progress)
    if comparison is not None:
        timer.mark("comparison")

    baseline = _centralized_baseline(opts)
    timer.mark("baseline")
    progress(
        f"[train] centralized baseline (same model, {opts.rounds * opts.epochs} epochs on all "
        f"training data): accuracy {baseline:.4f}"
    )
    missing = [name for name in names if name not in coordinator.strategies]
    if missing:
        raise RuntimeError(f"silos {missing} left the strategy phase; the report needs every silo")
    strategies = [coordinator.strategies[name] for name in names]
    rows, summary = mechanism.report_rows(consortium, strategies, profiles)
    phase_doc = outcome["strategy_phase"]
    # cogen: the coordinator's leave-one-out scores, as measured and as its table stored them
    measured = {
        s["name"]: {k: s[k] for k in ("leave_one_out", "leave_one_out_onchain") if k in s}
        for s in outcome["silos"]
    }
    orgs_out = [
        {
            "name": name,
            "address": prof.account,
            **row,
            **measured.get(name, {}),
            "bond_wei": int(prof.bond),
            "deposit_wei": int(prof.deposited),
            "R_wei": int(prof.payoff),
            "payout_wei": payout,
        }
        for name, prof, row, payout in zip(names, profiles, rows, payouts, strict=True)
    ]
    terms = consortium.terms
    result = {
        "mechanism": mechanism.name,
        "orgs": orgs_out,
        "sum_R_wei": sum(int(p.payoff) for p in profiles),
        "sum_deposits_wei": int(state.total_deposits),
        "sum_payouts_wei": int(state.total_withdrawn),
        "accuracy": outcome["accuracy"],
        "loss": outcome["loss"],
        "centralized_accuracy": baseline,
        **({} if comparison is None else comparison),
        "equilibrium": {
            "converged": phase_doc["converged"],
            **summary,
            "sweeps": phase_doc["sweeps"],
            "queries": phase_doc["queries"],
        },
        "strategy_phase": phase_doc,
        "gas": gas,
        "asset": asset,
        "payoff_digest": "0x" + bytes(state.payoff_digest).hex(),
        "round_id": round_id,
        "timings_s": timer.marks,
        "consortium": {
            "terms": asdict(terms)
            if is_dataclass(terms) and not isinstance(terms, type)
            else terms,
            "units": asdict(consortium.units),
        },
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
    }
    return _write_outputs(out, result, deployment, timer, progress)


def _write_outputs(
    out: Path,
    result: dict[str, Any],
    deployment: dict[str, Any],
    timer: _Timer,
    progress: Progress,
) -> dict[str, Any]:
    """Write ``report.json``, ``deployment.json`` and ``report.md``; return ``result``."""
    (out / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "deployment.json").write_text(json.dumps(deployment, indent=2), encoding="utf-8")
    from fl_node.report import write_human_report

    write_human_report(out, result)
    timer.mark("report")
    progress(
        f"[done] round settled at {timer.marks['settle']:.1f} s, report at "
        f"{timer.marks['report']:.1f} s; outputs in {out}/"
    )
    return result


def _deploy_token(chain: Any, operator: Any, silo_keys: list[Any], progress: Progress) -> Any:
    """Deploy the demo's TestToken and mint every silo its grant."""
    from settlement import TokenClient

    token = TokenClient.deploy(chain, operator)
    for key in silo_keys:
        token.mint(operator, key.address, DEMO_TOKEN.grant)
    progress(
        f"[chain] test stablecoin {DEMO_TOKEN.symbol} at {token.address} ({DEMO_TOKEN.decimals} "
        f"decimals); {DEMO_TOKEN.grant / 10**DEMO_TOKEN.decimals:,.0f} {DEMO_TOKEN.symbol} minted "
        f"to each silo; 1 payoff unit = {DEMO_TOKEN.unit / 10**DEMO_TOKEN.decimals:,.0f} "
        f"{DEMO_TOKEN.symbol}"
    )
    return token


def _asset(token: Any, silos: list[str], client: Any) -> dict[str, Any]:
    """The settlement asset of the report; for a token, each silo's balance after the round."""
    if token is None:
        return {"symbol": "ETH", "decimals": 18, "token": None}
    return {
        "symbol": DEMO_TOKEN.symbol,
        "decimals": DEMO_TOKEN.decimals,
        "token": str(token.address),
        "granted": DEMO_TOKEN.grant,
        "balances_after": [int(token.balance_of(a)) for a in silos],
        "contract_balance_after": int(token.balance_of(client.address)),
    }


def _comparison(
    mechanism: Any, config: Any, strategies: dict[str, Any], progress: Progress
) -> dict[str, Any] | None:
    """The same session trained with the mechanism's comparison plan, if it has one.

    Cogen: every silo on its real data only (``accuracy_without_generation``).
    """
    plan_for = getattr(mechanism, "comparison_plan", None)
    if plan_for is None:
        return None
    from fl_node.coordinator import train_embedded

    label, plan = plan_for(strategies)

    def say(event: str, **data: Any) -> None:
        if event == "fl-round":
            progress(
                f"[train {label}] round {data['round']}: accuracy {data['accuracy']:.4f}, "
                f"loss {data['loss']:.4f}"
            )

    outcome = train_embedded(config, plan, say)
    return {f"accuracy_{label}": outcome.accuracy, f"loss_{label}": outcome.loss}


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
