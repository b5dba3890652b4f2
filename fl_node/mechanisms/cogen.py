"""Cogen (mechanism 2): strategic synthetic-data generation, after CoCoGen+ (seeds 000/001).

Game: :mod:`solver.cogen` (a weighted potential game over the aggregate X of synthetic samples;
spec section 2). Public terms (:class:`CogenTerms`): every silo's registered real-sample count
D_i, label heterogeneity delta_i, valuation theta_i and generation limit x_i^max, the
competition matrix gamma, the loss parameters a, b, alpha_D, the redistribution intensity kappa,
the quality weight q and the reference label distribution qbar. theta_i is public like TradeFL's
p_i: a rival's valuation enters org i's weight w_i through the competition loss. Private to a
silo: its cost per synthetic sample c_i, measured on its own generator, and its data.

Strategy phase: distributed best response over the aggregate. The coordinator broadcasts
X_-i; the silo's agent (:class:`CogenAgent`) answers with its exact best response from its own
view of the game (:func:`solver.cogen.view_response`); only the aggregate and its answer x_i
cross the network. Training plan: each silo trains on its real data plus exactly
``round(x_i)`` samples of its own generator (:func:`mixed_training_data`, through the train
message's ``synthetic`` key), and FedAvg weights it by ``D_i + x_i``. On chain: mechanism id 2,
each slot registered with ``base = D_i`` and ``xMax = x_i^max``, ``gammaWad`` = kappa in wei per
unit of score, ``lambdaWad`` = q; the report is ``(x_i, 0)`` and the contract pays
``R_i = kappa sum_j gamma_ij (s_i - s_j)`` over ``s_i = D_i + q x_i``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from fl_node.mechanisms.base import EmbeddedConsortium

if TYPE_CHECKING:
    from fl_node.chain_steps import ChainUnits
    from fl_node.cogen import (
        ClassConditionalGenerator,
        GenerationCost,
        MixedData,
        Quality,
    )
    from fl_node.coordinator import ConsortiumConfig, SiloEntry
    from fl_node.flower import Assignment, LocalSilo
    from fl_node.strategy_phase import Responder, StrategyPhaseResult
    from settlement import AcceptedTerms, SettlementClient
    from solver.cogen import CogenGame, CogenOrg

__all__ = [
    "Cogen",
    "CogenAgent",
    "CogenDemoSettings",
    "CogenStrategy",
    "CogenTerms",
    "DemoGame",
    "cogen_accepted_terms",
    "cogen_report",
    "generator_seed",
    "mixed_training_data",
    "prepare_silo",
    "train_silo_generator",
]


@dataclass(frozen=True)
class CogenStrategy:
    """One silo's strategy: ``x`` synthetic samples on top of its ``D`` real ones.

    A cogen silo always trains on all its real data, unpaced: ``d`` is 1 and ``f`` is 0 (the
    fields the shared strategy-phase loop and its trace read).
    """

    name: str
    x: float
    D: float

    @property
    def d(self) -> float:
        return 1.0

    @property
    def f(self) -> float:
        return 0.0

    @property
    def samples(self) -> int:
        """The synthetic samples actually generated and reported: ``round(x)``."""
        return round(self.x)


@dataclass(frozen=True)
class CogenTerms:
    """The public terms of a cogen round (see the module docstring), per silo in slot order."""

    names: tuple[str, ...]
    D: tuple[float, ...]
    delta: tuple[float, ...]
    theta: tuple[float, ...]
    x_max: tuple[float, ...]
    gamma: tuple[tuple[float, ...], ...]
    a: float
    b: float
    alpha_D: float
    kappa: float
    q: float
    qbar: tuple[float, ...]
    #: the generator kind every silo trains (:data:`fl_node.cogen.GENERATOR_KINDS`): its
    #: cost c_i is measured on it and the quality weight q refers to it
    generator: str = "gmm"

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        return {k: [list(r) for r in v] if k == "gamma" else v for k, v in doc.items()}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CogenTerms:
        missing = [k for k in cls.__dataclass_fields__ if k not in doc and k != "generator"]
        if missing:
            raise ValueError(f"cogen terms lack {missing}; the coordinator must send every field")
        return cls(
            names=tuple(str(n) for n in doc["names"]),
            D=tuple(float(v) for v in doc["D"]),
            delta=tuple(float(v) for v in doc["delta"]),
            theta=tuple(float(v) for v in doc["theta"]),
            x_max=tuple(float(v) for v in doc["x_max"]),
            gamma=tuple(tuple(float(v) for v in row) for row in doc["gamma"]),
            a=float(doc["a"]),
            b=float(doc["b"]),
            alpha_D=float(doc["alpha_D"]),
            kappa=float(doc["kappa"]),
            q=float(doc["q"]),
            qbar=tuple(float(v) for v in doc["qbar"]),
            generator=str(doc.get("generator", "gmm")),
        )

    def game(
        self, costs: Mapping[str, float] | None = None, active: Sequence[str] | None = None
    ) -> CogenGame:
        """The game among ``active`` (default all) silos; ``costs`` by name (default 0).

        A silo knows only its own cost; the others' costs do not enter its best response.
        """
        from solver.cogen import CogenGame, CogenOrg

        names = list(self.names) if active is None else list(active)
        unknown = sorted(set(names) - set(self.names))
        if unknown:
            raise ValueError(f"active silos {unknown} are not in the terms' names")
        idx = [self.names.index(n) for n in names]
        c = costs or {}
        orgs = tuple(
            CogenOrg(
                name=self.names[i],
                D=self.D[i],
                delta=self.delta[i],
                theta=self.theta[i],
                c=float(c.get(self.names[i], 0.0)),
                x_max=self.x_max[i],
            )
            for i in idx
        )
        gamma = np.array(self.gamma, dtype=float)[np.ix_(idx, idx)]
        return CogenGame(
            orgs=orgs,
            a=self.a,
            b=self.b,
            alpha_D=self.alpha_D,
            kappa=self.kappa,
            q=self.q,
            gamma=gamma,
        )


class CogenAgent:
    """A silo's private decision maker: its exact best response to the others' aggregate.

    Parameters
    ----------
    private : CogenOrg
        The silo's own record; its ``c`` is private, its ``D`` and ``x_max`` must match the
        registered terms.
    terms : CogenTerms
    active : sequence of str, optional
        The silos in the phase (default all).
    """

    def __init__(
        self, private: CogenOrg, terms: CogenTerms, active: Sequence[str] | None = None
    ) -> None:
        if private.name not in terms.names:
            raise ValueError(f"silo {private.name!r} is not in the terms' names {terms.names}")
        i = terms.names.index(private.name)
        for key in ("D", "x_max"):
            mine, registered = getattr(private, key), getattr(terms, key)[i]
            if mine != registered:
                raise ValueError(
                    f"terms.{key}[{i}] = {registered!r} but silo {private.name!r} has "
                    f"{key} = {mine!r}; the consortium must register the silo's own numbers"
                )
        game = terms.game({private.name: private.c}, active)
        self.view = game.view(private.name)
        self._D = private.D

    @property
    def name(self) -> str:
        return self.view.name

    def respond(self, others_total: float) -> CogenStrategy:
        from solver.cogen import view_response

        return CogenStrategy(self.name, view_response(self.view, others_total), self._D)


# ------------------------------------------------------------------ a silo's own generator
@dataclass
class _Prepared:
    generator: ClassConditionalGenerator
    qbar: tuple[float, ...]
    mixed: dict[tuple[int, int], MixedData] = field(default_factory=dict)


_prepared: dict[tuple[str, str], _Prepared] = {}
_prepared_lock = threading.Lock()


def _fingerprint(silo: LocalSilo) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(silo.data.x).tobytes())
    h.update(np.ascontiguousarray(silo.data.y).tobytes())
    return h.hexdigest()


def prepare_silo(silo: LocalSilo, generator: ClassConditionalGenerator, qbar: ArrayLike) -> None:
    """Register ``silo``'s trained generator and the reference distribution for training.

    The silo does this itself before the strategy phase (it measures its cost per sample on the
    same generator); :func:`mixed_training_data` then finds it for any :class:`LocalSilo` with
    the same name and the same data, in this process.
    """
    with _prepared_lock:
        _prepared[(silo.name, _fingerprint(silo))] = _Prepared(
            generator, tuple(float(v) for v in np.asarray(qbar, dtype=float))
        )


def generator_seed(seed: int, partition_id: int) -> int:
    """The seed a silo's generator is trained with (the demo's ``seed * 100 + i``)."""
    return seed * 100 + partition_id


def train_silo_generator(silo: LocalSilo, kind: str, *, seed: int = 0) -> ClassConditionalGenerator:
    """Train ``silo``'s own ``kind`` generator on its data only.

    The seed is :func:`generator_seed`, so the silo's daemon (which measures its cost on it)
    and the process that trains the silo (a SuperNode's ClientApp, or the embedded runtime)
    train the same generator.
    """
    from fl_node.cogen import make_generator

    return make_generator(kind, silo.meta.n_classes).fit(
        silo.data, seed=generator_seed(seed, silo.partition_id)
    )


def mixed_training_data(silo: LocalSilo, config: Mapping[str, Any]) -> MixedData:
    """The silo's real data plus exactly ``config["synthetic"]`` samples of its own generator.

    Generated once per (samples, seed) and reused in every FL round. The samples move the
    silo's label mix toward qbar (:func:`fl_node.cogen.mixed_dataset`). A silo without a
    prepared generator trains one first (:func:`train_silo_generator`) when the message names
    its kind and qbar (``generator``, ``qbar`` as comma-separated numbers, ``generator-seed``: what
    :meth:`Cogen.training_plan` sends in the distributed runtime).

    Raises
    ------
    fl_node.flower.SiloConfigError
        If this silo has no prepared generator (:func:`prepare_silo`) and the message does not
        say which one to train.
    """
    from fl_node.cogen import mixed_dataset
    from fl_node.flower import SiloConfigError

    x = int(config["synthetic"])
    seed = int(config.get("seed", 0)) + silo.partition_id
    key = (silo.name, _fingerprint(silo))
    with _prepared_lock:
        entry = _prepared.get(key)
    if entry is None and "generator" in config and "qbar" in config:
        generator = train_silo_generator(
            silo, str(config["generator"]), seed=int(config.get("generator-seed", 0))
        )
        prepare_silo(silo, generator, [float(v) for v in str(config["qbar"]).split(",")])
        with _prepared_lock:
            entry = _prepared.get(key)
    if entry is None:
        raise SiloConfigError(
            f"silo {silo.name!r} was asked for {x} synthetic samples but has no trained "
            "generator for its data; train one and call fl_node.mechanisms.cogen.prepare_silo"
        )
    mix_key = (x, seed)
    with _prepared_lock:
        mixed = entry.mixed.get(mix_key)
    if mixed is None:
        mixed = mixed_dataset(silo.data, entry.generator, x, entry.qbar, seed=seed)
        with _prepared_lock:
            entry.mixed[mix_key] = mixed
    return mixed


def cogen_report(
    client: SettlementClient, round_id: int, index: int, strategy: CogenStrategy
) -> tuple[int, int]:
    """Slot ``index``'s on-chain report of ``strategy``: ``(round(x) * x_scale, 0)``, capped."""
    cfg = client.round_config(round_id)
    x_max = client.profile_record(round_id, index).x_max
    return min(max(round(strategy.samples * cfg.x_scale), 0), x_max), 0


def cogen_accepted_terms(
    terms: CogenTerms,
    units: ChainUnits,
    accounts: Sequence[str],
    *,
    coordinator: str | None,
    token: str | None = None,
    now: int = 0,
    windows: tuple[int, int] = (3600, 3600),
) -> AcceptedTerms:
    """The round a cogen consortium opens, as every silo checks it (slots ``base = D_i``).

    Mechanism id 2, ``gammaWad`` = kappa in wei per unit of score, ``lambdaWad`` = q, slot i
    with ``xMax = x_i^max`` (in ``units.x_scale``), ``fMax = 0`` and ``base = D_i``; rho is
    the packed competition matrix gamma. Deadlines from ``now`` (not compared by default).
    """
    from settlement import (
        MECHANISM_COGEN,
        ZERO_ADDRESS,
        AcceptedTerms,
        OrgSpec,
        pack_rho,
        rho_to_bps,
        round_config_from_reals,
    )

    if len(accounts) != len(terms.names):
        raise ValueError(
            f"{len(accounts)} accounts for {len(terms.names)} silos in the cogen terms"
        )
    round_config = round_config_from_reals(
        now=now,
        gamma=units.gamma_wei(terms.kappa),
        lambda_=terms.q,
        d_min=0,
        x_scale=units.x_scale,
        f_scale=1,
        deposit_window=windows[0],
        report_window=windows[1],
        coordinator=coordinator or ZERO_ADDRESS,
        token=token or ZERO_ADDRESS,
        mechanism_id=MECHANISM_COGEN,
    )
    orgs = [
        OrgSpec(
            account=account,
            x_max=round(terms.x_max[i] * units.x_scale),
            f_max=0,
            base=round(terms.D[i]),
        )
        for i, account in enumerate(accounts)
    ]
    rho = pack_rho(rho_to_bps([list(r) for r in terms.gamma]))
    return AcceptedTerms(config=round_config, orgs=orgs, rho=rho)


# ------------------------------------------------------------------ the embedded demo
@dataclass(frozen=True)
class CogenDemoSettings:
    """The demo consortium's choices (the loss parameters are the issue's example, not fitted).

    ``price`` turns the measured CPU seconds of a silo's generator into its cost c_i (money per
    CPU-second, an assumption); ``unit_wei`` is the wei value of one unit of money.
    """

    generator: str = "gmm"
    theta: float = 10.0
    price: float = 300.0
    gamma: float = 0.1
    kappa: float = 0.01
    q: float = 1.0
    x_max_ratio: float = 2.0
    a: float = 2.0
    b: float = 0.5
    alpha_D: float = 0.8
    unit_wei: int = 10**16


@dataclass(frozen=True)
class DemoGame:
    """The demo's full-information game and what each silo measured about its generator."""

    game: CogenGame
    costs: tuple[GenerationCost, ...]
    quality: tuple[Quality, ...]
    settings: CogenDemoSettings


class Cogen:
    """The second mechanism (synthetic-data generation); strategies are :class:`CogenStrategy`."""

    name = "cogen"
    #: the demo's default Dirichlet concentration: strongly non-IID silos
    demo_alpha = 0.1

    def __init__(self, settings: CogenDemoSettings | None = None) -> None:
        self.settings = settings or CogenDemoSettings()

    @property
    def report_view(self) -> Any:
        """Columns and plots of ``report.md`` (:class:`fl_node.report.ReportView`)."""
        return _report_view()

    @staticmethod
    def _terms(config: ConsortiumConfig) -> CogenTerms:
        terms: Any = config.terms
        if not isinstance(terms, CogenTerms):
            raise TypeError(
                f"[terms]: mechanism cogen needs CogenTerms, got {type(terms).__name__}"
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
        """The round's config (deadlines from ``now``), slots (``base = D_i``) and packed gamma."""
        return cogen_accepted_terms(
            self._terms(config),
            config.units,
            [s.account for s in config.silos],
            coordinator=coordinator,
            token=config.token,
            now=now,
            windows=windows,
        )

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
        return int(client.round_open(terms.config, list(terms.orgs), terms.rho).round_id)

    def accepted_terms(self, config: ConsortiumConfig, *, coordinator: str | None) -> AcceptedTerms:
        return self._accepted(config, coordinator=coordinator)

    def terms_document(self, config: ConsortiumConfig) -> dict[str, Any]:
        from fl_node.daemon import units_to_json

        return {"cogen": self._terms(config).to_json(), "units": units_to_json(config.units)}

    def initial_strategies(
        self, config: ConsortiumConfig, silos: Sequence[SiloEntry]
    ) -> list[CogenStrategy]:
        # nobody generates
        return [CogenStrategy(s.name, 0.0, s.s) for s in silos]

    def run_strategy_phase(
        self, responders: Sequence[Responder], initial: Sequence[CogenStrategy], *, max_sweeps: int
    ) -> StrategyPhaseResult:
        from fl_node.strategy_phase import run_strategy_phase

        return run_strategy_phase(responders, initial, max_sweeps=max_sweeps)  # type: ignore[arg-type]

    def silo_agent(self, private: Any, terms_document: Mapping[str, Any]) -> CogenAgent:
        terms = CogenTerms.from_json(terms_document["cogen"])
        return CogenAgent(private, terms, terms_document.get("active"))

    def strategy_to_json(self, strategy: CogenStrategy) -> dict[str, Any]:
        return {"name": strategy.name, "x": strategy.x, "D": strategy.D}

    def strategy_from_json(self, document: Mapping[str, Any]) -> CogenStrategy:
        try:
            return CogenStrategy(str(document["name"]), float(document["x"]), float(document["D"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"a cogen strategy is an object with name, x and D; got {document!r}"
            ) from None

    def training_plan(
        self, strategies: Mapping[str, CogenStrategy], config: ConsortiumConfig | None = None
    ) -> dict[str, Assignment]:
        """Real data plus ``round(x_i)`` synthetic samples, weighted ``D_i + x_i``.

        With ``config`` the train message also names the generator kind, qbar and the seed, so
        a silo whose training process has no prepared generator trains its own first
        (:func:`mixed_training_data`; a SuperNode's ClientApp, or the embedded runtime).
        """
        from fl_node.flower import Assignment

        session: dict[str, Any] = {}
        if config is not None:
            terms = self._terms(config)
            session = {
                "generator": terms.generator,
                "qbar": ",".join(repr(float(v)) for v in terms.qbar),
                "generator-seed": config.fl.seed,
            }
        return {
            name: Assignment(
                d=1.0, f=0.0, x=s.D + s.samples, extra={"synthetic": s.samples, **session}
            )
            for name, s in strategies.items()
        }

    def comparison_plan(
        self, strategies: Mapping[str, CogenStrategy]
    ) -> tuple[str, dict[str, Assignment]]:
        """The demo's comparison: the same silos and session on their real data only."""
        from fl_node.flower import Assignment

        plan = {name: Assignment(d=1.0, f=0.0, x=s.D) for name, s in strategies.items()}
        return "without_generation", plan

    def onchain_report(
        self, client: SettlementClient, round_id: int, silo: SiloEntry, strategy: CogenStrategy
    ) -> tuple[int, int]:
        return cogen_report(client, round_id, silo.index, strategy)

    def assignment_fields(self, strategy: CogenStrategy) -> dict[str, float]:
        return {"x": strategy.x}

    def strategy_fields(self, strategy: CogenStrategy | None) -> dict[str, Any]:
        if strategy is None:
            return {"D": None, "x": None, "synthetic": None}
        return {"D": strategy.D, "x": strategy.x, "synthetic": strategy.samples}

    def demo_consortium(
        self,
        names: Sequence[str],
        sizes: Sequence[int],
        *,
        seed: int,
        epochs: int,
        silos: Sequence[LocalSilo] = (),
        progress: Callable[[str], None] | None = None,
    ) -> EmbeddedConsortium:
        """Every silo trains its generator and measures its cost and quality; terms from that.

        ``silos`` (the silos' data, in slot order) is required: the cost c_i, the
        heterogeneity delta_i and qbar are measured on it.
        """
        from fl_node.chain_steps import ChainUnits
        from fl_node.cogen import (
            make_generator,
            measure_cost,
            measure_quality,
            pooled_distribution,
        )
        from fl_node.data import get_source
        from solver.cogen import CogenOrg, heterogeneity

        if len(silos) != len(names):
            raise ValueError(
                f"cogen's demo consortium measures every silo's data: got {len(silos)} silos "
                f"for {len(names)} names"
            )
        st = self.settings
        meta = silos[0].meta
        hist = np.array([np.bincount(s.data.y, minlength=meta.n_classes) for s in silos])
        qbar = pooled_distribution(hist)
        test = get_source(meta.name).split(test_fraction=0.25, seed=seed).test
        orgs, costs, quality = [], [], []
        for i, silo in enumerate(silos):
            gen = make_generator(st.generator, meta.n_classes).fit(silo.data, seed=seed * 100 + i)
            x_max = max(1, round(st.x_max_ratio * len(silo.data)))
            cost = measure_cost(gen, x_max=x_max, price_per_cpu_second=st.price, seed=seed)
            qual = measure_quality(gen, silo.data, test, seed=seed)
            prepare_silo(silo, gen, qbar)
            costs.append(cost)
            quality.append(qual)
            orgs.append(
                CogenOrg(
                    name=names[i],
                    D=float(sizes[i]),
                    delta=heterogeneity(hist[i], qbar),
                    theta=st.theta,
                    c=cost.c,
                    x_max=float(x_max),
                )
            )
            if progress is not None:
                progress(
                    f"[generate] {names[i]}: {st.generator} generator trained in "
                    f"{gen.fit_seconds:.2f} CPU-s on {len(silo.data)} samples "
                    f"({int(gen.available.sum())} classes); c = {cost.c:.4g}/sample, "
                    f"quality {qual.relative_quality:.3f} (q = {st.q:g})"
                )
        n = len(names)
        gamma = st.gamma * (np.ones((n, n)) - np.eye(n))
        terms = CogenTerms(
            names=tuple(names),
            D=tuple(o.D for o in orgs),
            delta=tuple(o.delta for o in orgs),
            theta=tuple(o.theta for o in orgs),
            x_max=tuple(o.x_max for o in orgs),
            gamma=tuple(tuple(float(v) for v in row) for row in gamma),
            a=st.a,
            b=st.b,
            alpha_D=st.alpha_D,
            kappa=st.kappa,
            q=st.q,
            qbar=tuple(float(v) for v in qbar),
            generator=st.generator,
        )
        game = terms.game({o.name: o.c for o in orgs})
        return EmbeddedConsortium(
            terms=terms,
            units=ChainUnits(x_scale=1, f_scale=1, unit_wei=st.unit_wei),
            private=tuple(orgs),
            registry=tuple({"F_max": 0.0, "p": 0.0} for _ in orgs),
            full_information=DemoGame(game, tuple(costs), tuple(quality), st),
        )

    def report_rows(
        self,
        consortium: EmbeddedConsortium,
        strategies: Sequence[CogenStrategy],
        chain_rows: Sequence[Any],
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        from solver.cogen import evaluate, solve

        info: DemoGame = consortium.full_information
        game = info.game
        x = [float(s.x) for s in strategies]
        check = evaluate(game, x)
        trained = evaluate(game, [s.samples for s in strategies])
        unit = consortium.units.x_scale
        rows = [
            {
                "D": float(game.D[i]),
                "delta": float(game.delta[i]),
                "x": s.samples,
                "x_equilibrium": s.x,
                "x_max": float(game.x_max[i]),
                "c": float(game.c[i]),
                "score": float(game.D[i]) + game.q * s.samples,
                "score_onchain": int(prof.score),
                "x_onchain": int(prof.x) / unit,
                "payoff": float(trained.parts.payoff[i]),
                "R_game": float(trained.parts.redistribution[i]),
                "individually_rational": bool(trained.individually_rational[i]),
                "generator": info.costs[i].to_dict(),
                "quality": info.quality[i].to_dict(),
            }
            for i, (s, prof) in enumerate(zip(strategies, chain_rows, strict=True))
        ]
        reference = solve(game, "fixed-point")
        summary = {
            "is_nash": bool(check.is_nash),
            "potential": float(check.potential),
            "social_welfare": float(check.social_welfare),
            "fixed_point_x": [float(v) for v in reference.x],
            "max_abs_diff_to_fixed_point": float(np.max(np.abs(np.subtract(x, reference.x)))),
            "settings": asdict(info.settings),
            "q": game.q,
            "kappa": game.kappa,
        }
        return rows, summary


# ------------------------------------------------------------------ report.md
def _accuracy_line(result: dict[str, Any]) -> str:
    without = result["accuracy_without_generation"]
    return (
        f"- FL rounds: {len(result['accuracy'])}; final test accuracy with generation "
        f"**{result['accuracy'][-1]:.4f}** (loss {result['loss'][-1]:.4f}), the same session "
        f"without generation {without[-1]:.4f} (loss {result['loss_without_generation'][-1]:.4f}); "
        f"the same model trained centrally: {result['centralized_accuracy']:.4f}; "
        f"kappa = {result['equilibrium']['kappa']:g}, q = {result['equilibrium']['q']:g}"
    )


def _plots(out: Path, result: dict[str, Any], plt: Any) -> list[str]:
    from fl_node.report import payoff_plot

    orgs = result["orgs"]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.scatter([o["delta"] for o in orgs], [o["x"] / o["D"] for o in orgs])
    for o in orgs:
        ax.annotate(o["name"], (o["delta"], o["x"] / o["D"]), fontsize=7)
    ax.set_xlabel("heterogeneity delta_i (L1 to qbar)")
    ax.set_ylabel("synthetic per real sample x_i / D_i")
    ax.set_title("Generation vs heterogeneity (equilibrium)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "generation.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    rounds = list(range(1, len(result["accuracy"]) + 1))
    ax.plot(rounds, result["accuracy"], marker="o", label="with generation")
    ax.plot(rounds, result["accuracy_without_generation"], marker="s", label="without")
    ax.set_xlabel("FL round")
    ax.set_ylabel("test accuracy")
    ax.set_title("Global model accuracy per round")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=110)
    plt.close(fig)
    payoffs = payoff_plot(
        plt, out, "payoffs.png", result, "On-chain redistribution over s = D + q x (sums to zero)"
    )
    return ["generation.png", "accuracy.png", payoffs]


def _measured_cell(o: dict[str, Any]) -> str:
    """The silo's leave-one-out score as the coordinator's table stored it (1e-9 units)."""
    value = o.get("leave_one_out_onchain")
    return "–" if value is None else f"{value:.4g}"


def _report_view() -> Any:
    from fl_node.report import IDENTITY_COLUMNS, MONEY_COLUMNS, ReportView

    return ReportView(
        accuracy_line=_accuracy_line,
        columns=(
            *IDENTITY_COLUMNS,
            ("D", lambda o: f"{o['D']:.0f}"),
            ("delta", lambda o: f"{o['delta']:.3f}"),
            ("x", lambda o: str(o["x"])),
            ("x_max", lambda o: f"{o['x_max']:.0f}"),
            ("c (per sample)", lambda o: f"{o['c']:.4g}"),
            ("quality", lambda o: f"{o['quality']['relative_quality']:.3f}"),
            ("score D + q x", lambda o: f"{o['score']:.1f}"),
            *MONEY_COLUMNS,
            ("payoff C_i", lambda o: f"{o['payoff']:.4g}"),
            ("IR", lambda o: "yes" if o["individually_rational"] else "no"),
            ("leave-one-out (on chain)", _measured_cell),
        ),
        plots=_plots,
    )
