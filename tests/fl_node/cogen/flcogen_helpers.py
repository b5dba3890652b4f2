"""Types shared by the cogen tests."""

from __future__ import annotations

from dataclasses import dataclass

from fl_node.cogen import CVAEGenerator, GMMGenerator
from fl_node.data import ArrayDataset


@dataclass(frozen=True)
class TrainedSilo:
    """One silo's real data (strong label skew) and generators trained on it only."""

    data: ArrayDataset
    cvae: CVAEGenerator
    gmm: GMMGenerator
