"""Exceptions raised by the data layer."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """A data source, split or partition request is invalid; the message names the field and fix."""
