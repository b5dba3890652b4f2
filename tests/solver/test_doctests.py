"""The runnable examples in the solver's docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "solver._payoff",
    "solver._response",
    "solver._solve",
    "solver._fit",
    "solver._baselines",
    "solver._matrix",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
