"""cogen: strategic synthetic-data generation in coopetitive federated learning.

A formulation after CoCoGen+ (Nguyen, Van Huynh, Pham; seeds 000/001, of which only the
abstract and a summary were available), not a copy of it: ``shared/spec/mechanisms.md``
section 2 fixes the model, and ``_payoff`` documents the one correction made to it (the
potential's redistribution term). Each organization chooses how many synthetic samples x_i to
generate; the game is an aggregative weighted potential game whose equilibrium is the fixed
point of the aggregate.
"""

from solver.cogen._config import (
    MECHANISM,
    CogenConfig,
    cogen_preset_names,
    load_cogen_preset,
    load_config,
    parse_config,
    read_matrix,
)
from solver.cogen._fixed_point import aggregate_fixed_point, fixed_point
from solver.cogen._labels import heterogeneity, label_counts, mixed_heterogeneity
from solver.cogen._model import CogenGame, CogenOrg, CogenView, Incentives
from solver.cogen._payoff import CogenParts, payoff_parts, potential, social_welfare
from solver.cogen._response import (
    best_response,
    kkt_residual,
    nash_gaps,
    own_value,
    respond_to_aggregate,
    view_response,
)
from solver.cogen._result import CogenResult, CogenTrace, evaluate

__all__ = [
    "MECHANISM",
    "CogenConfig",
    "CogenGame",
    "CogenOrg",
    "CogenParts",
    "CogenResult",
    "CogenTrace",
    "CogenView",
    "Incentives",
    "aggregate_fixed_point",
    "best_response",
    "cogen_preset_names",
    "evaluate",
    "fixed_point",
    "heterogeneity",
    "kkt_residual",
    "label_counts",
    "load_cogen_preset",
    "load_config",
    "mixed_heterogeneity",
    "nash_gaps",
    "own_value",
    "parse_config",
    "payoff_parts",
    "potential",
    "read_matrix",
    "respond_to_aggregate",
    "social_welfare",
    "view_response",
]
