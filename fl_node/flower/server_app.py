"""The Flower ServerApp run by the coordinator (``@app.main()`` with a Grid and a Context).

It loads the session hooks, waits for the SuperNodes (``min-nodes``, or fewer once a plan that
arrives after the submission names fewer: :func:`~fl_node.flower.wait_for_session_nodes`), then
runs :func:`~fl_node.flower.run_coordinator` over a
:class:`~fl_node.flower.GridTransport`: identity query, strategy-phase hook, FL rounds with
per-node configs, deadline and x-weighted FedAvg, settlement hook. Settings come from the run
config (see :class:`~fl_node.flower.CoordinatorConfig`). With ``mechanism = "market"`` it runs
the model-sharing market's session instead (:func:`~fl_node.flower.run_market_coordinator` on
the :class:`fl_node.market.MarketPlan` in ``market-file``): every silo keeps its own model.
"""

from __future__ import annotations

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from fl_node.flower._coordinator import (
    CoordinatorConfig,
    load_hooks,
    run_coordinator,
    wait_for_session_nodes,
)
from fl_node.flower._transports.grid import GridTransport

__all__ = ["app"]

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run one coordinator session on the connected SuperNodes."""
    run_config = dict(context.run_config)
    config = CoordinatorConfig.from_run_config(run_config)
    transport = GridTransport(grid)
    if run_config.get("mechanism") == "market":
        from fl_node.flower._market_rounds import run_market_coordinator
        from fl_node.market import MarketPlan

        transport.wait_for_nodes(config.min_nodes, timeout=config.node_wait_timeout)
        plan = MarketPlan.read(str(run_config.get("market-file", "")))
        run_market_coordinator(transport, config, plan)
        return
    # the hooks first: with a plan still to come they decide how many nodes to wait for
    hooks = load_hooks(config.hooks, run_config)
    wait_for_session_nodes(transport, config, hooks)
    run_coordinator(transport, config, hooks)
