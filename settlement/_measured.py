"""Measured scores that ride with a cogen round's report table: attested on chain, never paid on.

A mechanism-2 (cogen) report table may carry, after its ``n`` rows of ``(x, f)``, one big-endian
int64 per slot: the slot's measured marginal contribution (the leave-one-out score of its last
update on a held-out validation set, :func:`fl_node.cogen.leave_one_out`) in units of
``1 / MEASURED_SCALE`` validation loss, or :data:`NOT_MEASURED`. The contract stores the annex with
the table (the code of one data contract), so the coordinator attests every slot's measured score
in the same one transaction as its report, once.

Why the measured score does not move money: no silo can recompute it (it needs every other
silo's update), so a coordinator that shaded it would move money nobody can check; and its worst
case is not bounded by anything the silo chose, so no bond could cover it exactly. The pairwise
transfers stay on the declared score ``s_i = D_i + q x_i`` of the game; the measured score is an
auditable record next to it (the auditor shows both).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from settlement._errors import ConfigError

__all__ = ["MEASURED_SCALE", "NOT_MEASURED", "measurable", "pack_measured", "unpack_measured"]

#: on-chain units per unit of validation loss
MEASURED_SCALE = 10**9
#: the int64 that marks a slot without a measured score
NOT_MEASURED = -(2**63)
_ROW = 16  # bytes of one (x, f) row
_SCORE = 8  # bytes of one measured score


def measurable(value: float) -> bool:
    """Whether the annex can carry ``value``: a finite number that fits int64 at
    ``MEASURED_SCALE`` (what :func:`pack_measured` accepts)."""
    if isinstance(value, bool) or not math.isfinite(value):
        return False
    return NOT_MEASURED < round(float(value) * MEASURED_SCALE) < 2**63


def pack_measured(n: int, scores: Mapping[int, float]) -> bytes:
    """The annex of ``n`` int64 scores (slots missing from ``scores`` are not measured).

    Raises
    ------
    ConfigError
        A slot index outside ``0 .. n - 1``, or a score that is not finite or does not fit int64
        at ``MEASURED_SCALE`` (the message names the slot).
    """
    bad = sorted(i for i in scores if not 0 <= i < n)
    if bad:
        raise ConfigError(f"measured scores: slot indices {bad} are outside 0 .. {n - 1}")
    out = []
    for i in range(n):
        value = scores.get(i)
        if value is None:
            raw = NOT_MEASURED
        elif measurable(value):
            raw = round(float(value) * MEASURED_SCALE)
        elif isinstance(value, bool) or not math.isfinite(value):
            raise ConfigError(f"measured[{i}]: {value!r} must be a finite number")
        else:
            raise ConfigError(
                f"measured[{i}]: {value!r} does not fit int64 at 1e-9 units "
                f"(|score| < {2**63 / MEASURED_SCALE:.3g})"
            )
        out.append(raw.to_bytes(_SCORE, "big", signed=True))
    return b"".join(out)


def unpack_measured(n: int, table: bytes) -> list[float | None] | None:
    """The measured scores of a stored report table (None when the table has no annex).

    Raises
    ------
    ValueError
        If ``table`` is neither ``16 n`` nor ``24 n`` bytes (not a pairwise report table).
    """
    if len(table) == _ROW * n:
        return None
    if len(table) != (_ROW + _SCORE) * n:
        raise ValueError(
            f"a report table of {n} slots has {_ROW * n} or {(_ROW + _SCORE) * n} bytes, "
            f"not {len(table)}"
        )
    annex = table[_ROW * n :]
    out: list[float | None] = []
    for i in range(n):
        raw = int.from_bytes(annex[_SCORE * i : _SCORE * (i + 1)], "big", signed=True)
        out.append(None if raw == NOT_MEASURED else raw / MEASURED_SCALE)
    return out
