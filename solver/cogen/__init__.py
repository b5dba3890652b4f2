"""cogen: strategic synthetic-data generation in coopetitive federated learning.

A formulation after CoCoGen+ (Nguyen, Van Huynh, Pham; seeds 000/001, of which only the
abstract and a summary were available), not a copy of it: ``shared/spec/mechanisms.md``
section 2 fixes the model, and ``_payoff`` documents the one correction made to it (the
potential's redistribution term). Each organization chooses how many synthetic samples x_i to
generate; the game is an aggregative weighted potential game whose equilibrium is the fixed
point of the aggregate.

Model: :class:`CogenGame`, :class:`CogenOrg`, :class:`CogenView`, :class:`Incentives`;
heterogeneity from labels: :func:`label_counts`, :func:`heterogeneity`,
:func:`mixed_heterogeneity`.
Payoffs: :func:`payoff_parts`, :func:`potential`, :func:`social_welfare`.
Responses: :func:`respond_to_aggregate` (closed-form KKT), :func:`best_response`,
:func:`view_response`, :func:`nash_gaps`, :func:`kkt_residual`.
Algorithms: :func:`solve` over :data:`ALGORITHMS` — :func:`fixed_point`, :func:`dbr`
(:class:`CogenSilo`), :func:`maximize_potential`, and the baselines :func:`no_generation`,
:func:`blind`, :func:`random_generation`, :func:`everyone_max`, :func:`no_redistribution`.
Checks: :func:`evaluate`, :func:`ir_kappa_range`, :func:`comparative_statics`.
Random games: :func:`random_cogen_game`.
Configuration: :func:`load_config`, :func:`load_parsed`, :func:`parse_config`,
:func:`load_cogen_preset`, :func:`cogen_preset_names`; ``fedsettle solve`` calls :func:`solve_cli`.
"""

from solver.cogen._baselines import (
    blind,
    everyone_max,
    no_generation,
    no_redistribution,
    random_generation,
)
from solver.cogen._config import (
    MECHANISM,
    CogenConfig,
    cogen_preset_names,
    load_cogen_preset,
    load_config,
    load_parsed,
    parse_config,
    read_matrix,
)
from solver.cogen._dbr import CogenSilo, dbr
from solver.cogen._exact import maximize_potential, potential_bound
from solver.cogen._fixed_point import aggregate_fixed_point, fixed_point
from solver.cogen._ir import KappaRange, ir_kappa_range, saturation_kappa
from solver.cogen._labels import heterogeneity, label_counts, mixed_heterogeneity
from solver.cogen._model import CogenGame, CogenOrg, CogenView, Incentives
from solver.cogen._payoff import CogenParts, payoff_parts, potential, social_welfare
from solver.cogen._random import random_cogen_game
from solver.cogen._response import (
    best_response,
    kkt_residual,
    nash_gaps,
    own_value,
    respond_to_aggregate,
    view_response,
)
from solver.cogen._result import CogenResult, CogenTrace, evaluate
from solver.cogen._solve import ALGORITHMS, DEFAULT_ALGORITHM, solve, solve_cli
from solver.cogen._statics import Statics, comparative_statics, direction

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "MECHANISM",
    "CogenConfig",
    "CogenGame",
    "CogenOrg",
    "CogenParts",
    "CogenResult",
    "CogenSilo",
    "CogenTrace",
    "CogenView",
    "Incentives",
    "KappaRange",
    "Statics",
    "aggregate_fixed_point",
    "best_response",
    "blind",
    "cogen_preset_names",
    "comparative_statics",
    "dbr",
    "direction",
    "evaluate",
    "everyone_max",
    "fixed_point",
    "heterogeneity",
    "ir_kappa_range",
    "kkt_residual",
    "label_counts",
    "load_cogen_preset",
    "load_config",
    "load_parsed",
    "maximize_potential",
    "mixed_heterogeneity",
    "nash_gaps",
    "no_generation",
    "no_redistribution",
    "own_value",
    "parse_config",
    "payoff_parts",
    "potential",
    "potential_bound",
    "random_cogen_game",
    "random_generation",
    "read_matrix",
    "respond_to_aggregate",
    "saturation_kappa",
    "social_welfare",
    "solve",
    "solve_cli",
    "view_response",
]
