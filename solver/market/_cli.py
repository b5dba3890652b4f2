"""The market's entry points for ``fedsettle solve``: one algorithm, the greedy threshold graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from solver._errors import ConfigError
from solver.market._config import MarketConfig
from solver.market._edges import solve_round_edges
from solver.market._round import solve_round

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "DENSE_UP_TO",
    "PAYMENTS_FORMS",
    "format_table",
    "solve_cli",
]

#: the market's graph algorithms
ALGORITHMS = ("greedy",)
#: what ``algorithm=None`` means
DEFAULT_ALGORITHM = "greedy"
#: values of the ``payments`` option (``fedsettle solve --payments``)
PAYMENTS_FORMS = ("auto", "dense", "edges")
#: ``auto`` writes the dense form up to this many organizations, the edge form above
DENSE_UP_TO = 500


def solve_cli(
    config: MarketConfig, algorithm: str | None, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Solve one round of a parsed market file; the JSON-ready result (``solver.Mechanism``).

    Keys: ``mechanism`` ("market"), ``algorithm``, ``success`` (always true: the greedy rule
    cannot fail), ``names``, ``graph`` (per org in org order, the imported org names in acceptance
    order), ``payments`` (r_ij, row = importer), ``net_payment``, ``gain``, ``export_cost``,
    ``utility``, ``ir`` (U_i >= 0), ``ir_importer``, ``ir_exporter``, ``budget_balance``,
    ``threshold``, ``payments_form``. ``options["payments"]`` (one of :data:`PAYMENTS_FORMS`,
    default ``auto``) picks the form of ``payments`` and ``threshold``: ``dense`` gives m x m
    matrices (row = importer; the threshold diagonal is ``None``, infinite values the strings
    ``"inf"``/``"-inf"``), ``edges`` gives lists parallel to ``graph`` (``payments[i][k]`` is
    paid by org i to org ``graph[i][k]``), computed without any m x m array
    (:func:`solve_round_edges`); ``auto`` is ``dense`` up to :data:`DENSE_UP_TO` orgs. The other
    generic CLI options (``max_rounds``, ``fallback``, ``ir_range``) are ignored, as the
    protocol asks; the IR checks are always in the output.
    """
    algo = DEFAULT_ALGORITHM if algorithm is None else algorithm
    if algo not in ALGORITHMS:
        raise ConfigError(
            f"unknown market algorithm {algorithm!r}; available: {list(ALGORITHMS)}",
            field="algorithm",
        )
    form = options.get("payments", "auto")
    if form not in PAYMENTS_FORMS:
        raise ConfigError(
            f"unknown payments form {form!r}; choose from {list(PAYMENTS_FORMS)}",
            field="payments",
        )
    if form == "auto":
        form = "dense" if config.market.n <= DENSE_UP_TO else "edges"
    if form == "dense":
        out = solve_round(config.market, config.distance).to_dict()
        out["payments_form"] = "dense"
    else:
        out = solve_round_edges(config.market, config.distance, checked=True).to_dict()
    return {"mechanism": out.pop("mechanism"), "algorithm": algo, "success": True, **out}


def format_table(out: Mapping[str, Any]) -> str:
    """A human-readable table of a :func:`solve_cli` result (``--format table``)."""
    names = list(out["names"])
    w = max(4, *(len(n) for n in names))
    head = f"{'org':<{w}}  {'gain':>10}  {'net pay':>10}  {'utility':>10}  IR  imports"
    lines = [f"market ({out['algorithm']}), lambda_pay = {out['lambda_pay']:g}", "", head]
    lines.append("-" * len(head))
    for i, n in enumerate(names):
        imports = ", ".join(out["graph"][i]) or "-"
        lines.append(
            f"{n:<{w}}  {out['gain'][i]:10.4g}  {out['net_payment'][i]:10.4g}  "
            f"{out['utility'][i]:10.4g}  {'yes' if out['ir'][i] else 'NO ':<3} {imports}"
        )
    lines += ["", f"budget balance {out['budget_balance']:.3g}   (sum of net payments)"]
    return "\n".join(lines)
