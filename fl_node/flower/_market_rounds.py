"""The coordinator's market session on a transport: what the ServerApp runs for mechanism 3.

With run config ``mechanism = "market"`` the ServerApp (:mod:`fl_node.flower.server_app`) reads
the :class:`fl_node.market.MarketPlan` named by ``market-file`` and calls
:func:`run_market_coordinator`: it asks every SuperNode who it is, maps the plan's slots to
nodes by ``silo-name``, checks each silo's training size against its accepted N, builds theta0
and runs the one market loop :func:`fl_node.market.run_market_rounds` over the Grid (the same
loop :func:`fl_node.market.run_market` runs in-process). ``out-dir`` receives
``progress.jsonl`` (a ``round-end`` event per market round) and ``result.json``: the identities,
the slot nodes and the run (:meth:`fl_node.market.MarketRun.to_dict`), or ``error`` naming why
the session stopped (a missing silo, a size that differs from the report, a dropped silo).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fl_node.flower._coordinator import CoordinatorConfig, _Progress
from fl_node.flower._session import query_identities
from fl_node.flower._transports.base import Transport

if TYPE_CHECKING:
    from fl_node.market import MarketPlan

__all__ = ["MarketSessionError", "run_market_coordinator"]


class MarketSessionError(RuntimeError):
    """The market session could not run or finish; the message names the cause."""


def _slot_nodes(transport: Transport, plan: MarketPlan, timeout: float) -> tuple[list[int], Any]:
    identities, failed = query_identities(transport, timeout=timeout)
    by_name = {s.name: n for n, s in identities.items()}
    names = list(plan.market.names)
    missing = [n for n in names if n not in by_name]
    if missing:
        raise MarketSessionError(
            f"silos {missing} did not answer the identity query (answered: {sorted(by_name)}; "
            f"failed: {failed}): every slot of a market round trains and is priced; start "
            "every silo's SuperNode with its silo-name"
        )
    nodes = [by_name[n] for n in names]
    sizes = [identities[n].num_examples for n in nodes]
    reported = [int(v) for v in plan.market.N]
    if sizes != reported:
        raise MarketSessionError(
            f"the silos' training sizes {sizes} differ from the accepted N {reported}; each "
            "silo must hold the data it registered"
        )
    return nodes, identities


def run_market_coordinator(
    transport: Transport, config: CoordinatorConfig, plan: MarketPlan
) -> dict[str, Any]:
    """Run the market session of ``plan`` on ``transport`` and return ``result.json``'s document.

    ``config`` gives the deadlines and ``out_dir``; the plan gives the rest. A failure is
    written as ``error`` (with the identities known so far) and raised as
    :class:`MarketSessionError`.
    """
    from fl_node.data import get_source
    from fl_node.market import MarketRoundError, model_vector, run_market_rounds

    out_dir = Path(config.out_dir) if config.out_dir else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    progress = _Progress(out_dir)
    progress("session-start", nodes=transport.node_ids(), mechanism="market")
    start = time.perf_counter()
    doc: dict[str, Any] = {"mechanism": "market", "plan": plan.to_json()}
    try:
        nodes, identities = _slot_nodes(transport, plan, config.query_timeout)
        doc["identities"] = {str(n): asdict(s) for n, s in identities.items()}
        doc["nodes"] = nodes
        meta = (
            get_source(plan.dataset)
            .split(test_fraction=config.test_fraction, seed=config.data_seed)
            .meta
        )
        run = run_market_rounds(
            transport,
            nodes,
            plan.market,
            model_vector(plan.initial_model(meta)),
            plan.rounds,
            params=plan.params,
            training=plan.training,
            round_timeout=config.round_timeout,
            on_round_end=lambda r: progress(
                "round-end",
                round=r.round,
                accuracy=float(np.mean(r.accuracy)),
                loss=None,
                imports=r.imports,
                train_seconds=r.train_seconds,
            ),
        )
        doc["history"] = run.to_dict()
    except MarketRoundError as exc:
        doc["error"] = str(exc)
        raise MarketSessionError(str(exc)) from exc
    except Exception as exc:
        doc["error"] = str(exc) if isinstance(exc, MarketSessionError) else repr(exc)
        raise
    finally:
        doc["seconds"] = time.perf_counter() - start
        if out_dir is not None:
            (out_dir / "result.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        progress("session-end", seconds=doc["seconds"], error=doc.get("error"))
    return doc
