"""Mechanism 3 (the model-sharing market) on the core contract: slots, config and the table.

The core stores the market's inputs in its generic fields (``contracts/rules/MarketSession.sol``):
``gamma_wad`` = wei per 1.0 unit of utility, ``lambda_wad`` = lambda_pay in WAD, ``d_min_wad`` =
the FL rounds the bonds cover, ``x_scale`` / ``f_scale`` the scales of K and c; slot i has
``base = N_i``, ``x_max = K_i * x_scale`` and ``f_max = c_i * f_scale`` (truncated). The
coordinator's table (:func:`pack_market_table`) carries every FL round's graph with its edge
distances; the contract computes the payments from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from settlement._digests import payoff_digest
from settlement._errors import ConfigError
from settlement._fixedpoint import WAD, to_scaled, to_wad
from settlement._outcome import RoundOutcome
from settlement._types import ZERO_ADDRESS, OrgSpec, RoundConfig, Wei
from settlement.rules._market import MarketGraph, MarketTable, bonds, settle_round

__all__ = [
    "MECHANISM_MARKET",
    "market_bonds",
    "market_config",
    "market_orgs",
    "market_outcome",
    "market_payoffs",
    "market_table_of",
    "pack_market_table",
    "unpack_market_table",
]

MECHANISM_MARKET = 3
"""Mechanism id of the model-sharing market (MarketRule)."""


def market_orgs(
    accounts: Sequence[str],
    N: Sequence[Any],
    c: Sequence[Any],
    K: Sequence[Any],
    *,
    x_scale: int = 1,
    f_scale: int = 10**6,
) -> list[OrgSpec]:
    """The slots of a market round: ``base = N_i``, ``x_max = K_i x_scale``, ``f_max = c_i f_scale``."""
    lengths = {len(accounts), len(N), len(c), len(K)}
    if len(lengths) != 1:
        raise ConfigError("market_orgs: accounts, N, c and K need one entry per org")
    out = []
    for i, account in enumerate(accounts):
        if isinstance(N[i], bool) or int(N[i]) != N[i] or int(N[i]) < 1:
            raise ConfigError(f"org[{i}].N: {N[i]!r} must be a whole number of samples >= 1")
        out.append(
            OrgSpec(
                account=account,
                x_max=to_scaled(K[i], x_scale, field=f"org[{i}].K"),
                f_max=to_scaled(c[i], f_scale, field=f"org[{i}].c"),
                base=int(N[i]),
            )
        )
    return out


def market_config(
    *,
    now: int,
    coordinator: str,
    lambda_pay: Any,
    unit_wei: int,
    rounds: int,
    x_scale: int = 1,
    f_scale: int = 10**6,
    deposit_window: int = 3600,
    report_window: int = 3600,
    token: str = ZERO_ADDRESS,
) -> RoundConfig:
    """The :class:`RoundConfig` of a market round (deadlines ``now + window``)."""
    return RoundConfig(
        gamma_wad=int(unit_wei),
        lambda_wad=to_wad(lambda_pay, field="lambda_pay"),
        d_min_wad=int(rounds),
        x_scale=x_scale,
        f_scale=f_scale,
        deposit_deadline=now + deposit_window,
        report_deadline=now + deposit_window + report_window,
        coordinator=coordinator,
        token=token,
        mechanism_id=MECHANISM_MARKET,
    )


def market_table_of(config: RoundConfig, orgs: Sequence[OrgSpec]) -> MarketTable:
    """The ``MarketRule.Table`` the contract builds from the round's config and slots."""
    return MarketTable(
        n=tuple(o.base for o in orgs),
        k_wad=tuple(o.x_max * WAD // config.x_scale for o in orgs),
        c_wad=tuple(o.f_max * WAD // config.f_scale for o in orgs),
        lambda_wad=config.lambda_wad,
        unit_wei=config.gamma_wad,
    )


def market_bonds(config: RoundConfig, orgs: Sequence[OrgSpec]) -> list[int]:
    """Every slot's bond, as the contract computes it (``MarketRule.bonds`` over the rounds)."""
    return bonds(market_table_of(config, orgs), config.d_min_wad)


def pack_market_table(n: int, graphs: Sequence[MarketGraph]) -> bytes:
    """The coordinator's market table: uint16 R, then per graph rowStart as n + 1 uint16 and per
    edge (uint16 exporter, uint64 distWad), big-endian."""
    if not 1 <= len(graphs) < 2**16:
        raise ConfigError(f"graphs: {len(graphs)} FL rounds; a table carries 1 to 65535")
    out = [len(graphs).to_bytes(2, "big")]
    for k, g in enumerate(graphs):
        if len(g.row_start) != n + 1:
            raise ConfigError(f"graphs[{k}]: row_start needs {n + 1} entries for {n} slots")
        for v in g.row_start:
            out.append(int(v).to_bytes(2, "big"))
        for j, d in zip(g.exporters, g.dist_wad, strict=True):
            if not 0 <= d < 2**64:
                raise ConfigError(f"graphs[{k}]: distance {d} does not fit uint64 (max 2e18)")
            out.append(int(j).to_bytes(2, "big") + int(d).to_bytes(8, "big"))
    return b"".join(out)


def unpack_market_table(n: int, raw: bytes) -> list[MarketGraph]:
    """Inverse of :func:`pack_market_table` (for auditors reading the table's data contract)."""
    if len(raw) < 2:
        raise ConfigError(f"market table: {len(raw)} bytes, needs at least 2")
    rounds, p, graphs = int.from_bytes(raw[:2], "big"), 2, []
    for k in range(rounds):
        if len(raw) < p + 2 * (n + 1):
            raise ConfigError(f"market table: graph {k} truncated")
        starts = [int.from_bytes(raw[p + 2 * i : p + 2 * i + 2], "big") for i in range(n + 1)]
        p += 2 * (n + 1)
        exp, dist = [], []
        for _ in range(starts[n]):
            exp.append(int.from_bytes(raw[p : p + 2], "big"))
            dist.append(int.from_bytes(raw[p + 2 : p + 10], "big"))
            p += 10
        graphs.append(MarketGraph(tuple(starts), tuple(exp), tuple(dist)))
    if p != len(raw):
        raise ConfigError(f"market table: {len(raw)} bytes, the graphs use {p}")
    return graphs


def market_payoffs(table: MarketTable, graphs: Sequence[MarketGraph]) -> list[int]:
    """Net payoff per slot over all the table's graphs (the sum of ``settle_round``)."""
    total = [0] * len(table.n)
    for g in graphs:
        _, p = settle_round(table, g)
        total = [a + b for a, b in zip(total, p, strict=True)]
    return total


def market_outcome(
    config: RoundConfig,
    orgs: Sequence[OrgSpec],
    deposits: Mapping[int, int],
    table: bytes | None,
) -> RoundOutcome:
    """The outcome the contract must produce for a market round, from its on-chain inputs:
    the config, the slots, the deposits and the coordinator's table (None if never submitted:
    nobody trades). Scores are N_i for depositors, 0 otherwise."""
    market = market_table_of(config, orgs)
    n = len(orgs)
    pay = market_payoffs(market, unpack_market_table(n, table)) if table else [0] * n
    scores = [o.base if i in deposits else 0 for i, o in enumerate(orgs)]
    return RoundOutcome(
        bonds=[Wei(b) for b in bonds(market, config.d_min_wad)],
        scores=scores,
        payoffs=[Wei(p) for p in pay],
        payouts=[Wei(deposits[i] + pay[i]) if i in deposits else Wei(0) for i in range(n)],
        digest=payoff_digest([o.account for o in orgs], scores, pay),
    )
