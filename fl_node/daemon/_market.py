"""A silo daemon's side of a market (mechanism 3) round: check the round, deposit, check the table.

The coordinator pushes :class:`fl_node.mechanisms.market.MarketTerms` with ``mechanism =
"market"``, the chain units and the priced FL rounds. Before accepting them the silo checks
every on-chain field of the round against them (:func:`market_pushed_terms` +
:func:`settlement.check_round`: mechanism, token, unit, lambda_pay, rounds, scales, every slot's
N, K, c, its own bond against :func:`settlement.market_bonds`, the params digest), and that its
own slot registers exactly its report: its N (its training size in the market's split of its
``[data]``, :func:`fl_node.mechanisms.market.market_training_size`) and the c and K of its
``[market]`` table (:meth:`MarketSilo.check`). The daemon deposits after the same check again.

There is no strategy phase (the coordinator never queries best responses: the market prices
imports from the graph, not from strategies) and no assignment. Once the coordinator's table is
on chain the silo checks what it can of it (:func:`check_table`): that it prices the round's
FL rounds, and that every import in its own row, in every FL round, passes the market's
acceptance rule at the posted distance, in threshold order (mechanisms.md section 3), so it
is not made to pay for a model it would refuse at that price. What it cannot check: the
distances themselves (they come from the models the coordinator holds; in the embedded runtime
the silo does not see them), and candidates the row did not import (the table carries no
distances for them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fl_node.chain_steps import ChainUnits
    from fl_node.daemon._config import DataSettings, MarketSettings
    from fl_node.mechanisms.market import MarketReport, MarketTerms
    from settlement import AcceptedTerms, SettlementClient

__all__ = ["MarketSilo", "check_table", "market_pushed_terms", "market_terms_from"]

#: relative slack when comparing two thresholds for the row's order (float noise)
_ORDER_RTOL = 1e-9


def market_pushed_terms(
    client: SettlementClient, round_id: int, terms: MarketTerms, units: ChainUnits, rounds: int
) -> AcceptedTerms:
    """The round ``terms`` describe, with the round's own accounts and coordinator.

    The slots' numbers (``base = N``, ``xMax``, ``fMax``) come from the terms, so
    :func:`settlement.check_round` compares every slot's N, K and c too.
    """
    from fl_node.mechanisms.market import market_accepted_terms

    cfg = client.round_config(round_id)
    accounts = [p.account for p in client.profiles(round_id)]
    return market_accepted_terms(
        terms, units, accounts, rounds=rounds, coordinator=cfg.coordinator, token=cfg.token
    )


def market_terms_from(document: Mapping[str, Any]) -> tuple[MarketTerms, int]:
    """The :class:`MarketTerms` and priced FL rounds of a pushed (or stored) terms document."""
    from fl_node.mechanisms.market import MarketTerms

    doc, rounds = document.get("market"), document.get("rounds")
    if not isinstance(doc, Mapping):
        raise ValueError("a market terms document needs a market object (MarketTerms.to_json)")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(
            f"a market terms document needs rounds >= 1 (priced FL rounds), got {rounds!r}"
        )
    try:
        return MarketTerms.from_json(doc), rounds
    except (TypeError, KeyError) as exc:
        raise ValueError(f"market terms: {exc}") from None


class MarketSilo:
    """One silo's market report: N from its data, c and K from its ``[market]`` table.

    Parameters
    ----------
    name : str
    settings : MarketSettings
    data : DataSettings
        A bundled dataset's partition: slot ``partition_id`` of the market's split of
        ``num_partitions`` silos.
    """

    def __init__(self, name: str, settings: MarketSettings, data: DataSettings) -> None:
        from fl_node.mechanisms.market import market_training_size

        self.name = name
        self.settings = settings
        self.data = data
        self.N = market_training_size(
            data.dataset, data.num_partitions, data.seed, data.alpha, data.partition_id
        )

    @property
    def report(self) -> MarketReport:
        from fl_node.mechanisms.market import MarketReport

        return MarketReport(self.name, self.N, self.settings.c, self.settings.K)

    def check(self, terms: MarketTerms, index: int) -> None:
        """Refuse terms whose slot ``index`` is not this silo's report (N, c, K) or name.

        Raises
        ------
        ValueError
            Naming the field and the fix.
        """
        from fl_node.mechanisms.market import MarketAgent

        n = len(terms.reports)
        if n != self.data.num_partitions:
            raise ValueError(
                f"the terms list {n} silos but this silo's [data].num_partitions = "
                f"{self.data.num_partitions} (the market's split depends on the silo count); fix "
                "[data].num_partitions or the consortium's [[silos]]"
            )
        if index != self.data.partition_id:
            raise ValueError(
                f"this silo holds slot {index} but trains silo {self.data.partition_id} of the "
                "market's split; set [data].partition_id to its slot"
            )
        if terms.names[index] != self.name:
            raise ValueError(
                f"slot {index} is named {terms.names[index]!r} in the terms, but this silo is "
                f"{self.name!r}; fix [silo].name or the consortium's [[silos]] name"
            )
        MarketAgent(self.report, terms)  # N, c and K exactly as registered


def check_table(
    client: SettlementClient, round_id: int, index: int, terms: MarketTerms
) -> dict[str, Any] | None:
    """Check the posted table's FL-round count and slot ``index``'s row (module docstring).

    Returns None while no table is on chain, else a summary (``rounds``, ``imports``: per FL
    round the names the silo imported).

    Raises
    ------
    ValueError
        Naming the FL round, the edge and what is wrong.
    """
    import numpy as np

    from settlement import WAD, unpack_market_table
    from solver.market import thresholds

    raw = client.report_table(round_id)
    if raw is None:
        return None
    n = len(terms.reports)
    graphs = unpack_market_table(n, raw)
    rounds = int(client.round_config(round_id).d_min_wad)
    if len(graphs) != rounds:
        raise ValueError(
            f"the table prices {len(graphs)} FL rounds, but the round's bonds cover {rounds}"
        )
    market = terms.market()
    N = market.N
    imports = []
    for k, graph in enumerate(graphs, start=1):
        s, e = graph.row_start[index], graph.row_start[index + 1]
        row, dist = graph.exporters[s:e], graph.dist_wad[s:e]
        if row and market.K[index] == 0:
            raise ValueError(f"FL round {k}: this silo (K = 0, a pure seller) imports {list(row)}")
        d = np.zeros((n, n))  # symmetric; only the row's posted entries enter T[index]
        d[index, list(row)] = d[list(row), index] = np.asarray(dist, dtype=float) / WAD
        T = thresholds(market, d)[index]
        total = float(N[index])
        for pos, j in enumerate(row):
            if not total + N[j] < T[j]:
                raise ValueError(
                    f"FL round {k}: import #{pos} from {terms.names[j]} at distance "
                    f"{dist[pos] / WAD:.6g} fails the acceptance rule (pool {total + N[j]:g} >= "
                    f"threshold {T[j]:.6g}): this silo would refuse it at that price"
                )
            if pos:
                before = row[pos - 1]
                slack = _ORDER_RTOL * max(1.0, abs(float(T[before])))
                if T[j] > T[before] + slack or (abs(T[j] - T[before]) <= slack and j < before):
                    raise ValueError(
                        f"FL round {k}: import #{pos} ({terms.names[j]}) comes after "
                        f"{terms.names[before]} but has the higher threshold (or the lower index "
                        "at a tie): not the market's acceptance order"
                    )
            total += float(N[j])
        imports.append([terms.names[j] for j in row])
    return {"rounds": len(graphs), "imports": imports}
