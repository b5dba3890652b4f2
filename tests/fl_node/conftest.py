"""Shared fixtures for the fl_node tests: real bundled datasets, one torch thread (2-core CI)."""

from __future__ import annotations

import pytest
import torch

from fl_node.data import DataSplit, SklearnSource

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits_split() -> DataSplit:
    return SklearnSource("digits").split(seed=0)


@pytest.fixture(scope="session")
def cancer_split() -> DataSplit:
    return SklearnSource("breast_cancer").split(seed=0)
