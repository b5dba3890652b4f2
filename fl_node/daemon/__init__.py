"""The silo node daemon (``fedsettle node run``): chain steps, HTTP agent, SuperNode supervision.

Public API: the validated ``node.toml`` (:func:`load_node_config`), the daemon
(:class:`NodeDaemon`), its HTTP agent (:class:`AgentService`, :class:`AgentHTTPServer`) and the
wire format shared with the coordinator (:mod:`fl_node.daemon._wire`, documented there).
"""

from fl_node.daemon._config import (
    AgentSettings,
    ChainSettings,
    CogenSettings,
    CostSettings,
    DataSettings,
    MarketSettings,
    NodeConfig,
    SupernodeSettings,
    load_node_config,
    parse_node_config,
)
from fl_node.daemon._daemon import NodeDaemon
from fl_node.daemon._http import AgentHTTPServer
from fl_node.daemon._keys import KeySpec, read_key_spec
from fl_node.daemon._service import AgentRequestError, AgentService, find_slot
from fl_node.daemon._state import ActionLog, RoundRecord, StateDir, StateDirInUse
from fl_node.daemon._supervisor import SupernodeSupervisor, supernode_argv
from fl_node.daemon._toml import ConfigFileError, Table, read_toml
from fl_node.daemon._wire import (
    WireError,
    restrict_terms,
    strategy_from_json,
    strategy_to_json,
    terms_from_json,
    terms_to_json,
    units_from_json,
    units_to_json,
)

__all__ = [
    "ActionLog",
    "AgentHTTPServer",
    "AgentRequestError",
    "AgentService",
    "AgentSettings",
    "ChainSettings",
    "CogenSettings",
    "ConfigFileError",
    "CostSettings",
    "DataSettings",
    "KeySpec",
    "MarketSettings",
    "NodeConfig",
    "NodeDaemon",
    "RoundRecord",
    "StateDir",
    "StateDirInUse",
    "SupernodeSettings",
    "SupernodeSupervisor",
    "Table",
    "WireError",
    "find_slot",
    "load_node_config",
    "parse_node_config",
    "read_key_spec",
    "read_toml",
    "restrict_terms",
    "strategy_from_json",
    "strategy_to_json",
    "supernode_argv",
    "terms_from_json",
    "terms_to_json",
    "units_from_json",
    "units_to_json",
]
