"""``fedsettle experiment market``: personalized FL through the model-sharing market on digits.

Per seed and split (``clusters``: 9 silos in 3 label groups; ``dirichlet``): the market against
Local, FedAvg, FedProx, Ditto, FedAMP-, CFL-, FedFomo- and pFedGraph-style aggregation on the
same silos, model and local epochs; robustness runs with free-riders (with and without the
free-rider rule of :func:`fl_node.market.stalled`) and sign-flip attackers; and misreporting
runs (a x2 size liar with and without the size binding of :mod:`fl_node.market._commitment`, a
noisy-duplicate liar the binding cannot stop, a x2 cost liar). Writes ``market.json``, PNG plots and
``docs/market.md`` (:mod:`fl_node.experiments._market_report`).
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fl_node.data import ArrayDataset
from fl_node.market import (
    BASELINES,
    BaselineParams,
    LocalTraining,
    MarketParams,
    MarketRun,
    MerkleTree,
    Setup,
    Silo,
    SiloSet,
    accepted_size,
    build_silos,
    challenge_indices,
    detection_probability,
    honest_responder,
    leaf_hash,
    model_vector,
    run_baseline,
    run_market,
    verify_openings,
)
from fl_node.models import build_model
from solver.market import misreport_study

__all__ = ["MarketOptions", "run_market_experiment"]

Progress = Callable[[str], None]
METHODS = (*BASELINES, "market")
#: random one-round markets of the pure-model misreport study (context for the real runs)
PURE_MARKETS = 200


@dataclass(frozen=True)
class MarketOptions:
    """Options of ``fedsettle experiment market``.

    Attributes
    ----------
    seeds : tuple of int
    rounds, epochs : int
        FL rounds (the market's round 0 is local training) and local epochs per round.
    out : Path
        JSON and PNG output directory.
    doc : Path or None
        Where to write the Markdown report (None: not written).
    keep : float
        Share of each silo's samples it keeps (scarce data).
    hidden : int
        Width of the MLP's hidden layer.
    challenges : int
        Size-binding challenges per silo at join.
    liar : int
        Index of the misreporting silo.
    params : MarketParams
    """

    seeds: tuple[int, ...] = (0, 1, 2)
    rounds: int = 10
    epochs: int = 2
    out: Path = Path("docs/figures/market")
    doc: Path | None = Path("docs/market.md")
    keep: float = 0.3
    hidden: int = 32
    challenges: int = 20
    liar: int = 1
    params: MarketParams = field(default_factory=MarketParams)

    def __post_init__(self) -> None:
        checks = (
            ("seeds", 1 <= len(self.seeds) <= 20, "give 1 to 20 seeds"),
            ("rounds", 2 <= self.rounds <= 100, "must be between 2 and 100 FL rounds"),
            ("epochs", 1 <= self.epochs <= 20, "must be between 1 and 20 local epochs"),
            ("keep", 0 < self.keep <= 1, "must be in (0, 1]"),
            ("hidden", self.hidden >= 1, "must be >= 1"),
            ("challenges", self.challenges >= 1, "must be >= 1"),
            ("liar", 0 <= self.liar < 9, "must be a silo index in [0, 9)"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"--{name} {getattr(self, name)}: {rule}")


def _setup(opts: MarketOptions, silos: SiloSet, behaviours: Sequence[str] = ()) -> Setup:
    model = build_model(silos.meta, "mlp", seed=silos.seed, hidden=(opts.hidden,))
    return Setup(
        silos.silos,
        model,
        model_vector(model),
        opts.rounds,
        LocalTraining(epochs=opts.epochs),
        silos.seed,
        tuple(behaviours),
    )


def _names(silos: SiloSet) -> list[str]:
    return [s.name for s in silos.silos]


def _market_summary(run: MarketRun, honest: Sequence[int]) -> dict[str, Any]:
    received = -run.ledger.net_payment
    return {
        **run.accuracy.to_dict(honest),
        "ledger": run.ledger.to_dict(),
        "received": received.tolist(),
        "true_utility": run.true_utility().tolist(),
        "ir_all_rounds": bool(all(bool(np.all(r.ir)) for r in run.rounds)),
        "max_abs_budget_balance": float(max(abs(r.budget_balance) for r in run.rounds)),
        "imports_per_round": float(run.ledger.edges.sum() / max(run.ledger.rounds, 1)),
        "graph_last": [list(row) for row in run.rounds[-1].graph],
    }


def _accuracy_runs(opts: MarketOptions, silos: SiloSet) -> tuple[dict[str, Any], MarketRun]:
    setup = _setup(opts, silos)
    market = opts.params.draw(_names(silos), silos.sizes, silos.seed)
    out: dict[str, Any] = {}
    for name in BASELINES:
        out[name] = run_baseline(name, setup).to_dict(setup.honest)
    run = run_market(setup, market, opts.params)
    out["market"] = _market_summary(run, setup.honest)
    return out, run


def _mean_distance(run: MarketRun, b: int, js: list[int]) -> float:
    """Mean over rounds and over silos ``js`` of the distance d_bj."""
    return float(np.mean([r.distance[b, js] for r in run.rounds]))


#: robustness runs: behaviour of the two attackers, and whether the free-rider rule is on
ATTACKS = {
    "free_rider_no_rule": ("free_rider", False),
    "free_rider": ("free_rider", True),
    "sign_flip": ("sign_flip", True),
}


def _robustness(opts: MarketOptions, silos: SiloSet, clean: MarketRun) -> dict[str, Any]:
    """Two free-riders (without, then with the free-rider rule), then two sign-flip attackers
    (attackers in different label groups)."""
    market = opts.params.draw(_names(silos), silos.sizes, silos.seed)
    out: dict[str, Any] = {}
    for name, (kind, rule) in ATTACKS.items():
        bad = [0, 4]
        beh = ["honest"] * len(silos.silos)
        for b in bad:
            beh[b] = kind
        setup = _setup(opts, silos, beh)
        params = opts.params if rule else replace(opts.params, stall_tol=None)
        run = run_market(setup, market, params)
        fedavg = run_baseline("fedavg", setup)
        honest = setup.honest
        edges = run.ledger.edges
        groups = [s.group for s in silos.silos]
        mates = [[j for j in honest if groups[j] == groups[b]] for b in bad]
        others = [[j for j in honest if groups[j] != groups[b]] for b in bad]

        out[name] = {
            "attackers": bad,
            "free_rider_rule": rule,
            "distance_own_group": [
                _mean_distance(run, b, js) for b, js in zip(bad, mates, strict=True)
            ],
            "distance_other_groups": [
                _mean_distance(run, b, js) for b, js in zip(bad, others, strict=True)
            ],
            "honest_distance_other_groups": float(
                np.mean(
                    [
                        r.distance[i, j]
                        for r in run.rounds
                        for i in honest
                        for j in honest
                        if groups[i] != groups[j]
                    ]
                )
            ),
            "imported_by_own_group": [
                int(edges[js, b].sum()) for b, js in zip(bad, mates, strict=True)
            ],
            "imported_by_others": [int(edges[:, b].sum()) for b in bad],
            "imports": [int(edges[b].sum()) for b in bad],
            "received": [float(-run.ledger.net_payment[b]) for b in bad],
            "paid_by_importers": [float(run.ledger.payments[:, b].sum()) for b in bad],
            "honest_market_acc": float(np.mean([run.accuracy.final[i] for i in honest])),
            "honest_clean_market_acc": float(np.mean([clean.accuracy.final[i] for i in honest])),
            "honest_fedavg_acc": float(np.mean([fedavg.final[i] for i in honest])),
            "possible_imports": int(run.ledger.rounds * (len(silos.silos) - 1)),
            "ir_all_rounds": bool(all(bool(np.all(r.ir)) for r in run.rounds)),
        }
    return out


def _noisy_duplicate(silo: Silo, seed: int) -> Silo:
    rng = np.random.default_rng([seed, 11])
    x = silo.train.x
    noisy = (x + rng.normal(scale=1e-3, size=x.shape)).astype(np.float32)
    train = ArrayDataset(np.concatenate([x, noisy]), np.concatenate([silo.train.y] * 2))
    return replace(silo, train=train)


def _bound_size(silo: Silo, reported: float, k: int, seed: int, n_classes: int) -> dict[str, Any]:
    """Commit to the silo's real training set, challenge it, accept min(reported, proven)."""
    tree = MerkleTree.of_samples(silo.train.x, silo.train.y)
    c = tree.commitment
    rng = np.random.default_rng([seed, 13])
    res = verify_openings(
        c,
        challenge_indices(c, k, rng),
        honest_responder(tree, silo.train.x, silo.train.y),
        n_features=silo.train.x.shape[1],
        n_classes=n_classes,
    )
    return {
        "committed": c.n,
        "passed": res.passed,
        "accepted": accepted_size(reported, c, list(range(len(silo.train))), res),
    }


def _phantom_catch(silo: Silo, k: int, seed: int, n_classes: int) -> dict[str, Any]:
    """A x2 liar padding its commitment with leaves it cannot open: caught at join?"""
    n = len(silo.train)
    real = [leaf_hash(silo.train.x[i], int(silo.train.y[i])) for i in range(n)]
    fake = [np.random.default_rng([seed, i]).bytes(32) for i in range(n)]
    tree = MerkleTree(real + fake)
    honest = honest_responder(tree, silo.train.x, silo.train.y)
    c = tree.commitment
    res = verify_openings(
        c,
        challenge_indices(c, k, np.random.default_rng([seed, 17])),
        lambda j: honest(j) if tree.order[j] < n else None,
        n_features=silo.train.x.shape[1],
        n_classes=n_classes,
    )
    return {
        "committed": c.n,
        "passed": res.passed,
        "failures": len(res.failures),
        "detection_probability_lower_bound": detection_probability(n, 2 * n, k),
    }


def _liar_row(
    run: MarketRun, liar: int, accepted_n: float, truthful: MarketRun | None
) -> dict[str, Any]:
    u = run.true_utility()
    honest = [i for i in range(run.true_market.n) if i != liar]
    row = {
        "accepted_N": accepted_n,
        "liar_received": float(-run.ledger.net_payment[liar]),
        "liar_true_utility": float(u[liar]),
        "liar_accuracy": float(run.accuracy.final[liar]),
        "others_accuracy": float(np.mean([run.accuracy.final[i] for i in honest])),
        "others_true_utility": float(np.sum(u[honest])),
        "liar_imported_by": int(run.ledger.edges[:, liar].sum()),
        "liar_imports": int(run.ledger.edges[liar].sum()),
    }
    if truthful is not None:
        base = _liar_row(truthful, liar, float(truthful.true_market.N[liar]), None)
        for key in ("liar_received", "liar_true_utility", "liar_accuracy", "others_accuracy"):
            row[f"{key}_gain"] = row[key] - base[key]
    return row


def _misreport(opts: MarketOptions, silos: SiloSet, truthful: MarketRun) -> dict[str, Any]:
    liar = opts.liar
    setup = _setup(opts, silos)
    true = truthful.true_market
    n_true = float(true.N[liar])
    n_classes = silos.meta.n_classes
    out: dict[str, Any] = {"liar": liar, "true_N": n_true, "true_c": float(true.c[liar])}
    out["truthful"] = _liar_row(truthful, liar, n_true, truthful)

    N2 = true.N.copy()
    N2[liar] *= 2
    run = run_market(setup, true, opts.params, accepted=true.replace(N=N2))
    out["size_x2_unbound"] = _liar_row(run, liar, float(N2[liar]), truthful)

    bound = _bound_size(silos.silos[liar], 2 * n_true, opts.challenges, silos.seed, n_classes)
    Nb = true.N.copy()
    Nb[liar] = bound["accepted"]
    run = run_market(setup, true, opts.params, accepted=true.replace(N=Nb))
    out["size_x2_bound"] = {
        **_liar_row(run, liar, float(Nb[liar]), truthful),
        "binding": bound,
    }
    out["size_x2_phantom_bound"] = {
        "binding": _phantom_catch(silos.silos[liar], opts.challenges, silos.seed, n_classes)
    }

    dup_silos = list(silos.silos)
    dup_silos[liar] = _noisy_duplicate(silos.silos[liar], silos.seed)
    dup = SiloSet(tuple(dup_silos), silos.meta, silos.split, silos.seed)
    dbound = _bound_size(dup.silos[liar], 2 * n_true, opts.challenges, silos.seed, n_classes)
    Nd = true.N.copy()
    Nd[liar] = dbound["accepted"]
    run = run_market(_setup(opts, dup), true, opts.params, accepted=true.replace(N=Nd))
    out["size_x2_noisy_duplicates_bound"] = {
        **_liar_row(run, liar, float(Nd[liar]), truthful),
        "binding": dbound,
    }

    c2 = true.c.copy()
    c2[liar] *= 2
    run = run_market(setup, true, opts.params, accepted=true.replace(c=c2))
    out["cost_x2"] = _liar_row(run, liar, n_true, truthful)
    return out


def _options_dict(opts: MarketOptions) -> dict[str, Any]:
    raw = asdict(opts)
    raw["out"] = str(opts.out)
    raw["doc"] = None if opts.doc is None else str(opts.doc)
    raw["seeds"] = list(opts.seeds)
    return raw


def run_market_experiment(opts: MarketOptions, progress: Progress = print) -> dict[str, Any]:
    """Run every part, write ``market.json``, the plots and (``opts.doc``) the report."""
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = _run(opts, progress)
    finally:
        torch.set_num_threads(threads)
    out = Path(opts.out)
    from fl_node.experiments._market_plots import write_market_plots
    from fl_node.experiments._market_report import market_markdown

    result["figures"] = write_market_plots(out, result)
    result["timings_s"]["total"] = round(time.perf_counter() - started, 1)
    (out / "market.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    if opts.doc is not None:
        Path(opts.doc).parent.mkdir(parents=True, exist_ok=True)
        Path(opts.doc).write_text(market_markdown(result, out, Path(opts.doc)), encoding="utf-8")
    progress(f"[done] {result['timings_s']['total']:.1f} s; outputs in {out}/")
    return result


def _run(opts: MarketOptions, progress: Progress) -> dict[str, Any]:
    Path(opts.out).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    runs: dict[str, list[dict[str, Any]]] = {"clusters": [], "dirichlet": []}
    robustness: list[dict[str, Any]] = []
    misreport: list[dict[str, Any]] = []
    for seed in opts.seeds:
        for split in ("clusters", "dirichlet"):
            silos = build_silos(split, 9, seed=seed, keep=opts.keep)
            acc, run = _accuracy_runs(opts, silos)
            runs[split].append(
                {
                    "seed": seed,
                    "sizes": silos.sizes,
                    "groups": [s.group for s in silos.silos],
                    "test_sizes": [len(s.test) for s in silos.silos],
                    "methods": acc,
                }
            )
            means = " ".join(f"{m} {acc[m]['mean_honest']:.3f}" for m in METHODS)
            progress(f"[seed {seed} {split}] sizes {silos.sizes}: {means}")
            if split == "clusters":
                robustness.append({"seed": seed, **_robustness(opts, silos, run)})
                misreport.append({"seed": seed, **_misreport(opts, silos, run)})
                r = robustness[-1]
                progress(
                    f"[seed {seed} robustness] free-riders imported "
                    f"{r['free_rider_no_rule']['imported_by_others']} times without the rule, "
                    f"{r['free_rider']['imported_by_others']} with it; sign-flippers "
                    f"{r['sign_flip']['imported_by_others']}"
                )
                mr = misreport[-1]
                progress(
                    f"[seed {seed} misreport] liar utility gain: size x2 unbound "
                    f"{mr['size_x2_unbound']['liar_true_utility_gain']:+.2f}, bound "
                    f"{mr['size_x2_bound']['liar_true_utility_gain']:+.2f}, cost x2 "
                    f"{mr['cost_x2']['liar_true_utility_gain']:+.2f}"
                )
    pure = {
        "size_x2": misreport_study(PURE_MARKETS, n_factor=2.0).to_dict(),
        "cost_x2": misreport_study(PURE_MARKETS, c_factor=2.0).to_dict(),
    }
    return {
        "experiment": "market",
        "options": _options_dict(opts),
        "baseline_params": asdict(BaselineParams()),
        "runs": runs,
        "robustness": robustness,
        "misreport": misreport,
        "pure_model_misreport": pure,
        "timings_s": {"runs": round(time.perf_counter() - t0, 1)},
        "platform": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": 1,
        },
    }
