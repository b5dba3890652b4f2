"""Numbered exit codes of the ``fedsettle`` CLI, each with the kind of failure it signals."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # an unexpected failure; the message says what happened
    USAGE = 2  # bad command line (argparse also uses 2)
    CONFIG = 3  # a config file or parameter is invalid; the message names the field and the fix
    CHAIN = 4  # the chain rejected a transaction or is unreachable
    SOLVER = 5  # a solver did not reach the requested status
    DATA = 6  # a data file is missing or malformed
    VERIFY = 7  # an audit verification found a mismatch
    NOT_VERIFIED = 8  # an audit check could not run (node down, round unfinished): not verified
    INTERRUPTED = 130


class UserError(Exception):
    """An error caused by the user's input: printed without a traceback, exits with ``code``."""

    def __init__(self, message: str, code: ExitCode = ExitCode.CONFIG) -> None:
        super().__init__(message)
        self.code = code
