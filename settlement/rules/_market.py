"""Exact integer mirror of ``contracts/rules/MarketRule.sol`` (mechanism id 3, the market).

Every function here returns bit for bit what the library returns, and raises
:class:`MarketRuleError` exactly where the library reverts (``error`` is the Solidity error name,
``values`` its arguments). Units and rounding are the library's:

- ``n[i]``: N_i in samples (integers, 1 <= N_i <= 2**64 - 1);
- ``k_wad[i]``, ``c_wad[i]``, ``lambda_wad``: K_i, c_i, lambda_pay times 10**18 (truncated);
- ``dist_wad[e]``: d_ij times 10**18, in [0, 2 * 10**18];
- ``unit_wei``: wei per 1.0 unit of utility.

With h_i(t) = isqrt(k_wad_i * 10**18 // t), pool t_i = N_i + sum of the row's N_j:
``r_wei = max(0, h_i(t_i - N_j) - h_i(t_i) - lambda_wad * d_wad * N_j // (10**18 N_i))
* unit_wei // 10**18``; payoffs credit the exporter and debit the importer once per edge; the
bond is ``rounds * (unit_wei * (h_i(N_i) - h_i(N_all) + m - 1) // 10**18)`` (0 when K_i = 0).

The graph is passed in compressed rows (:class:`MarketGraph`): importer i's edges are positions
``row_start[i] <= e < row_start[i + 1]`` of ``exporters`` / ``dist_wad``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from settlement._errors import ConfigError
from settlement._fixedpoint import WAD, to_wad

__all__ = [
    "MAX_DISTANCE_WAD",
    "MarketGraph",
    "MarketRuleError",
    "MarketTable",
    "bond",
    "bonds",
    "check_graph",
    "check_params",
    "edge_payments",
    "net_payoffs",
    "settle_round",
    "sqrt_inv_wad",
]

MAX_DISTANCE_WAD = 2 * WAD
MAX_ORGS = 511
MAX_N = 2**64 - 1
MAX_K_WAD = 2**128 - 1
MAX_C_WAD = 2**128 - 1
MAX_LAMBDA_WAD = 2**96 - 1
MAX_UNIT_WEI = 2**96 - 1
MAX_ROUNDS = 2**32 - 1


class MarketRuleError(ConfigError):
    """Input the library rejects; ``error`` names the Solidity custom error, ``values`` its arguments."""

    def __init__(self, error: str, *args: int, message: str) -> None:
        super().__init__(f"{error}{args}: {message}")
        self.error = error
        self.values = args


@dataclass(frozen=True)
class MarketTable:
    """The session's public inputs, ABI tuple ``(uint256[] n, uint256[] kWad, uint256 lambdaWad,
    uint256 unitWei)`` = ``MarketRule.Table``; ``c_wad`` only goes to ``checkParams``."""

    n: tuple[int, ...]
    k_wad: tuple[int, ...]
    c_wad: tuple[int, ...]
    lambda_wad: int
    unit_wei: int

    @classmethod
    def from_reals(
        cls,
        N: Sequence[Any],
        c: Sequence[Any],
        K: Sequence[Any],
        lambda_pay: Any,
        unit_wei: int,
    ) -> MarketTable:
        """Convert real parameters (WAD, truncated toward zero); N must be whole samples."""
        n = []
        for i, v in enumerate(N):
            if isinstance(v, bool) or int(v) != v:
                raise ConfigError(f"org[{i}].N: {v!r} is not a whole number of samples")
            n.append(int(v))
        return cls(
            n=tuple(n),
            k_wad=tuple(to_wad(v, field=f"org[{i}].K") for i, v in enumerate(K)),
            c_wad=tuple(to_wad(v, field=f"org[{i}].c") for i, v in enumerate(c)),
            lambda_wad=to_wad(lambda_pay, field="lambda_pay"),
            unit_wei=int(unit_wei),
        )

    def abi(self) -> tuple[list[int], list[int], int, int]:
        """The ``MarketRule.Table`` tuple for a contract call."""
        return (list(self.n), list(self.k_wad), self.lambda_wad, self.unit_wei)


@dataclass(frozen=True)
class MarketGraph:
    """One round's graph in compressed rows, ABI tuple ``(uint256[] rowStart, uint256[]
    exporters, uint256[] distWad)`` = ``MarketRule.Graph``."""

    row_start: tuple[int, ...]
    exporters: tuple[int, ...]
    dist_wad: tuple[int, ...]

    @classmethod
    def from_rows(
        cls, rows: Sequence[Sequence[int]], dist_wad: Sequence[Sequence[int]]
    ) -> MarketGraph:
        """From per-importer exporter lists (acceptance order) and an m x m WAD distance matrix."""
        starts, exp, dist = [0], [], []
        for i, row in enumerate(rows):
            for j in row:
                exp.append(int(j))
                dist.append(int(dist_wad[i][j]))
            starts.append(len(exp))
        return cls(tuple(starts), tuple(exp), tuple(dist))

    @classmethod
    def from_distances(
        cls, rows: Sequence[Sequence[int]], distance: Sequence[Sequence[Any]]
    ) -> MarketGraph:
        """From rows and a real m x m distance matrix, each entry converted with ``to_wad``
        (exact decimal reading, truncated toward zero)."""
        d_wad = [
            [to_wad(v, field=f"distance[{i}][{j}]") for j, v in enumerate(row)]
            for i, row in enumerate(distance)
        ]
        return cls.from_rows(rows, d_wad)

    def rows(self) -> tuple[tuple[int, ...], ...]:
        """Per-importer exporter lists."""
        s = self.row_start
        return tuple(self.exporters[s[i] : s[i + 1]] for i in range(len(s) - 1))

    def abi(self) -> tuple[list[int], list[int], list[int]]:
        """The ``MarketRule.Graph`` tuple for a contract call."""
        return (list(self.row_start), list(self.exporters), list(self.dist_wad))


def _fail(error: str, *args: int, message: str) -> MarketRuleError:
    return MarketRuleError(error, *args, message=message)


def check_params(table: MarketTable, rounds: int) -> None:
    """Mirror of ``MarketRule.checkParams`` (the checks at session open)."""
    m = len(table.n)
    if m == 0 or m > MAX_ORGS:
        raise _fail("MarketOrgCount", m, message=f"needs 1 to {MAX_ORGS} orgs")
    for name, arr in (("kWad", table.k_wad), ("cWad", table.c_wad)):
        if len(arr) != m:
            raise _fail("MarketLengthMismatch", m, len(arr), message=f"{name} needs one per org")
    for i in range(m):
        if not 1 <= table.n[i] <= MAX_N:
            raise _fail("MarketSizeOutOfRange", i, table.n[i], message=f"org[{i}].N out of range")
        if table.k_wad[i] > MAX_K_WAD:
            raise _fail("MarketEagernessOutOfRange", i, table.k_wad[i], message=f"org[{i}].K")
        if table.c_wad[i] > MAX_C_WAD:
            raise _fail("MarketCostOutOfRange", i, table.c_wad[i], message=f"org[{i}].c")
    if table.lambda_wad > MAX_LAMBDA_WAD:
        raise _fail("MarketLambdaOutOfRange", table.lambda_wad, message="lambda_pay too large")
    if not 1 <= table.unit_wei <= MAX_UNIT_WEI:
        raise _fail("MarketUnitOutOfRange", table.unit_wei, message="unit_wei out of range")
    if not 1 <= rounds <= MAX_ROUNDS:
        raise _fail("MarketRoundsOutOfRange", rounds, message="rounds out of range")


def sqrt_inv_wad(k_wad: int, t: int) -> int:
    """h(t) = floor(10**18 sqrt(K / t)) = isqrt(k_wad * 10**18 // t) (``MarketRule.sqrtInvWad``)."""
    return math.isqrt(k_wad * WAD // t)


def check_graph(m: int, graph: MarketGraph) -> None:
    """Mirror of ``MarketRule.checkGraph``: the first violation, in the library's order."""
    rs, exp, dist = graph.row_start, graph.exporters, graph.dist_wad
    edges = len(exp)
    if len(rs) != m + 1:
        raise _fail("MarketLengthMismatch", m + 1, len(rs), message="rowStart needs m + 1 entries")
    if len(dist) != edges:
        raise _fail("MarketLengthMismatch", edges, len(dist), message="distWad needs one per edge")
    if rs[0] != 0:
        raise _fail("MarketRowStart", 0, message="rowStart[0] must be 0")
    if rs[m] != edges:
        raise _fail("MarketRowStart", m, message="rowStart[m] must be the edge count")
    stamp = [0] * m
    for i in range(m):
        if rs[i + 1] < rs[i]:
            raise _fail("MarketRowStart", i + 1, message="rowStart must be non-decreasing")
        for e in range(rs[i], rs[i + 1]):
            j = exp[e]
            if j >= m or j == i:
                raise _fail("MarketBadExporter", i, j, message=f"graph[{i}] imports {j}")
            if stamp[j] == i + 1:
                raise _fail("MarketDuplicateEdge", i, j, message=f"graph[{i}] imports {j} twice")
            stamp[j] = i + 1
            if dist[e] > MAX_DISTANCE_WAD:
                raise _fail(
                    "MarketDistanceOutOfRange", i, j, dist[e], message=f"d[{i}][{j}] above 2"
                )


def edge_payments(table: MarketTable, graph: MarketGraph) -> list[int]:
    """Mirror of ``MarketRule.edgePayments``: r_ij in wei per edge position."""
    m = len(table.n)
    if len(table.k_wad) != m:
        raise _fail("MarketLengthMismatch", m, len(table.k_wad), message="kWad needs one per org")
    check_graph(m, graph)
    n, rs = table.n, graph.row_start
    out = [0] * len(graph.exporters)
    for i in range(m):
        edges = range(rs[i], rs[i + 1])
        if not edges:
            continue
        total = n[i] + sum(n[graph.exporters[e]] for e in edges)
        k = table.k_wad[i]
        h_total = sqrt_inv_wad(k, total)
        for e in edges:
            nj = n[graph.exporters[e]]
            marg = sqrt_inv_wad(k, total - nj) - h_total
            pen = table.lambda_wad * graph.dist_wad[e] * nj // (WAD * n[i])
            out[e] = (marg - pen) * table.unit_wei // WAD if marg > pen else 0
    return out


def net_payoffs(m: int, graph: MarketGraph, r_wei: Sequence[int]) -> list[int]:
    """Mirror of ``MarketRule.netPayoffs``: exporter +r, importer -r, once per edge."""
    payoff = [0] * m
    rs = graph.row_start
    for i in range(m):
        for e in range(rs[i], rs[i + 1]):
            payoff[graph.exporters[e]] += r_wei[e]
            payoff[i] -= r_wei[e]
    return payoff


def settle_round(table: MarketTable, graph: MarketGraph) -> tuple[list[int], list[int]]:
    """Mirror of ``MarketRule.settleRound``: ``(r_wei per edge, payoff per org)``."""
    r = edge_payments(table, graph)
    return r, net_payoffs(len(table.n), graph, r)


def _bond(k: int, ni: int, total: int, m: int, unit_wei: int, rounds: int) -> int:
    if k == 0:
        return 0
    b = sqrt_inv_wad(k, ni) - sqrt_inv_wad(k, total) + (m - 1)
    return rounds * (unit_wei * b // WAD)


def bond(i: int, table: MarketTable, rounds: int) -> int:
    """Mirror of ``MarketRule.bond``: org i's worst-case liability over ``rounds`` rounds."""
    m = len(table.n)
    return _bond(table.k_wad[i], table.n[i], sum(table.n), m, table.unit_wei, rounds)


def bonds(table: MarketTable, rounds: int) -> list[int]:
    """Mirror of ``MarketRule.bonds``: every org's bond in org order."""
    m = len(table.n)
    if len(table.k_wad) != m:
        raise _fail("MarketLengthMismatch", m, len(table.k_wad), message="kWad needs one per org")
    total = sum(table.n)
    return [_bond(table.k_wad[i], table.n[i], total, m, table.unit_wei, rounds) for i in range(m)]
