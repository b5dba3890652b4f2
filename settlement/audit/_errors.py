"""Exceptions of the auditor, rooted in :class:`settlement.SettlementError`."""

from __future__ import annotations

from settlement._errors import SettlementError


class AuditError(SettlementError):
    """Base class of every auditor error."""


class IndexMismatch(AuditError):
    """The index database belongs to another chain, contract or schema version."""


class IndexerError(AuditError):
    """The node returned something the indexer cannot use (missing block, undecodable log)."""


class UnknownRoundError(AuditError, LookupError):
    """The round is not in the index (not opened yet, or not indexed yet)."""

    def __init__(self, round_id: int, indexed_rounds: int):
        self.round_id = round_id
        self.indexed_rounds = indexed_rounds
        super().__init__(
            f"round {round_id} is not in the index ({indexed_rounds} round(s) indexed, ids "
            "start at 1); list the rounds with GET /rounds or `fedsettle audit rounds`"
        )


class UnknownOrgError(AuditError, LookupError):
    """The org index is out of range for the round."""

    def __init__(self, round_id: int, index: int, n: int):
        self.round_id = round_id
        self.index = index
        self.n = n
        super().__init__(f"round {round_id} has {n} org slot(s) (0 .. {n - 1}); no slot {index}")


class StateFileError(AuditError, ValueError):
    """A ``chain-state.json`` / ``deployment.json`` pair is missing or malformed."""
