"""Shared fixtures of the fl_node.market tests: tiny clustered silos, one model, real training."""

from __future__ import annotations

import pytest

from fl_node.market import (
    LocalTraining,
    MarketParams,
    MarketRun,
    Setup,
    SiloSet,
    build_silos,
    model_vector,
    run_market,
)
from fl_node.models import build_model


@pytest.fixture(scope="session")
def tiny_silos() -> SiloSet:
    return build_silos("clusters", 9, seed=0, keep=0.2)


@pytest.fixture(scope="session")
def tiny_setup(tiny_silos: SiloSet) -> Setup:
    model = build_model(tiny_silos.meta, "mlp", seed=0, hidden=(16,))
    return Setup(tiny_silos.silos, model, model_vector(model), rounds=4, hp=LocalTraining(epochs=1))


@pytest.fixture(scope="session")
def free_rider_run(tiny_silos: SiloSet, tiny_setup: Setup) -> MarketRun:
    """Silo 0 is a free-rider (sends back what it receives), silo 3 flips its update's sign."""
    beh = ["honest"] * 9
    beh[0], beh[3] = "free_rider", "sign_flip"
    setup = Setup(
        tiny_setup.silos, tiny_setup.model, tiny_setup.theta0, 4, tiny_setup.hp, 0, tuple(beh)
    )
    params = MarketParams()
    market = params.draw([s.name for s in tiny_silos.silos], tiny_silos.sizes, seed=0)
    return run_market(setup, market, params)
