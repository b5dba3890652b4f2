"""scipy.sparse without its import cost for games that never use it.

Importing ``scipy.sparse`` takes about 0.2 s, a large share of a small ``fedsettle solve`` run.
An object can only be a scipy sparse matrix if ``scipy.sparse`` was imported, so
:func:`issparse` checks ``sys.modules`` first; code that builds sparse matrices imports
``scipy.sparse`` where it does so.
"""

from __future__ import annotations

import sys
from typing import Any


def issparse(x: Any) -> bool:
    """``scipy.sparse.issparse(x)``, without importing scipy.sparse when nothing could be one."""
    mod = sys.modules.get("scipy.sparse")
    return mod is not None and bool(mod.issparse(x))
