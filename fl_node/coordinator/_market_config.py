"""The market (mechanism 3) part of ``consortium.toml``: ``[terms]``, ``[units]`` and per silo N, c, K.

With ``[coordinator].mechanism = "market"`` the file holds (see :mod:`fl_node.mechanisms.market`
for what each number does on chain)::

    [terms]
    lambda_pay = 2.0       # weight of the model distance in import thresholds and payments
                           #   (on chain in WAD, lambdaWad)
    lambda_prox = 0.05     # training: prox weight of each importer's local objective
    eta = 1.0              # training: step of the prox center along the distance gradient
    free_rider_rule = true # training: an upload that did not move from what its silo was sent
    stall_tol = 1e-6       #   (RMS change per parameter <= stall_tol) gets distance 2

    [units]                # optional; these are the defaults of a market round
    x_scale = 1000000      # K_i on chain with 6 decimals (slot xMax = K_i * x_scale)
    f_scale = 1000000      # c_i on chain with 6 decimals (slot fMax = c_i * f_scale)
    unit_wei = "10000000000000000"   # wei (or token base units) per 1.0 unit of utility

    [[silos]]              # name, account, endpoint, partition_id as for tradefl; no s:
    N = 107                # its training samples in the market's split of the bundled data
                           #   (`fedsettle node check` prints it; the embedded runtime trains on
                           #   exactly these, and both the silo and the session check it)
    c = 0.05               # its cost per export (on the f_scale grid)
    K = 15000.0            # its eagerness (on the x_scale grid); 0: a pure seller

The choice of schema: N, c and K are the silo's report, registered per slot like TradeFL's p_i
and cogen's theta_i, so they sit in ``[[silos]]`` (``N`` takes the place of ``s``: it is the
silo's data size); the market's prices and training parameters are public to all and sit in
``[terms]``; the chain's scales and the value of a unit of utility are the round's
``[units]``, which a market round defaults to 6 decimals for K and c and 1e16 wei per unit.
``c`` and ``K`` must lie on their scale's grid (the chain stores them truncated; a silo checks
the round to the last digit). ``[fl].rounds`` is the number of priced FL rounds the bonds cover.
A market consortium needs ``attest = true`` (the coordinator submits the table of graphs) and
the embedded runtime (slot i trains on silo i of the market's split, so ``partition_id`` is the
slot index). Every error names the field and the fix (:class:`fl_node.daemon.ConfigFileError`,
exit 3).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from fl_node.chain_steps import ChainUnits
from fl_node.daemon import Table
from fl_node.mechanisms.market import F_SCALE, K_SCALE, UNIT_WEI

if TYPE_CHECKING:
    from fl_node.mechanisms.market import MarketTerms

__all__ = ["MARKET_SILO_KEYS", "MARKET_UNITS", "parse_market_terms"]

#: the [[silos]] keys of a market consortium (beside the common ones; N replaces s)
MARKET_SILO_KEYS = ("N", "c", "K")

#: a market round's default [units]: K and c with 6 decimals, 1e16 wei per unit of utility
#: (the market demo's)
MARKET_UNITS = ChainUnits(x_scale=K_SCALE, f_scale=F_SCALE, unit_wei=UNIT_WEI)


def _on_grid(t: Table, key: str, value: float, scale: int, units_key: str) -> None:
    # exactly, on the decimal the number was written as (its shortest repr)
    if (Fraction(repr(value)) * scale).denominator != 1:
        raise t.error(
            key,
            f"= {value!r} has more decimals than [units].{units_key} = {scale} carries on chain",
            f"round it to a multiple of 1/{scale}",
        )


def parse_market_terms(
    terms: Table,
    silo_tables: list[Table],
    names: list[str],
    sizes: list[float],
    units: ChainUnits,
) -> MarketTerms:
    """Validate a market consortium's ``[terms]`` and per-silo c, K into :class:`MarketTerms`.

    ``names`` and ``sizes`` (``N``, whole numbers) come from the already validated ``[[silos]]``.

    Raises
    ------
    fl_node.daemon.ConfigFileError
        Naming the field (``[terms].lambda_pay``, ``[[silos]][1].K`` ...) and the fix.
    """
    from fl_node.market import MarketParams
    from fl_node.market._distance import STALL_TOL
    from fl_node.mechanisms.market import MarketReport, MarketTerms

    terms.check_keys(("lambda_pay", "lambda_prox", "eta", "free_rider_rule", "stall_tol"))
    reports = []
    for name, size, t in zip(names, sizes, silo_tables, strict=True):
        c = t.number("c", "its cost per export, e.g. 0.05", min=0.0)
        K = t.number("K", "its eagerness, e.g. 15000.0 (0: a pure seller)", min=0.0)
        _on_grid(t, "c", c, units.f_scale, "f_scale")
        _on_grid(t, "K", K, units.x_scale, "x_scale")
        reports.append(MarketReport(name, int(size), c, K))
    rule = terms.flag("free_rider_rule", "true to give unmoved uploads distance 2", default=True)
    if not rule and terms.has("stall_tol"):
        raise terms.error(
            "stall_tol", "is set but free_rider_rule = false", "remove it or enable the rule"
        )
    params = MarketParams(
        lambda_pay=terms.number(
            "lambda_pay", "the distance weight in thresholds and payments, e.g. 2.0", min=0.0
        ),
        lambda_prox=terms.number(
            "lambda_prox", "the prox weight of local training, e.g. 0.05", default=0.05, min=0.0
        ),
        eta=terms.number("eta", "the prox center step, e.g. 1.0", default=1.0, above=0.0),
        stall_tol=terms.number(
            "stall_tol", "the free-rider RMS tolerance, e.g. 1e-6", default=STALL_TOL, min=0.0
        )
        if rule
        else None,
    )
    return MarketTerms(tuple(reports), params)
