"""The JSON documents the coordinator and a silo's daemon exchange over HTTP.

Endpoints of the daemon's agent (all JSON, errors are ``{"error": "..."}`` with a 4xx status):

``GET /health``
    ``{"status": "ok", "name", "address", "contract", "s", "rounds": [ids]}``.
``POST /terms``
    The coordinator pushes a round's public terms: ``{"round_id", "contract", "chain_id",
    "terms": {names, p, rho, tau, gamma, lam, w_e, kappa, D_min, A0, G}, "units": {x_scale,
    f_scale, unit_wei}, "active": [names]}``. The daemon accepts them only if
    ``sha256(canonical JSON of terms + units)`` equals the round's on-chain ``paramsDigest``
    (so the coordinator cannot price a silo with terms other than those committed at
    ``roundOpen``), its own name sits at its on-chain slot, and its data size matches the slot's
    ``xMax``. ``active`` lists the silos that joined; the agent plays the game among them.
``POST /best-response``
    ``{"round_id", "others_total"}`` -> ``{"name", "d", "f", "x"}``: the silo agent's best
    response to the rivals' aggregate contributed data.
``POST /assignment``
    ``{"round_id", "index", "d", "f", "x", "x_onchain", "f_onchain", "attestation": "0x..."}``:
    the final strategy and its on-chain integers with the coordinator's EIP-712 signature. The
    daemon checks that it equals its agent's last answer (within rounding) and that the
    signature recovers to the round's coordinator, then reports it with ``contributionSubmit``.
``POST /round-closed``
    ``{"round_id"}`` -> ``{"woken": true, "round_id"}``: the coordinator settled (or abandoned)
    the round; the daemon's loop wakes and reads the phase on chain (it withdraws only if the
    chain says so), instead of at its next poll.
``GET /rounds/<id>``
    The daemon's record of a round (terms, answers, assignment, outcome).

Push, not pull: the coordinator POSTs terms because it knows when a round's deposits are in;
the daemon needs no address of the coordinator and verifies everything against the chain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from fl_node.agent import ConsortiumTerms, Strategy
from fl_node.chain_steps import ChainUnits

__all__ = [
    "TERM_FIELDS",
    "WireError",
    "restrict_terms",
    "strategy_from_json",
    "strategy_to_json",
    "terms_from_json",
    "terms_to_json",
    "units_from_json",
    "units_to_json",
]

TERM_FIELDS = ("names", "p", "rho", "tau", "gamma", "lam", "w_e", "kappa", "D_min", "A0", "G")


class WireError(ValueError):
    """A request body is malformed; the message names the field."""


def _num(doc: Mapping[str, Any], key: str, where: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WireError(f"{where}.{key} must be a finite number, got {value!r}")
    return float(value)


def _int(doc: Mapping[str, Any], key: str, where: str) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WireError(f"{where}.{key} must be a non-negative integer, got {value!r}")
    return value


def terms_to_json(terms: ConsortiumTerms) -> dict[str, Any]:
    doc = asdict(terms)
    doc["names"] = list(terms.names)
    doc["p"] = list(terms.p)
    doc["rho"] = [list(r) for r in terms.rho]
    return doc


def terms_from_json(doc: Any, where: str = "terms") -> ConsortiumTerms:
    """Parse and shape-check a terms document."""
    if not isinstance(doc, Mapping):
        raise WireError(f"{where} must be an object with fields {', '.join(TERM_FIELDS)}")
    names = doc.get("names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise WireError(f"{where}.names must be a non-empty list of silo names")
    n = len(names)
    p = doc.get("p")
    if not isinstance(p, list) or len(p) != n:
        raise WireError(f"{where}.p must list one profitability per name ({n})")
    rho = doc.get("rho")
    if (
        not isinstance(rho, list)
        or len(rho) != n
        or any(not isinstance(r, list) or len(r) != n for r in rho)
    ):
        raise WireError(f"{where}.rho must be a {n}x{n} matrix")
    scalars = {k: _num(doc, k, where) for k in TERM_FIELDS[3:]}
    return ConsortiumTerms(
        names=tuple(names),
        p=tuple(_num({"p": v}, "p", where) for v in p),
        rho=tuple(tuple(_num({"rho": v}, "rho", where) for v in row) for row in rho),
        **scalars,
    )


def units_to_json(units: ChainUnits) -> dict[str, int]:
    return asdict(units)


def units_from_json(doc: Any, where: str = "units") -> ChainUnits:
    if not isinstance(doc, Mapping):
        raise WireError(f"{where} must be an object with x_scale, f_scale and unit_wei")
    return ChainUnits(
        x_scale=_int(doc, "x_scale", where),
        f_scale=_int(doc, "f_scale", where),
        unit_wei=_int(doc, "unit_wei", where),
    )


def strategy_to_json(strategy: Strategy) -> dict[str, Any]:
    return {"name": strategy.name, "d": strategy.d, "f": strategy.f, "x": strategy.x}


def strategy_from_json(doc: Any, where: str = "strategy") -> Strategy:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("name"), str):
        raise WireError(f"{where} must be an object with name, d, f and x")
    return Strategy(
        name=str(doc["name"]),
        d=_num(doc, "d", where),
        f=_num(doc, "f", where),
        x=_num(doc, "x", where),
    )


def restrict_terms(terms: ConsortiumTerms, active: Sequence[str]) -> ConsortiumTerms:
    """The terms of the game among the ``active`` silos only (same order as ``terms.names``).

    Silos that did not join contribute nothing and are paid nothing, so the game a silo plays
    is the one among the joined silos: their p and the rho block between them.
    """
    unknown = [a for a in active if a not in terms.names]
    if unknown:
        raise WireError(f"active lists {unknown}, which are not in terms.names")
    keep = [i for i, name in enumerate(terms.names) if name in set(active)]
    if not keep:
        raise WireError("active must list at least one silo")
    return ConsortiumTerms(
        names=tuple(terms.names[i] for i in keep),
        p=tuple(terms.p[i] for i in keep),
        rho=tuple(tuple(terms.rho[i][j] for j in keep) for i in keep),
        tau=terms.tau,
        gamma=terms.gamma,
        lam=terms.lam,
        w_e=terms.w_e,
        kappa=terms.kappa,
        D_min=terms.D_min,
        A0=terms.A0,
        G=terms.G,
    )
