"""Experiments on real FL training: the paper's scheme comparison (Figs. 12 and 15) on our data.

:func:`run_schemes` with :class:`SchemesOptions` runs ``fedsettle experiment schemes``: every
scheme's strategies on the consortium game (:func:`scheme_strategies`), contribution-weighted
FedAvg trained with them (:func:`train_profile`), the data-accuracy function P fitted from the
runs and fed back into the solver (:func:`feedback`). See ``docs/experiments.md``.
"""

from fl_node.experiments._feedback import FitPoint, feedback, fit_points, fit_summary
from fl_node.experiments._run import run_schemes
from fl_node.experiments._schemes import (
    LABELS,
    SCHEMES,
    GammaSweep,
    SchemeStrategy,
    central_optimum,
    scheme_strategies,
    sweep_gamma,
)
from fl_node.experiments._setting import SchemesOptions, SeedSetting, build_setting
from fl_node.experiments._training import TrainingCache, TrainingRun, train_profile

__all__ = [
    "LABELS",
    "SCHEMES",
    "FitPoint",
    "GammaSweep",
    "SchemeStrategy",
    "SchemesOptions",
    "SeedSetting",
    "TrainingCache",
    "TrainingRun",
    "build_setting",
    "central_optimum",
    "feedback",
    "fit_points",
    "fit_summary",
    "run_schemes",
    "scheme_strategies",
    "sweep_gamma",
    "train_profile",
]
