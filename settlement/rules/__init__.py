"""settlement.rules: exact integer mirrors of the on-chain mechanism rules in ``contracts/rules/``.

Market (mechanism id 3, ``MarketRule.sol``): :class:`MarketTable`, :class:`MarketGraph`,
:func:`check_params`, :func:`check_graph`, :func:`sqrt_inv_wad`, :func:`edge_payments`,
:func:`net_payoffs`, :func:`settle_round`, :func:`bond`, :func:`bonds`, :class:`MarketRuleError`.
"""

from settlement.rules._market import (
    MAX_DISTANCE_WAD,
    MarketGraph,
    MarketRuleError,
    MarketTable,
    bond,
    bonds,
    check_graph,
    check_params,
    edge_payments,
    net_payoffs,
    settle_round,
    sqrt_inv_wad,
)

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
