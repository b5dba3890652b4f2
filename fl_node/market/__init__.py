"""fl_node.market: personalized FL for the model-sharing market (``mechanisms.md`` section 3).

Silos: :func:`build_silos`, :class:`Silo`, :class:`SiloSet`.
Distances and prox centers: :func:`distance_matrix`, :func:`cosine_distance`,
:func:`cosine_distance_grad`, :func:`prox_center`, :func:`flatten`, :func:`unflatten`,
:func:`stalled` (the free-rider rule: a silo that did not move gets distance 2).
Local solver: :func:`train_prox`, :class:`LocalTraining`, :func:`accuracy`, :func:`train_seed`.
Market rounds: :func:`market_round` (the coordinator's step), :func:`run_market_rounds` (the one
round loop, over a :class:`fl_node.flower.Transport`: in-process or Flower),
:func:`run_market` (that loop in-process), :class:`MarketPlan` (the session's document, as the
Flower ServerApp reads it), :class:`MarketParams`, :class:`MarketTraining`,
:class:`MarketRun`, :class:`MarketRoundError`.
The silo's side of a round: :func:`handle_market_train` (train messages with
``mechanism = MARKET``), :func:`architecture`, :func:`market_node_config` (a SuperNode's node
config holding a market silo).
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
from fl_node.market._client import MARKET, architecture, handle_market_train, market_node_config
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
from fl_node.market._local import (
    LocalTraining,
    accuracy,
    mean_loss,
    model_vector,
    train_prox,
    train_seed,
)
from fl_node.market._market import MarketParams, MarketRun, MarketStep, market_round
from fl_node.market._methods import BASELINES, run_baseline
from fl_node.market._pfl_baselines import bipartition, fedamp_weights
from fl_node.market._plan import MarketPlan, MarketTraining
from fl_node.market._rounds import (
    MarketRoundError,
    MarketRoundRecord,
    run_market,
    run_market_rounds,
)
from fl_node.market._silos import LABEL_CLUSTERS, SILO_SPLITS, Silo, SiloSet, build_silos

__all__ = [
    "BASELINES",
    "BEHAVIOURS",
    "LABEL_CLUSTERS",
    "MARKET",
    "SILO_SPLITS",
    "BaselineParams",
    "ChallengeResult",
    "Commitment",
    "LocalTraining",
    "MarketParams",
    "MarketPlan",
    "MarketRoundError",
    "MarketRoundRecord",
    "MarketRun",
    "MarketStep",
    "MarketTraining",
    "MerkleTree",
    "MethodResult",
    "Opening",
    "Setup",
    "Silo",
    "SiloSet",
    "accepted_size",
    "accuracy",
    "architecture",
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
    "handle_market_train",
    "honest_responder",
    "leaf_hash",
    "market_node_config",
    "market_round",
    "mean_loss",
    "model_vector",
    "project_simplex",
    "prox_center",
    "run_baseline",
    "run_market",
    "run_market_rounds",
    "stalled",
    "train_prox",
    "train_seed",
    "unflatten",
    "upload",
    "verify_openings",
    "verify_path",
]
