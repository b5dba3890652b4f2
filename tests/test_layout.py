"""The test tree: every module basename is unique (the tree has no ``__init__.py`` files, so
pytest imports test modules by basename and a second ``test_x.py`` fails collection)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_module_basenames_are_unique() -> None:
    names = Counter(p.name for p in TESTS.rglob("*.py") if p.name != "conftest.py")
    assert [name for name, count in names.items() if count > 1] == []
