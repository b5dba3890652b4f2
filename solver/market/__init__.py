"""solver.market: the model-sharing market of ``mechanisms.md`` section 3 (seeds 003/004).

Orgs report N_i (data size), c_i (cost per export), K_i (eagerness); each FL round the greedy
threshold rule builds the import graph from the model distances, importers pay exporters their
last-in marginal gain minus a distance term, and utilities accumulate over rounds.

Model: :class:`Market`, :func:`check_distance`, :func:`check_distance_form`.
Gains: :func:`gain`, :func:`thresholds`.
Graph: :func:`greedy_row`, :func:`greedy_rows`, :func:`adjacency`, :func:`import_weights`.
Rounds: :func:`solve_round`, :func:`evaluate_round`, :class:`MarketRound`, :class:`MarketLedger`,
:func:`edge_payments`, :func:`net_payments`; for large markets, on the edges only:
:func:`solve_round_edges`, :func:`greedy_edges`, :class:`EdgeRound`.
Misreporting: :func:`misreport_gain`, :func:`misreport_study`, :class:`MisreportStudy`.
Configuration and CLI: :class:`MarketConfig`, :func:`load_config`, :func:`load_parsed`,
:func:`parse_config`, :func:`read_distance`, :func:`solve_cli` (``fedsettle solve``),
:func:`format_table`, :data:`ALGORITHMS`, :data:`DEFAULT_ALGORITHM`, :data:`PAYMENTS_FORMS`,
:data:`DENSE_UP_TO`; random markets:
:func:`random_market`.
"""

from solver.market._cli import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    DENSE_UP_TO,
    PAYMENTS_FORMS,
    format_table,
    solve_cli,
)
from solver.market._config import (
    MarketConfig,
    load_config,
    load_parsed,
    parse_config,
    read_distance,
)
from solver.market._edges import EdgeRound, greedy_edges, solve_round_edges
from solver.market._gain import gain, thresholds
from solver.market._graph import adjacency, greedy_row, greedy_rows, import_weights
from solver.market._misreport import MisreportStudy, misreport_gain, misreport_study
from solver.market._model import Market, check_distance, check_distance_form
from solver.market._random import random_distance, random_market
from solver.market._round import (
    MarketLedger,
    MarketRound,
    edge_payments,
    evaluate_round,
    net_payments,
    solve_round,
)

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "DENSE_UP_TO",
    "PAYMENTS_FORMS",
    "EdgeRound",
    "Market",
    "MarketConfig",
    "MarketLedger",
    "MarketRound",
    "MisreportStudy",
    "adjacency",
    "check_distance",
    "check_distance_form",
    "edge_payments",
    "evaluate_round",
    "format_table",
    "gain",
    "greedy_edges",
    "greedy_row",
    "greedy_rows",
    "import_weights",
    "load_config",
    "load_parsed",
    "misreport_gain",
    "misreport_study",
    "net_payments",
    "parse_config",
    "random_distance",
    "random_market",
    "read_distance",
    "solve_cli",
    "solve_round",
    "solve_round_edges",
    "thresholds",
]
