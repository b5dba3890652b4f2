"""``flower-supernode`` with Flower 1.41's fixed waits shortened (see :mod:`._warm_waits`).

``python -m fl_node.flower._warm_supernode ARGS`` runs Flower's own ``flower-supernode`` main with
``ARGS`` after :func:`~fl_node.flower._warm_waits.shorten_flower_waits`: idle pull 0.5 s instead
of 3 s, reply wait 0.05 s instead of 0.5 s, object pull retries from 0.05 s instead of 1 s. On a
flwr version these were not checked against, it says so on stderr and runs the stock SuperNode.
``FEDSETTLE_SUPERNODE_INTERVALS=subprocess`` (see :func:`fast_supernode`) makes the callers start
plain ``flower-supernode`` instead.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from fl_node.flower._warm_executor import warm_mode
from fl_node.flower._warm_waits import IDLE_PULL_S, REPLY_WAIT_S, shorten_flower_waits

__all__ = ["INTERVALS_ENV", "fast_supernode", "main", "supernode_command"]

INTERVALS_ENV = "FEDSETTLE_SUPERNODE_INTERVALS"
"""``warm`` (default): SuperNodes start through this module; ``subprocess``: plain
``flower-supernode`` with Flower's own waits."""


def fast_supernode(env: Mapping[str, str] | None = None) -> bool:
    """Whether SuperNodes start through this module (``$FEDSETTLE_SUPERNODE_INTERVALS``).

    Raises
    ------
    ValueError
        If the variable holds anything but ``warm`` or ``subprocess``.
    """
    return warm_mode(
        env,
        INTERVALS_ENV,
        f"SuperNode idle pull {IDLE_PULL_S} s, reply wait {REPLY_WAIT_S} s",
        "flower-supernode with Flower's own 3 s and 0.5 s waits",
    )


def supernode_command(argv: Sequence[str], *, fast: bool) -> list[str]:
    """``argv`` (``[flower-supernode, *args]``) as started: through this module if ``fast``."""
    if not fast:
        return list(argv)
    return [sys.executable, "-m", "fl_node.flower._warm_supernode", *argv[1:]]


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``flower-supernode`` with ``argv`` (default: this process's arguments)."""
    from flwr.supernode.cli import flower_supernode

    for line in shorten_flower_waits(supernode=True):
        print(f"fedsettle: {line}", file=sys.stderr, flush=True)
    sys.argv = ["flower-supernode", *(sys.argv[1:] if argv is None else argv)]
    flower_supernode()


if __name__ == "__main__":
    main()
