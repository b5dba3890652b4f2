"""Fixtures for the Flower-side tests: three real digits silos (non-IID) and an initial model."""

from __future__ import annotations

from typing import Any

import pytest
from numpy.typing import NDArray

from fl_node.data import SklearnSource
from fl_node.flower import LocalSilo, centralized_evaluator, local_silos
from fl_node.flower._rounds import Evaluator
from fl_node.models import build_model, get_parameters


@pytest.fixture(scope="session")
def silos() -> dict[int, LocalSilo]:
    """Three silos holding Dirichlet(0.5) partitions of digits' training split, node ids 1-3."""
    return local_silos(3, node_config={"dataset": "digits", "alpha": 0.5, "data-seed": 0})


@pytest.fixture(scope="session")
def initial_parameters(silos: dict[int, LocalSilo]) -> list[NDArray[Any]]:
    return get_parameters(build_model(silos[1].meta, "mlp", seed=0))


@pytest.fixture(scope="session")
def evaluator(silos: dict[int, LocalSilo]) -> Evaluator:
    """Accuracy/loss on digits' held-out test split (the one the silos' data was cut from)."""
    split = SklearnSource("digits").split(seed=0)
    return centralized_evaluator(build_model(split.meta, "mlp"), split.test)
