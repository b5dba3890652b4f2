"""A consortium for the embedded demo: public terms plus each silo's private cost parameters.

Units follow :mod:`fl_node.compute`: ``s_i`` is the silo's number of training samples, compute
levels ``F_i`` are sample-processing rates (samples/s), ``eta_i`` is the number of local epochs
(passes over the contributed data per FL round), so the deadline constraint
``T1 + eta d s / f + T3 <= tau`` is a real wall-time budget per FL round. Energy is
``kappa f^2 eta x`` in the paper's form with these units.

The parameters are drawn from a seed in ranges chosen (and checked by the tests) so that the
equilibrium is interior: some silos contribute less than all their data, none is forced to a
bound by every level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fl_node.agent import ConsortiumTerms
from solver import Game, Org

__all__ = ["DemoConsortium", "make_demo_consortium"]


@dataclass(frozen=True)
class DemoConsortium:
    """Public terms and, because the demo plays every silo itself, every silo's private Org."""

    terms: ConsortiumTerms
    orgs: tuple[Org, ...]

    def game(self) -> Game:
        """The full-information game (for checks and the auditor's recomputation only)."""
        t = self.terms
        return Game(
            orgs=self.orgs,
            tau=t.tau,
            gamma=t.gamma,
            lam=t.lam,
            w_e=t.w_e,
            kappa=t.kappa,
            G=t.G,
            D_min=t.D_min,
            A0=t.A0,
            rho=np.array(t.rho, dtype=float),
        )


def _symmetric_rho(n: int, mean: float, rng: np.random.Generator) -> np.ndarray:
    upper = rng.uniform(0.5 * mean, 1.5 * mean, size=(n, n))
    rho = np.triu(upper, 1)
    rho = rho + rho.T
    # basis-point grid, so the chain's rho equals the solver's exactly
    return np.round(rho * 10_000) / 10_000


def make_demo_consortium(
    names: Sequence[str],
    sizes: Sequence[int],
    *,
    seed: int = 0,
    max_rate: float = 4000.0,
    epochs: int = 2,
    tau: float = 0.6,
    gamma: float = 0.004,
    rho_mean: float = 0.05,
) -> DemoConsortium:
    """Draw a consortium for silos ``names`` holding ``sizes`` training samples.

    Parameters
    ----------
    max_rate
        The fastest compute level (samples/s) any silo offers; levels are integer rates.
    epochs
        Local epochs per FL round (``eta``).
    tau
        Per-round training deadline in seconds.
    gamma, rho_mean
        Incentive intensity and the mean competition intensity.
    """
    if len(names) != len(sizes) or len(names) < 2:
        raise ValueError("give at least two silos, one size per name")
    rng = np.random.default_rng(seed)
    n = len(names)
    p = rng.uniform(500.0, 2500.0, size=n)
    rho = _symmetric_rho(n, rho_mean, rng)
    orgs = []
    for i, (name, s) in enumerate(zip(names, sizes, strict=True)):
        top = max_rate * rng.uniform(0.6, 1.0)
        levels = tuple(float(round(top * k / 5)) for k in range(1, 6))
        orgs.append(
            Org(
                name=name,
                s=float(s),
                p=float(p[i]),
                F=levels,
                eta=float(epochs),
                T1=float(rng.uniform(0.02, 0.08)),
                T3=float(rng.uniform(0.02, 0.08)),
            )
        )
    terms = ConsortiumTerms(
        names=tuple(names),
        p=tuple(float(v) for v in p),
        rho=tuple(tuple(float(v) for v in row) for row in rho),
        tau=tau,
        gamma=gamma,
        lam=0.05,
        w_e=1.0,
        kappa=2e-10,
        D_min=0.2,
        A0=1.0,
        G=float(epochs * 5),
    )
    return DemoConsortium(terms=terms, orgs=tuple(orgs))
