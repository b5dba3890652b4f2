"""The consortium coordinator (``fedsettle coordinator run``): one settlement round end to end.

Public API: the validated ``consortium.toml`` (:func:`load_consortium_config`), the round driver
(:class:`Coordinator`), the HTTP client of the silo daemons' agents (:class:`AgentClient`,
:class:`HttpResponder`) and the training stage (:func:`train_embedded`,
:class:`FlowerDeployment`).
"""

from fl_node.coordinator._agents import (
    AgentClient,
    AgentRejected,
    AgentUnavailable,
    HttpResponder,
)
from fl_node.coordinator._config import (
    ConsortiumConfig,
    DeploymentSettings,
    FLSettings,
    RoundSettings,
    SiloEntry,
    load_consortium_config,
    parse_consortium_config,
)
from fl_node.coordinator._deployment import FlowerDeployment, superlink_argv
from fl_node.coordinator._round import Coordinator, CoordinatorError
from fl_node.coordinator._scaffold import ScaffoldOptions, first_deployment_address, scaffold
from fl_node.coordinator._training import (
    TrainingError,
    TrainingOutcome,
    coordinator_run_config,
    silo_node_config,
    train_embedded,
)

__all__ = [
    "AgentClient",
    "AgentRejected",
    "AgentUnavailable",
    "ConsortiumConfig",
    "Coordinator",
    "CoordinatorError",
    "DeploymentSettings",
    "FLSettings",
    "FlowerDeployment",
    "HttpResponder",
    "RoundSettings",
    "ScaffoldOptions",
    "SiloEntry",
    "TrainingError",
    "TrainingOutcome",
    "coordinator_run_config",
    "first_deployment_address",
    "load_consortium_config",
    "parse_consortium_config",
    "scaffold",
    "silo_node_config",
    "superlink_argv",
    "train_embedded",
]
