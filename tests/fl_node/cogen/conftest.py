"""Generators trained once per session on a real non-IID digits silo (a few seconds of CPU)."""

from __future__ import annotations

import numpy as np
import pytest
from flcogen_helpers import TrainedSilo

from fl_node.cogen import CVAEGenerator, GMMGenerator
from fl_node.data import DataSplit, partition


@pytest.fixture(scope="session")
def silo_parts(digits_split: DataSplit) -> list[np.ndarray]:
    return partition(digits_split.train.y, 4, alpha=0.3, seed=3, min_size=60)


@pytest.fixture(scope="session")
def trained_silo(digits_split: DataSplit, silo_parts: list[np.ndarray]) -> TrainedSilo:
    data = digits_split.train.subset(silo_parts[0])
    cvae = CVAEGenerator(10, epochs=60)
    cvae.fit(data, seed=0)
    gmm = GMMGenerator(10)
    gmm.fit(data, seed=0)
    return TrainedSilo(data=data, cvae=cvae, gmm=gmm)
