"""The consortium coordinator (``fedsettle coordinator run``): one settlement round end to end.

Public API: the validated ``consortium.toml`` (:func:`load_consortium_config`), the round driver
(:class:`Coordinator`, the one orchestration of every mechanism and runtime), the links to the
silos (:class:`SiloLink`: :class:`AgentClient` to a silo daemon's agent over HTTP, or an
:class:`InProcessSilo` for the embedded demo; :class:`HttpResponder` for the strategy phase) and
the training stage (:func:`train_embedded`, :class:`FlowerDeployment`).
"""

from fl_node.coordinator._agents import (
    AgentClient,
    AgentRejected,
    AgentUnavailable,
    HttpResponder,
    SiloLink,
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
from fl_node.coordinator._inprocess import InProcessSilo
from fl_node.coordinator._preflight import (
    ExpectedContract,
    PreflightReport,
    SiloCheck,
    expected_contract,
    preflight,
)
from fl_node.coordinator._round import Coordinator, CoordinatorError
from fl_node.coordinator._scaffold import (
    ScaffoldConflict,
    ScaffoldOptions,
    first_deployment_address,
    next_steps,
    scaffold,
)
from fl_node.coordinator._status import round_status, status_lines
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
    "ExpectedContract",
    "FLSettings",
    "FlowerDeployment",
    "HttpResponder",
    "InProcessSilo",
    "PreflightReport",
    "RoundSettings",
    "ScaffoldConflict",
    "ScaffoldOptions",
    "SiloCheck",
    "SiloEntry",
    "SiloLink",
    "TrainingError",
    "TrainingOutcome",
    "coordinator_run_config",
    "expected_contract",
    "first_deployment_address",
    "load_consortium_config",
    "next_steps",
    "parse_consortium_config",
    "preflight",
    "round_status",
    "scaffold",
    "silo_node_config",
    "status_lines",
    "superlink_argv",
    "train_embedded",
]
