"""Fixtures of the cogen tests."""

from __future__ import annotations

import pytest

from solver.cogen import CogenGame, load_cogen_preset


@pytest.fixture(scope="session")
def demo() -> CogenGame:
    """The bundled 5-organization cogen preset."""
    return load_cogen_preset("cogen-demo")
