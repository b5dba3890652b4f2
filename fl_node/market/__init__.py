"""fl_node.market: personalized FL for the model-sharing market (``mechanisms.md`` section 3).

Silos: :func:`build_silos`, :class:`Silo`, :class:`SiloSet`.
Distances and prox centers: :func:`distance_matrix`, :func:`cosine_distance`,
:func:`cosine_distance_grad`, :func:`prox_center`, :func:`flatten`, :func:`unflatten`.
Local solver: :func:`train_prox`, :class:`LocalTraining`, :func:`accuracy`.
Market rounds: :func:`market_round`, :func:`run_market`, :class:`MarketParams`.
Baselines: :func:`run_baseline`, :data:`BASELINES`, :class:`Setup`.
Size binding: :mod:`fl_node.market._commitment` (see :func:`commit`, :func:`challenge`).
"""

from fl_node.market._baselines import (
    BASELINES,
    BEHAVIOURS,
    BaselineParams,
    MethodResult,
    Setup,
    project_simplex,
    run_baseline,
    upload,
)
from fl_node.market._distance import (
    cosine_distance,
    cosine_distance_grad,
    distance_matrix,
    flatten,
    prox_center,
    unflatten,
)
from fl_node.market._local import LocalTraining, accuracy, model_vector, train_prox
from fl_node.market._market import MarketParams, MarketRun, MarketStep, market_round, run_market
from fl_node.market._silos import LABEL_CLUSTERS, SILO_SPLITS, Silo, SiloSet, build_silos

__all__ = [
    "BASELINES",
    "BEHAVIOURS",
    "LABEL_CLUSTERS",
    "SILO_SPLITS",
    "BaselineParams",
    "LocalTraining",
    "MarketParams",
    "MarketRun",
    "MarketStep",
    "MethodResult",
    "Setup",
    "Silo",
    "SiloSet",
    "accuracy",
    "build_silos",
    "cosine_distance",
    "cosine_distance_grad",
    "distance_matrix",
    "flatten",
    "market_round",
    "model_vector",
    "project_simplex",
    "prox_center",
    "run_baseline",
    "run_market",
    "train_prox",
    "unflatten",
    "upload",
]
