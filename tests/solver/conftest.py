"""Fixtures of the solver tests (helpers live in ``solver_helpers``)."""

from __future__ import annotations

import pytest

import solver


@pytest.fixture(scope="session")
def preset() -> solver.Game:
    """The bundled Table-II-shaped game."""
    return solver.load_preset("paper-table2")
