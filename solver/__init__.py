"""solver: game models and equilibrium algorithms for coopetitive federated learning.

The TradeFL coopetition game (``shared/spec/mechanisms.md`` section 1): organizations choose a
data fraction d_i and a compute level f_i; payoffs combine the global model's revenue, energy,
competition damage and pairwise redistribution. Pure numpy/scipy; the only I/O is reading TOML
configurations and the bundled presets.

Model: :class:`Game`, :class:`Org`, :class:`OrgView`, :func:`symmetrize_rho`.
Accuracy: :class:`AccuracyFunction`, :class:`PaperAccuracy`, :class:`PowerLawAccuracy`,
:func:`fit_accuracy`.
Payoffs: :func:`payoffs`, :func:`payoff_parts`, :func:`potential`, :func:`social_welfare`,
:func:`redistribution_matrix`, :func:`contributions`.
Responses and checks: :func:`best_response`, :func:`nash_gaps`, :func:`feasible`,
:func:`evaluate`, :func:`ir_gamma_range`.
Algorithms: :func:`solve` over :data:`ALGORITHMS` — :func:`dbr`, :func:`cgbd`,
:func:`maximize_potential`, :func:`wpr`, :func:`gca`, :func:`fip`, :func:`tos`.
Configuration: :func:`load_game`, :func:`parse_game`, :func:`read_toml`, :func:`load_matrix`
(matrix fields given inline, as .npy/.csv files or in structured forms; :class:`BlockMatrix`
keeps the uniform and block forms structured), :func:`load_preset`,
:func:`preset_names`, :func:`game_to_toml`, :func:`random_game`.
Mechanisms: :class:`Mechanism` (the protocol of ``solver.<name>`` modules),
:func:`mechanism_module`, :func:`mechanism_names`, :func:`config_mechanism`.
"""

from solver._accuracy import AccuracyFunction, PaperAccuracy, PowerLawAccuracy
from solver._baselines import fip, gca, tos, wpr
from solver._block import BlockMatrix
from solver._cgbd import cgbd
from solver._config import (
    MECHANISM,
    game_to_toml,
    load_game,
    load_preset,
    parse_game,
    preset_names,
    read_toml,
)
from solver._dbr import dbr
from solver._errors import (
    ConfigError,
    FitError,
    GameError,
    ProblemTooLargeError,
    RhoSymmetrizedWarning,
    SolverError,
)
from solver._exact import maximize_potential
from solver._fit import AccuracyFit, fit_accuracy
from solver._ir import GammaRange, ir_gamma_range
from solver._matrix import MATRIX_FORMS, load_matrix
from solver._mechanism import Mechanism, config_mechanism, mechanism_module, mechanism_names
from solver._model import Game, Org, OrgView, symmetrize_rho
from solver._payoff import (
    PayoffParts,
    contributions,
    payoff_parts,
    payoffs,
    potential,
    redistribution_matrix,
    social_welfare,
)
from solver._random import TABLE2, random_game
from solver._response import BestResponse, best_response, feasible, level_index, nash_gaps
from solver._result import SolveResult, Status, Trace, evaluate
from solver._solve import ALGORITHMS, solve

__all__ = [
    "ALGORITHMS",
    "MATRIX_FORMS",
    "MECHANISM",
    "TABLE2",
    "AccuracyFit",
    "AccuracyFunction",
    "BestResponse",
    "BlockMatrix",
    "ConfigError",
    "FitError",
    "Game",
    "GameError",
    "GammaRange",
    "Mechanism",
    "Org",
    "OrgView",
    "PaperAccuracy",
    "PayoffParts",
    "PowerLawAccuracy",
    "ProblemTooLargeError",
    "RhoSymmetrizedWarning",
    "SolveResult",
    "SolverError",
    "Status",
    "Trace",
    "best_response",
    "cgbd",
    "config_mechanism",
    "contributions",
    "dbr",
    "evaluate",
    "feasible",
    "fip",
    "fit_accuracy",
    "game_to_toml",
    "gca",
    "ir_gamma_range",
    "level_index",
    "load_game",
    "load_matrix",
    "load_preset",
    "maximize_potential",
    "mechanism_module",
    "mechanism_names",
    "nash_gaps",
    "parse_game",
    "payoff_parts",
    "payoffs",
    "potential",
    "preset_names",
    "random_game",
    "read_toml",
    "redistribution_matrix",
    "social_welfare",
    "solve",
    "symmetrize_rho",
    "tos",
    "wpr",
]
