"""The transport interface between the coordinator's round loop and the silos."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from fl_node.flower._protocol import Reply, Request

__all__ = ["Delivery", "Transport"]


@dataclass(frozen=True)
class Delivery:
    """What came back from one message phase.

    Attributes
    ----------
    replies : dict of int to Reply
        Replies that arrived before the deadline, by node id.
    failed : dict of int to str
        Nodes that were sent a message but did not answer usefully, with the reason
        (no reply before the deadline, node unavailable, an error raised by the silo).
    seconds : float
        Wall time of the phase, from sending to the last reply or the deadline.
    """

    replies: dict[int, Reply] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0


class Transport(ABC):
    """Sends one message per node and collects the replies that arrive before a deadline.

    Implementations: :class:`~fl_node.flower.GridTransport` (a Flower ``Grid``: simulation or
    deployment engine) and :class:`~fl_node.flower.InProcessTransport` (calls the silo handlers
    directly, for the embedded runtime and tests).
    """

    @abstractmethod
    def node_ids(self) -> list[int]:
        """Ids of the nodes currently connected, sorted."""

    @abstractmethod
    def send(
        self,
        message_type: str,
        requests: Mapping[int, Request],
        *,
        timeout: float | None,
        group: str = "",
    ) -> Delivery:
        """Send ``requests[node]`` to each node and wait up to ``timeout`` seconds for replies.

        Parameters
        ----------
        message_type : str
            ``"train"``, ``"evaluate"``, ``"query.identity"`` or ``"query.agent"``.
        requests : mapping of int to Request
            One request per destination node; each node gets its own config.
        timeout : float or None
            Deadline in seconds; ``None`` waits for every reply (a dead node then blocks).
        group : str
            Label of the phase (Flower's ``group_id``, e.g. the round number).

        Returns
        -------
        Delivery
            Every node in ``requests`` is in exactly one of ``replies`` and ``failed``.
        """
