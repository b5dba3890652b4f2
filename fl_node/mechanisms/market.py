"""The model-sharing market (mechanism 3) as a mechanism plugin of the one round lifecycle.

The market has no strategy phase: every silo registers its data size N_i, cost per export c_i
and eagerness K_i once (:class:`MarketReport`, the public :class:`MarketTerms`), and the
coordinator recomputes the import graph and the payments every FL round. :class:`ModelMarket`
is therefore a :class:`fl_node.mechanisms.SessionMechanism`: the
:class:`fl_node.coordinator.Coordinator` runs it through the shared steps (contract, open,
deposits with every silo's check of the round against the terms it accepted and of its bond
against :func:`settlement.market_bonds`, reports, settle, the silo links' withdrawals, result)
and calls it for two steps:

``session`` (:meth:`ModelMarket.run_session`)
    real personalized training (:func:`fl_node.market.run_market`): round 0 local, then in
    every priced FL round the coordinator computes the distances from the silos' models vs
    theta0, the graph and payments (:func:`solver.market.solve_round`) and each importer's prox
    center, and every silo trains locally with the prox term;
``table`` (:meth:`ModelMarket.submit_table`)
    the coordinator submits every priced round's graph and distances in one table
    (:meth:`settlement.SettlementClient.market_table_submit`); the contract computes the
    payoffs (``payoffCalculate``).

``fedsettle coordinator run`` runs it against silo daemons from ``consortium.toml``
(``[coordinator].mechanism = "market"``, :mod:`fl_node.coordinator._market_config`; each daemon
checks the round with :func:`market_accepted_terms` and its own N, c, K, :mod:`fl_node.daemon._market`).
``fedsettle demo --mechanism market`` is that coordinator with in-process silos on a spawned
anvil (:func:`fl_node.demo.run_demo`); :meth:`ModelMarket.demo_report` adds the local-only
comparison on the same silos and checks the payoffs against the Python mirror
(:func:`settlement.market_outcome`) for ``report.json`` / ``report.md``. The silos are digits'
label clusters for a multiple of 3 silos, else a Dirichlet split (:func:`market_split`).
The session runs on the embedded runtime or on the Flower deployment
(:meth:`ModelMarket.run_session`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fl_node.mechanisms.base import EmbeddedConsortium, NoStrategyPhase, SessionOutcome

if TYPE_CHECKING:
    from fl_node.chain_steps import ChainUnits
    from fl_node.coordinator import ConsortiumConfig, SiloEntry
    from fl_node.demo import DemoOptions
    from fl_node.market import MarketParams, SiloSet
    from fl_node.report import ReportView
    from settlement import AcceptedTerms, OrgSpec, SettlementClient
    from solver.market import Market, MarketRound

__all__ = [
    "MarketAgent",
    "MarketReport",
    "MarketTerms",
    "ModelMarket",
    "distance_wad",
    "market_accepted_terms",
    "market_graphs",
    "market_split",
    "market_training_size",
]

Progress = Callable[[str], None]

#: wei per 1.0 unit of market utility in the demo round
UNIT_WEI = 10**16
#: the demo's (and ``coordinator init``'s) scales: K_i on chain with 6 decimals (``x_scale``),
#: c_i too (``f_scale``)
K_SCALE = 10**6
F_SCALE = 10**6
#: width of the hidden layer of the silos' MLP
HIDDEN = 32


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


def market_split(dataset: str, n: int) -> str:
    """The silos' split: digits' three label clusters for a multiple of 3 silos, else Dirichlet."""
    return "clusters" if dataset == "digits" and n % 3 == 0 else "dirichlet"


@functools.lru_cache(maxsize=2)
def _silo_set(dataset: str, n: int, seed: int, alpha: float) -> SiloSet:
    """The market's silos (cached: the demo reads their sizes, the session trains on them)."""
    from fl_node.market import build_silos

    return build_silos(market_split(dataset, n), n, seed=seed, alpha=alpha, dataset=dataset)


@dataclass(frozen=True)
class MarketReport:
    """What one silo registers: data size N, cost per export c, eagerness K (0: a pure seller)."""

    name: str
    N: int
    c: float
    K: float


@dataclass(frozen=True)
class MarketTerms:
    """The public terms of a market round: every silo's report (slot order) and the prices.

    ``params`` are the market's economic and training parameters (lambda_pay, the prox
    weight, the free-rider rule...). The chain units (wei per 1.0 unit of utility, the scales
    of K and c) are the round's :class:`fl_node.chain_steps.ChainUnits`, sent beside the terms
    (:meth:`ModelMarket.terms_document`).
    """

    reports: tuple[MarketReport, ...]
    params: MarketParams

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.reports]

    @property
    def lambda_pay(self) -> float:
        return float(self.params.lambda_pay)

    def market(self) -> Market:
        """The market the coordinator solves every FL round (the registered reports)."""
        from solver.market import Market

        return Market(
            self.names,
            N=[float(r.N) for r in self.reports],
            c=[r.c for r in self.reports],
            K=[r.K for r in self.reports],
            lambda_pay=self.lambda_pay,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> MarketTerms:
        from fl_node.market import MarketParams

        missing = sorted({"reports", "params"} - set(doc))
        if missing:
            raise ValueError(f"market terms lack {missing}; the coordinator must send every field")
        params = dict(doc["params"])
        if "cost" in params:
            params["cost"] = tuple(params["cost"])
        return cls(
            reports=tuple(MarketReport(**r) for r in doc["reports"]),
            params=MarketParams(**params),
        )


def market_accepted_terms(
    terms: MarketTerms,
    units: ChainUnits,
    accounts: Sequence[str],
    *,
    rounds: int,
    coordinator: str,
    token: str | None = None,
    now: int = 0,
    windows: tuple[int, int] = (3600, 3600),
) -> AcceptedTerms:
    """The round a market consortium opens, as every silo checks it.

    Mechanism id 3, ``gammaWad`` = ``units.unit_wei`` (wei per 1.0 unit of utility),
    ``lambdaWad`` = lambda_pay, ``dMinWad`` = the priced FL ``rounds`` the bonds cover; slot i
    with ``base = N_i``, ``xMax = K_i * units.x_scale`` and ``fMax = c_i * units.f_scale``
    (truncated); the weight triangle is unused and opened as zeros. Deadlines from ``now``
    (not compared by default).
    """
    from settlement import ZERO_ADDRESS, AcceptedTerms, market_config, market_orgs

    if len(accounts) != len(terms.reports):
        raise ValueError(
            f"{len(accounts)} accounts for {len(terms.reports)} silos in the market terms"
        )
    config = market_config(
        now=now,
        coordinator=coordinator,
        lambda_pay=terms.lambda_pay,
        unit_wei=units.unit_wei,
        rounds=rounds,
        token=token or ZERO_ADDRESS,
        x_scale=units.x_scale,
        f_scale=units.f_scale,
        deposit_window=windows[0],
        report_window=windows[1],
    )
    orgs = market_orgs(
        list(accounts),
        [r.N for r in terms.reports],
        [r.c for r in terms.reports],
        [r.K for r in terms.reports],
        x_scale=units.x_scale,
        f_scale=units.f_scale,
    )
    n = len(orgs)
    return AcceptedTerms(config=config, orgs=orgs, rho=bytes(n * (n - 1)))


@functools.lru_cache(maxsize=8)
def market_training_size(dataset: str, n: int, seed: int, alpha: float, index: int) -> int:
    """Slot ``index``'s training samples N in the market's split of ``n`` silos.

    What the embedded runtime trains slot ``index`` on (:meth:`ModelMarket.run_session`, the
    split of :func:`market_split`); a silo's daemon registers and checks this N.
    """
    if not 0 <= index < n:
        raise ValueError(f"index {index} is not a slot of {n} silos")
    return int(_silo_set(dataset, n, seed, alpha).sizes[index])


class MarketAgent:
    """A silo's side of the market: the offered terms must carry its own report unchanged.

    It has no best response to compute: ``respond`` returns the registered report whatever
    the others do (the market prices imports from the graph, not from a strategy profile).
    """

    def __init__(self, private: MarketReport, terms: MarketTerms) -> None:
        if private.name not in terms.names:
            raise ValueError(f"silo {private.name!r} is not in the terms' names {terms.names}")
        offered = terms.reports[terms.names.index(private.name)]
        for key in ("N", "c", "K"):
            if getattr(offered, key) != getattr(private, key):
                raise ValueError(
                    f"terms.reports[{private.name}].{key} = {getattr(offered, key)!r} but the "
                    f"silo registered {getattr(private, key)!r}; the coordinator must offer the "
                    "registered report"
                )
        self.report = private

    @property
    def name(self) -> str:
        return self.report.name

    def respond(self, others_total: float) -> MarketReport:
        return self.report


class ModelMarket(NoStrategyPhase):
    """Mechanism 3 (see the module docstring); its "strategies" are the silos' reports."""

    name = "market"
    has_strategy_phase = False
    #: the Dirichlet concentration of the split used when the silo count is not a multiple of 3
    demo_alpha = 0.3

    @property
    def report_view(self) -> ReportView:
        """Columns and plots of ``report.md`` (:class:`fl_node.report.ReportView`)."""
        return _report_view()

    @staticmethod
    def _terms(config: ConsortiumConfig) -> MarketTerms:
        terms: Any = config.terms
        if not isinstance(terms, MarketTerms):
            raise ValueError(
                f"[terms]: mechanism market needs MarketTerms, got {type(terms).__name__}; "
                'set [coordinator].mechanism = "market" and the market\'s [terms] '
                "(fl_node.coordinator._market_config)"
            )
        return terms

    def _accepted(
        self,
        config: ConsortiumConfig,
        *,
        coordinator: str | None,
        now: int = 0,
        windows: tuple[int, int] = (3600, 3600),
    ) -> AcceptedTerms:
        """The on-chain config and slots of ``config``'s round (:func:`market_accepted_terms`)."""
        if coordinator is None:
            raise ValueError(
                "[coordinator].key: the market's table of graphs is submitted by the "
                "coordinator; give the coordinator a key (demo: drop --no-attest)"
            )
        return market_accepted_terms(
            self._terms(config),
            config.units,
            [s.account for s in config.silos],
            rounds=config.fl.rounds,
            coordinator=coordinator,
            token=config.token,
            now=now,
            windows=windows,
        )

    # ------------------------------------------------------------- game / terms
    def open_round(
        self,
        client: SettlementClient,
        config: ConsortiumConfig,
        *,
        coordinator: str | None,
        windows: tuple[int, int],
    ) -> int:
        terms = self._accepted(
            config, coordinator=coordinator, now=client.chain_time(), windows=windows
        )
        return int(client.market_round_open(terms.config, list(terms.orgs)).round_id)

    def accepted_terms(self, config: ConsortiumConfig, *, coordinator: str | None) -> AcceptedTerms:
        return self._accepted(config, coordinator=coordinator)

    def terms_document(self, config: ConsortiumConfig) -> dict[str, Any]:
        """The terms every silo checks the round against: the reports and parameters, the
        chain units and the priced FL rounds its bond covers."""
        from fl_node.daemon import units_to_json

        return {
            "market": self._terms(config).to_json(),
            "units": units_to_json(config.units),
            "rounds": config.fl.rounds,
        }

    def initial_strategies(
        self, config: ConsortiumConfig, silos: Sequence[SiloEntry]
    ) -> list[MarketReport]:
        """The registered reports of ``silos`` (the session's per-silo records)."""
        terms = self._terms(config)
        return [terms.reports[s.index] for s in silos]

    def silo_agent(self, private: Any, terms_document: Mapping[str, Any]) -> MarketAgent:
        return MarketAgent(private, MarketTerms.from_json(terms_document["market"]))

    def strategy_to_json(self, strategy: MarketReport) -> dict[str, Any]:
        return asdict(strategy)

    def strategy_from_json(self, document: Mapping[str, Any]) -> MarketReport:
        return MarketReport(**document)

    def strategy_fields(self, strategy: MarketReport | None) -> dict[str, Any]:
        if strategy is None:
            return {"N": None, "c": None, "K": None}
        return {"N": strategy.N, "c": strategy.c, "K": strategy.K}

    # ---------------------------------------------------------------- session
    def run_session(
        self,
        config: ConsortiumConfig,
        silos: Sequence[SiloEntry],
        *,
        runtime: Any,
        note: Callable[..., None],
    ) -> SessionOutcome:
        """Train the silos through the market (module docstring); every slot must have joined.

        One round loop (:func:`fl_node.market.run_market_rounds`) on either runtime: embedded
        (``runtime`` None) over in-process silos (:func:`fl_node.market.run_market`), or the
        Flower deployment (``runtime.train_market``: the ServerApp runs the loop over the
        silos' SuperNodes, whose node config must hold the market's data: ``market-split``,
        see :mod:`fl_node.flower._silo`); the recorded distances are re-solved here.
        """
        from fl_node.coordinator import TrainingOutcome
        from fl_node.market import LocalTraining, MarketPlan, MarketRun, MarketTraining

        missing = sorted({s.name for s in config.silos} - {s.name for s in silos})
        if missing:
            raise ValueError(
                f"silos {missing} did not join: every slot of a market round trains and is "
                "priced; rerun with every silo"
            )
        start = time.perf_counter()
        terms = self._terms(config)
        fl = config.fl
        # round 0 is local training (distances need a direction); then fl.rounds priced rounds
        plan = MarketPlan(
            terms.market(),
            terms.params,
            fl.rounds + 1,
            MarketTraining(LocalTraining(epochs=fl.epochs, lr=fl.lr), fl.seed, "mlp", (HIDDEN,)),
            model_seed=fl.seed,
            dataset=fl.dataset,
        )
        setup = None
        if runtime is None:
            run, setup = _embedded_run(plan, config)
        else:
            run = MarketRun.from_dict(runtime.train_market(plan)["history"], plan.market)
        names = terms.names
        graphs = [[[names[j] for j in row] for row in r.graph] for r in run.rounds]
        for k, graph in enumerate(graphs, start=1):
            note(
                "market-round",
                round=k,
                imports=sum(len(row) for row in graph),
                accuracy=float(np.mean(run.accuracy.history[k])),
                graph=graph,
            )
        training = TrainingOutcome(
            completed=names,
            dropped={},
            accuracy=[float(np.mean(h)) for h in run.accuracy.history],
            loss=[None] * len(run.accuracy.history),
            seconds=round(time.perf_counter() - start, 3),
            history={
                "graphs": graphs,
                "net_payment": [[float(v) for v in r.net_payment] for r in run.rounds],
            },
        )
        return SessionOutcome(
            training=training,
            strategies={r.name: r for r in terms.reports},
            table=market_graphs(run.rounds),
            details=(run, setup, terms.params),
        )

    def submit_table(
        self, client: SettlementClient, round_id: int, table: Any, *, sender: Any
    ) -> Any:
        if client.report_table(round_id) is not None:  # a resumed round's table is on chain
            return None
        return client.market_table_submit(round_id, table, sender=sender)

    # ------------------------------------------------------------ embedded demo
    def check_options(self, opts: DemoOptions) -> None:
        """Reject demo options the market cannot run (a ValueError naming the option)."""
        if not opts.attest:
            raise ValueError(
                "--no-attest: the market's table of graphs is submitted by the coordinator; "
                "run the market demo without --no-attest"
            )

    def demo_silos(
        self, n: int, *, dataset: str, alpha: float, seed: int
    ) -> tuple[list[str], list[int], str]:
        """The demo's silos: names, training sizes (their N) and the ``[data]`` line."""
        data = _silo_set(dataset, n, seed, alpha)
        sizes = [int(v) for v in data.sizes]
        return (
            [s.name for s in data.silos],
            sizes,
            f"[data] {dataset}: {n} silos ({data.split} split), N = {sizes}",
        )

    def demo_consortium(
        self,
        names: Sequence[str],
        sizes: Sequence[int],
        *,
        seed: int,
        epochs: int,
        silos: Sequence[Any] = (),
        progress: Callable[[str], None] | None = None,
    ) -> EmbeddedConsortium:
        """N = the silos' sizes; c and K drawn from ``seed`` (:meth:`MarketParams.draw`)."""
        from fl_node.chain_steps import ChainUnits
        from fl_node.market import MarketParams

        params = MarketParams()
        market = params.draw(names, sizes, seed)
        reports = tuple(
            MarketReport(name, int(N), float(c), float(K))
            for name, N, c, K in zip(names, sizes, market.c, market.K, strict=True)
        )
        if progress is not None:
            progress(f"[data] c and K drawn (lambda_pay {params.lambda_pay})")
        return EmbeddedConsortium(
            terms=MarketTerms(reports, params),
            units=ChainUnits(x_scale=K_SCALE, f_scale=F_SCALE, unit_wei=UNIT_WEI),
            private=reports,
            # the consortium registry's F_max and p are TradeFL's; the market registers N, c, K
            registry=tuple({"F_max": 0.0, "p": 0.0} for _ in reports),
            full_information=market,
        )

    def report_rows(
        self,
        consortium: EmbeddedConsortium,
        strategies: Sequence[MarketReport],
        chain_rows: Sequence[Any],
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Each silo's registered report next to its on-chain slot (N = ``base``)."""
        rows = [
            {**self.strategy_fields(s), "N_onchain": int(prof.base)}
            for s, prof in zip(strategies, chain_rows, strict=True)
        ]
        return rows, {}

    def demo_report(
        self,
        opts: DemoOptions,
        outcome: SessionOutcome,
        client: SettlementClient,
        round_id: int,
        *,
        payouts: Sequence[int | None],
        gas: dict[str, int],
        mark: Callable[[str], None],
        marks: Mapping[str, float],
        progress: Progress,
    ) -> dict[str, Any]:
        """``report.json`` of the demo round: the local-only comparison, the mirror check."""
        from fl_node.market import run_baseline
        from settlement import market_outcome

        run, setup, params = outcome.details
        local = run_baseline("local", setup)
        mark("local")
        progress(f"[train] local-only: mean accuracy {float(np.mean(local.final)):.4f}")
        profiles = client.profiles(round_id)
        state = client.round_state(round_id)
        config = client.round_config(round_id)
        mirror = market_outcome(
            config,
            [_org_spec(p) for p in profiles],
            {i: int(p.deposited) for i, p in enumerate(profiles) if p.joined},
            client.report_table(round_id),
        )
        chain = {
            "round_id": round_id,
            "profiles": profiles,
            "payouts": list(payouts),
            "sum_deposits_wei": int(state.total_deposits),
            "sum_payouts_wei": int(state.total_withdrawn),
            "payoff_digest": "0x" + bytes(state.payoff_digest).hex(),
            "mirror_payoffs": [int(p) for p in mirror.payoffs],
            "mirror_digest": "0x" + bytes(mirror.digest).hex(),
            "gas": gas,
            "unit_wei": int(config.gamma_wad),  # the round's value of 1.0 unit of utility
            "k_scale": int(config.x_scale),
        }
        mark("report")
        split = market_split(opts.dataset, opts.orgs)
        return _result(opts, run.true_market, params, run, local, chain, dict(marks), split)


def _embedded_run(plan: Any, config: ConsortiumConfig) -> tuple[Any, Any]:
    """``run_session``'s embedded run: the market's silos in this process, one torch thread."""
    import torch

    from fl_node.market import Setup, model_vector, run_market

    fl = config.fl
    data = _silo_set(fl.dataset, len(config.silos), fl.seed, fl.alpha)
    sizes = [int(v) for v in data.sizes]
    reported = [int(v) for v in plan.market.N]
    if sizes != reported:
        raise ValueError(
            f"terms.reports N {reported} differ from the silos' training sizes {sizes}; "
            "register each silo's real size"
        )
    torch.set_num_threads(1)
    model = plan.initial_model(data.meta)
    hp, seed = plan.training.hp, plan.training.seed
    setup = Setup(data.silos, model, model_vector(model), plan.rounds, hp, seed)
    return run_market(setup, plan.market, plan.params), setup


def _org_spec(profile: Any) -> OrgSpec:
    from settlement import OrgSpec

    return OrgSpec(profile.account, profile.x_max, profile.f_max, profile.base)


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
            "unit_wei": chain["unit_wei"],
            "k_scale_onchain": chain["k_scale"],
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
    from fl_node.report import bar_plot, payoff_plot

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
        payoff_plot(
            plt,
            out,
            "payments.png",
            result,
            "On-chain payoffs: export income minus import payments",
        ),
    ]


def _report_view() -> ReportView:
    from fl_node.report import IDENTITY_COLUMNS, MONEY_COLUMNS, ReportView

    return ReportView(
        accuracy_line=_accuracy_line,
        columns=(
            *IDENTITY_COLUMNS,
            ("N", lambda o: str(o["N"])),
            ("c", lambda o: f"{o['c']:.3f}"),
            ("K", lambda o: f"{o['K']:.0f}"),
            ("imports", lambda o: str(sum(len(r) for r in o["imports"]))),
            ("exports", lambda o: str(sum(len(r) for r in o["exports"]))),
            ("net received", lambda o: f"{o['payments']['net']:.4g}"),
            *MONEY_COLUMNS,
            ("acc. market", lambda o: f"{o['accuracy_personalized']:.3f}"),
            ("acc. local", lambda o: f"{o['accuracy_local']:.3f}"),
        ),
        plots=_plots,
    )
