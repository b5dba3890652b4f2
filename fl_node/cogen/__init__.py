"""Synthetic-data generation ("cogen", after seed papers 000/001): the training side.

Each silo trains a label-conditioned generator on its own data (:class:`CVAEGenerator`, or the
fast :class:`GMMGenerator`), chooses per-class counts that move its label mix toward the
reference distribution (:func:`synthetic_counts`), and trains on its real data plus exactly
``x_i`` synthetic samples (:func:`mixed_dataset`); FedAvg weights by ``D_i + x_i``
(:func:`run_mixed_fedavg`). The generator's cost per sample and its quality are measured
(:func:`measure_cost`, :func:`measure_quality`), the loss parameters of the game are fitted from
runs (:func:`fit_loss`), and :func:`leave_one_out` measures each update's marginal contribution.
"""

from fl_node.cogen._contribution import leave_one_out
from fl_node.cogen._fit import LossFit, fit_loss
from fl_node.cogen._generators import (
    GENERATOR_KINDS,
    ClassConditionalGenerator,
    CVAEGenerator,
    GeneratorError,
    GMMGenerator,
    make_generator,
)
from fl_node.cogen._mix import (
    MixError,
    mixed_label_heterogeneity,
    pooled_distribution,
    synthetic_counts,
)
from fl_node.cogen._plan import MixedData, MixedFedAvgResult, mixed_dataset, run_mixed_fedavg
from fl_node.cogen._quality import (
    DEFAULT_PRICE_PER_CPU_SECOND,
    GenerationCost,
    Quality,
    measure_cost,
    measure_quality,
)

__all__ = [
    "DEFAULT_PRICE_PER_CPU_SECOND",
    "GENERATOR_KINDS",
    "CVAEGenerator",
    "ClassConditionalGenerator",
    "GMMGenerator",
    "GenerationCost",
    "GeneratorError",
    "LossFit",
    "MixError",
    "MixedData",
    "MixedFedAvgResult",
    "Quality",
    "fit_loss",
    "leave_one_out",
    "make_generator",
    "measure_cost",
    "measure_quality",
    "mixed_dataset",
    "mixed_label_heterogeneity",
    "pooled_distribution",
    "run_mixed_fedavg",
    "synthetic_counts",
]
