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
