"""fl_node.market: personalized FL for the model-sharing market (``mechanisms.md`` section 3).

Silos: :func:`build_silos`, :class:`Silo`, :class:`SiloSet`.
Distances and prox centers: :func:`distance_matrix`, :func:`cosine_distance`,
:func:`cosine_distance_grad`, :func:`prox_center`, :func:`flatten`, :func:`unflatten`,
:func:`stalled` (the free-rider rule: a silo that did not move gets distance 2).
Local solver: :func:`train_prox`, :class:`LocalTraining`, :func:`accuracy`.
Market rounds: :func:`market_round`, :func:`run_market`, :class:`MarketParams`.
Baselines (Local, FedAvg, FedProx, Ditto, FedAMP-, CFL-, FedFomo- and pFedGraph-style):
:func:`run_baseline`, :data:`BASELINES`, :class:`Setup`, :func:`fedamp_weights`,
:func:`bipartition`.
Size binding (Merkle commitment to the samples, challenges, accepted N): :class:`MerkleTree`,
:class:`Commitment`, :class:`Opening`, :func:`challenge_indices`, :func:`verify_openings`,
:func:`honest_responder`, :func:`accepted_size`, :func:`detection_probability`,
:func:`challenges_needed`, :func:`leaf_hash`, :func:`verify_path`.
"""

from fl_node.market._baselines import (
    BEHAVIOURS,
    BaselineParams,
    MethodResult,
    Setup,
    project_simplex,
    upload,
)
from fl_node.market._commitment import (
    ChallengeResult,
    Commitment,
    MerkleTree,
    Opening,
    accepted_size,
    challenge_indices,
    challenges_needed,
    detection_probability,
    honest_responder,
    leaf_hash,
    verify_openings,
    verify_path,
)
from fl_node.market._distance import (
    cosine_distance,
    cosine_distance_grad,
    distance_matrix,
    flatten,
    prox_center,
    stalled,
    unflatten,
)
from fl_node.market._local import LocalTraining, accuracy, mean_loss, model_vector, train_prox
from fl_node.market._market import MarketParams, MarketRun, MarketStep, market_round, run_market
from fl_node.market._methods import BASELINES, run_baseline
from fl_node.market._pfl_baselines import bipartition, fedamp_weights
from fl_node.market._silos import LABEL_CLUSTERS, SILO_SPLITS, Silo, SiloSet, build_silos

__all__ = [
    "BASELINES",
    "BEHAVIOURS",
    "LABEL_CLUSTERS",
    "SILO_SPLITS",
    "BaselineParams",
    "ChallengeResult",
    "Commitment",
    "LocalTraining",
    "MarketParams",
    "MarketRun",
    "MarketStep",
    "MerkleTree",
    "MethodResult",
    "Opening",
    "Setup",
    "Silo",
    "SiloSet",
    "accepted_size",
    "accuracy",
    "bipartition",
    "build_silos",
    "challenge_indices",
    "challenges_needed",
    "cosine_distance",
    "cosine_distance_grad",
    "detection_probability",
    "distance_matrix",
    "fedamp_weights",
    "flatten",
    "honest_responder",
    "leaf_hash",
    "market_round",
    "mean_loss",
    "model_vector",
    "project_simplex",
    "prox_center",
    "run_baseline",
    "run_market",
    "stalled",
    "train_prox",
    "unflatten",
    "upload",
    "verify_openings",
    "verify_path",
]
