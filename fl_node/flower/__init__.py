"""Federated training on Flower: silo handlers, the round loop, transports and the apps.

The Flower apps are ``fl_node.flower.client_app:app`` and ``fl_node.flower.server_app:app``;
``fl_node.flower.deploy`` starts them on the deployment engine (SuperLink + SuperNodes, TLS,
SuperNode authentication). Everything else is plain Python that runs without Flower processes:
:class:`InProcessTransport` calls the same silo handlers the ClientApp calls.
The market's session (mechanism 3) on a transport is :func:`run_market_coordinator`; its round
loop is :func:`fl_node.market.run_market_rounds`.
"""

from fl_node.flower._coordinator import (
    CoordinatorConfig,
    SessionHooks,
    load_hooks,
    run_coordinator,
    wait_for_session_nodes,
)
from fl_node.flower._market_rounds import MarketSessionError, run_market_coordinator
from fl_node.flower._protocol import (
    EVALUATE,
    EVALUATE_METRIC_KEYS,
    QUERY_AGENT,
    QUERY_IDENTITY,
    TRAIN,
    TRAIN_METRIC_KEYS,
    Reply,
    Request,
)
from fl_node.flower._rounds import (
    Assignment,
    Evaluator,
    FLHistory,
    RoundRecord,
    TrainConfig,
    run_fl_rounds,
)
from fl_node.flower._session import (
    AfterTraining,
    BeforeTraining,
    SessionResult,
    SiloIdentity,
    centralized_evaluator,
    equal_effort_assignments,
    query_identities,
    run_session,
)
from fl_node.flower._silo import (
    AgentHandler,
    LocalSilo,
    SiloConfigError,
    handle_agent,
    handle_evaluate,
    handle_identity,
    handle_train,
    load_silo,
    local_silos,
)
from fl_node.flower._transports import (
    Delivery,
    GridTransport,
    InProcessTransport,
    NodesNotConnectedError,
    Transport,
)

__all__ = [
    "EVALUATE",
    "EVALUATE_METRIC_KEYS",
    "QUERY_AGENT",
    "QUERY_IDENTITY",
    "TRAIN",
    "TRAIN_METRIC_KEYS",
    "AfterTraining",
    "AgentHandler",
    "Assignment",
    "BeforeTraining",
    "CoordinatorConfig",
    "Delivery",
    "Evaluator",
    "FLHistory",
    "GridTransport",
    "InProcessTransport",
    "LocalSilo",
    "MarketSessionError",
    "NodesNotConnectedError",
    "Reply",
    "Request",
    "RoundRecord",
    "SessionHooks",
    "SessionResult",
    "SiloConfigError",
    "SiloIdentity",
    "TrainConfig",
    "Transport",
    "centralized_evaluator",
    "equal_effort_assignments",
    "handle_agent",
    "handle_evaluate",
    "handle_identity",
    "handle_train",
    "load_hooks",
    "load_silo",
    "local_silos",
    "query_identities",
    "run_coordinator",
    "run_fl_rounds",
    "run_market_coordinator",
    "run_session",
    "wait_for_session_nodes",
]
