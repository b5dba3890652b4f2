"""Options shared by several subcommands."""

from __future__ import annotations

import argparse


def add_log_format(p: argparse.ArgumentParser) -> None:
    """``--log-format auto|human|json``: how the action log is echoed on stderr."""
    p.add_argument(
        "--log-format",
        choices=("auto", "human", "json"),
        default="auto",
        help="stderr lines: human-readable or JSON (default auto: human on a terminal, else JSON;"
        " <state dir>/actions.jsonl is always JSON)",
    )


def positive_int(text: str) -> int:
    """An argparse ``type``: a whole number >= 1 (argparse names the option in its error)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value
