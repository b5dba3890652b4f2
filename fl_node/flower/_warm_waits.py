"""Shorter fixed waits inside Flower 1.41, applied only to versions they were checked against.

Two kinds of wait in Flower 1.41 have no setting, and both are long next to a warm process:

- The SuperNode's main loop (``flwr.supernode.start_client_internal``) sleeps 3 s after a pull
  that found no message (``time.sleep(3)``), so every message phase starts up to 3 s late, and it
  checks for the ClientApp's reply every 0.5 s (``time.sleep(0.5)``). :func:`patch_supernode_waits`
  gives that one module a ``time`` whose ``sleep`` turns them into :data:`IDLE_PULL_S` and
  :data:`REPLY_WAIT_S`; every other call, and every other module, keeps the real ``time``.
- Pulling a message's objects (``flwr.supercore.inflatable.inflatable_utils.pull_objects``)
  retries an object that is not there yet after 1 s, then 2 s, 4 s, ... (cap 10 s). A SuperNode
  offers a task to its executor before it has pulled the message's objects from the SuperLink,
  so a ClientApp forked at once by the warm executor found them missing and waited 1 + 2 s in
  every train phase (a fresh ``flwr-clientapp`` takes longer than that to start, and never saw
  it). :func:`patch_pull_backoff` lowers the defaults to :data:`PULL_INITIAL_BACKOFF_S` and
  :data:`PULL_BACKOFF_CAP_S` (still exponential, still 500 tries per object).

Each patch changes nothing unless the installed flwr starts with one of :data:`CHECKED_VERSIONS`
and the code still looks as it was read (the sleeps in the source, the keyword defaults); it
returns why not instead, and the caller logs it and runs Flower's stock waits.
"""

from __future__ import annotations

import inspect
import time
import types
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CHECKED_VERSIONS",
    "IDLE_PULL_S",
    "PULL_BACKOFF_CAP_S",
    "PULL_INITIAL_BACKOFF_S",
    "REPLY_WAIT_S",
    "patch_pull_backoff",
    "patch_supernode_waits",
    "shorten_flower_waits",
]

#: flwr versions whose code these patches were read against
CHECKED_VERSIONS = ("1.41.",)
#: seconds between two pulls of an idle SuperNode (Flower 1.41: 3)
IDLE_PULL_S = 0.5
#: seconds between two checks for the ClientApp's reply (Flower 1.41: 0.5)
REPLY_WAIT_S = 0.05
#: first retry of an object that is not there yet (Flower 1.41: 1 s, doubling)
PULL_INITIAL_BACKOFF_S = 0.05
#: longest retry wait for such an object (Flower 1.41: 10 s)
PULL_BACKOFF_CAP_S = 2.0

_STOCK_IDLE_PULL_S = 3
_STOCK_REPLY_WAIT_S = 0.5
_STOCK_BACKOFF = {"initial_backoff": 1, "backoff_cap": 10}


class _Clock(types.ModuleType):
    """The ``time`` module with some of its ``sleep`` durations replaced."""

    def __init__(self, waits: Mapping[float, float]) -> None:
        super().__init__("time")
        self._waits = dict(waits)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        time.sleep(self._waits.get(seconds, seconds))


def _unchecked(version: str) -> str | None:
    if version.startswith(CHECKED_VERSIONS):
        return None
    return f"flwr {version} is not one of the checked versions {CHECKED_VERSIONS}"


def patch_supernode_waits(
    module: types.ModuleType,
    version: str,
    *,
    idle: float = IDLE_PULL_S,
    reply: float = REPLY_WAIT_S,
) -> str | None:
    """Give ``module`` (Flower's SuperNode loop) the shorter waits; return why not, or None."""
    if (why := _unchecked(version)) is not None:
        return why
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError) as exc:
        return f"the source of {module.__name__} cannot be read ({exc})"
    for wait in (_STOCK_IDLE_PULL_S, _STOCK_REPLY_WAIT_S):
        if f"time.sleep({wait})" not in source:
            return f"{module.__name__} has no time.sleep({wait}) any more"
    if getattr(module, "time", None) is not time:
        return f"{module.__name__}.time is not the time module"
    module.time = _Clock({_STOCK_IDLE_PULL_S: idle, _STOCK_REPLY_WAIT_S: reply})  # type: ignore[attr-defined]
    return None


def patch_pull_backoff(
    module: types.ModuleType,
    version: str,
    *,
    initial: float = PULL_INITIAL_BACKOFF_S,
    cap: float = PULL_BACKOFF_CAP_S,
) -> str | None:
    """Lower the retry backoff defaults of ``module``'s object pulls; return why not, or None.

    ``module`` is ``flwr.supercore.inflatable.inflatable_utils``: the keyword defaults of its
    ``pull_objects`` and ``pull_and_inflate_object_from_tree`` (every caller in Flower 1.41
    relies on them) are changed in this process only.
    """
    if (why := _unchecked(version)) is not None:
        return why
    functions = [
        getattr(module, n, None) for n in ("pull_objects", "pull_and_inflate_object_from_tree")
    ]
    for function in functions:
        defaults = getattr(function, "__kwdefaults__", None) or {}
        if any(defaults.get(k) != v for k, v in _STOCK_BACKOFF.items()):
            return f"{getattr(function, '__name__', function)} has no stock backoff defaults"
    for function in functions:
        function.__kwdefaults__.update(initial_backoff=initial, backoff_cap=cap)  # type: ignore[union-attr]
    return None


def shorten_flower_waits(*, supernode: bool) -> list[str]:
    """Apply the pull backoff (and, with ``supernode``, the SuperNode loop's) patches here.

    Returns
    -------
    list of str
        One line per patch: what it set, or why Flower's stock wait stays.
    """
    import flwr
    import flwr.supercore.inflatable.inflatable_utils as inflatable

    version = str(flwr.__version__)
    lines = []
    why = patch_pull_backoff(inflatable, version)
    lines.append(
        f"object pull backoff {PULL_INITIAL_BACKOFF_S}-{PULL_BACKOFF_CAP_S} s"
        if why is None
        else f"stock object pull backoff: {why}"
    )
    if supernode:
        import flwr.supernode.start_client_internal as loop

        why = patch_supernode_waits(loop, version)
        lines.append(
            f"SuperNode idle pull {IDLE_PULL_S} s, reply wait {REPLY_WAIT_S} s"
            if why is None
            else f"stock SuperNode waits: {why}"
        )
    return lines
