"""The solver's exception tree: every error the package raises derives from :class:`SolverError`."""

from __future__ import annotations


class SolverError(Exception):
    """Base class of every error raised by :mod:`solver`."""


class GameError(SolverError, ValueError):
    """A game (or one of its organizations) is invalid.

    The message names the offending field and, where there is one, the organization, and says
    how to fix it. ``field`` and ``org`` carry the same information for programs, and
    ``detail`` the message without the ``org ..., field ...:`` prefix (to re-raise it as another
    error class without repeating the prefix).
    """

    def __init__(self, message: str, *, field: str | None = None, org: str | None = None) -> None:
        where = []
        if org is not None:
            where.append(f"org {org!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.detail = message
        self.field = field
        self.org = org


class ConfigError(GameError):
    """A game configuration (TOML file, preset name, mapping) is malformed."""


class FitError(SolverError, ValueError):
    """An accuracy function could not be fitted to the given points, or the fit is degenerate.

    ``status`` is ``"failed"`` for bad input and otherwise the fit's status (``"flat"``,
    ``"at_bound"``; see :class:`solver.AccuracyFit`).
    """

    def __init__(self, message: str, *, status: str = "failed") -> None:
        super().__init__(message)
        self.status = status


class ProblemTooLargeError(SolverError):
    """An algorithm was asked to enumerate more than its configured limit (e.g. CGBD's m^n)."""


class RhoSymmetrizedWarning(UserWarning):
    """Emitted when an asymmetric competition matrix is symmetrized on explicit request."""
