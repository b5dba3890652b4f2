"""The registry of the market experiments' baselines: :data:`BASELINES` and :func:`run_baseline`."""

from __future__ import annotations

from collections.abc import Callable

from fl_node.market._baselines import (
    BaselineParams,
    MethodResult,
    Setup,
    global_model,
    local,
    pfedgraph,
)
from fl_node.market._pfl_baselines import cfl, fedamp, fedfomo

__all__ = ["BASELINES", "run_baseline"]

#: every baseline by name, in the order the reports list them
BASELINES: dict[str, Callable[[Setup, BaselineParams], MethodResult]] = {
    "local": local,
    "fedavg": lambda s, p: global_model(s, p, "fedavg"),
    "fedprox": lambda s, p: global_model(s, p, "fedprox"),
    "ditto": lambda s, p: global_model(s, p, "ditto"),
    "fedamp": fedamp,
    "cfl": cfl,
    "fedfomo": fedfomo,
    "pfedgraph": pfedgraph,
}


def run_baseline(name: str, setup: Setup, params: BaselineParams | None = None) -> MethodResult:
    """Run one of :data:`BASELINES` by name."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; use one of {sorted(BASELINES)}")
    return BASELINES[name](setup, params or BaselineParams())
