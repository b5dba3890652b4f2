"""Amounts as JSON strings, for clients whose JSON parser turns integers into doubles.

JavaScript's ``JSON.parse`` rounds every integer above 2^53 (scores and wei amounts routinely
are), so the API and the exports offer them as decimal strings: ``?amounts=string`` (API) or
``--amounts string`` (CLI). The fields converted are those :func:`amount_field` names: every
``*_wei`` and ``*_wad`` property and every ``score*`` property; all other integers (ids, counts,
block numbers, timestamps) stay numbers.
"""

from __future__ import annotations

from typing import Any, Literal

AmountFormat = Literal["number", "string"]


def amount_field(name: str) -> bool:
    """Whether a JSON property holds an amount or a score."""
    return name.endswith(("_wei", "_wad")) or name.startswith("score")


def stringify_amounts(value: Any, key: str = "") -> Any:
    """``value`` (JSON-ready) with every integer of an amount field as a decimal string."""
    if isinstance(value, dict):
        return {k: stringify_amounts(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify_amounts(v, key) for v in value]
    if amount_field(key) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def render_amounts(value: Any, amounts: AmountFormat) -> Any:
    """``value`` as is (``"number"``) or with amounts as strings (``"string"``)."""
    if amounts == "string":
        return stringify_amounts(value)
    if amounts == "number":
        return value
    raise ValueError(f"amounts: {amounts!r} is not 'number' or 'string'")
