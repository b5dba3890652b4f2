"""How the coordinator reaches a silo: the :class:`SiloLink` protocol and its HTTP client.

A :class:`SiloLink` is the coordinator's whole view of one silo. :class:`AgentClient` is the
link to a silo daemon's agent (endpoints in :mod:`fl_node.daemon._wire`; the daemon joins,
reports and withdraws by itself, watching the chain); the embedded runtime's in-process silos
(:class:`fl_node.coordinator.InProcessSilo`) implement the same protocol.

:class:`HttpResponder` makes a link a :class:`fl_node.strategy_phase.Responder`: over HTTP a
query is one round trip of a few milliseconds, against ~10 s per Flower message phase on the
deployment engine, so the strategy phase's dozens of queries stay fast. A silo that cannot be
reached (or refuses) raises :class:`AgentUnavailable`, an ``OSError``, which the strategy phase
treats as a dropped silo.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Protocol

from fl_node.daemon import WireError, strategy_from_json

__all__ = ["AgentClient", "AgentRejected", "AgentUnavailable", "HttpResponder", "SiloLink"]

# agent endpoints are consortium-internal addresses: never route them through a proxy
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class AgentUnavailable(OSError):
    """The silo's agent could not be reached, timed out, or failed (5xx)."""


class AgentRejected(Exception):
    """The silo's agent refused the request (4xx); the message is its reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SiloLink(Protocol):
    """One silo as the coordinator drives it through a round.

    ``round_opened`` tells the silo its round opened, ``round_closed`` that it settled or was
    abandoned (a daemon notices both on chain itself; an in-process silo deposits and withdraws
    there). The
    other methods are the agent's requests (``POST /terms``, ``/best-response``,
    ``/assignment``); a refusal raises :class:`AgentRejected`, no answer
    :class:`AgentUnavailable`.
    """

    @property
    def name(self) -> str: ...

    def round_opened(self, client: Any, round_id: int) -> None: ...

    def push_terms(self, document: dict[str, Any]) -> dict[str, Any]: ...

    def best_response(self, round_id: int, others_total: float) -> Any: ...

    def send_assignment(self, document: dict[str, Any]) -> dict[str, Any]: ...

    def round_closed(self, client: Any, round_id: int) -> None: ...


class AgentClient:
    """JSON over HTTP to one silo daemon's agent.

    Parameters
    ----------
    name : str
        The silo's name (for messages).
    endpoint : str
        Base URL, e.g. ``http://silo-1:8601``.
    timeout : float
        Seconds per request.
    """

    def __init__(
        self, name: str, endpoint: str, timeout: float = 10.0, mechanism: Any = None
    ) -> None:
        self.name = name
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        #: the round's mechanism, which reads the agent's answers (None: tradefl's Strategy)
        self.mechanism = mechanism

    def _request(
        self, method: str, path: str, body: Any = None, *, timeout: float | None = None
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoint + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=timeout or self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                reason = json.loads(exc.read() or b"{}").get("error", exc.reason)
            except ValueError:
                reason = exc.reason
            if exc.code >= 500:
                raise AgentUnavailable(
                    f"silo {self.name} ({self.endpoint}{path}): HTTP {exc.code}: {reason}"
                ) from None
            raise AgentRejected(exc.code, f"silo {self.name} refused {path}: {reason}") from None
        except (OSError, ValueError) as exc:
            raise AgentUnavailable(
                f"silo {self.name}: no answer from {self.endpoint}{path} ({exc}); is its daemon "
                "running and the consortium's [[silos]] endpoint right?"
            ) from None

    def round_opened(self, client: Any, round_id: int) -> None:
        """Nothing to send: the daemon sees the round on chain and deposits its bond itself."""

    def round_closed(self, client: Any, round_id: int) -> None:
        """Wake the daemon (``POST /round-closed``) so it reads the closed round on chain and
        withdraws now, not at its next poll. Best effort: a daemon that is down or does not
        know the route finds the round closed at its next chain poll all the same."""
        try:
            self._request("POST", "/round-closed", {"round_id": round_id}, timeout=2.0)
        except (AgentUnavailable, AgentRejected):
            pass

    def health(self) -> dict[str, Any]:
        return dict(self._request("GET", "/health"))

    def push_terms(self, document: dict[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", "/terms", document))

    def best_response(self, round_id: int, others_total: float) -> Any:
        answer = self._request(
            "POST", "/best-response", {"round_id": round_id, "others_total": others_total}
        )
        where = f"silo {self.name}'s answer"
        try:
            if self.mechanism is None:
                strategy = strategy_from_json(answer, where)
            else:
                strategy = self.mechanism.strategy_from_json(answer)
        except WireError as exc:
            raise AgentUnavailable(str(exc)) from None
        except ValueError as exc:
            raise AgentUnavailable(f"{where}: {exc}") from None
        if strategy.name != self.name:
            raise AgentUnavailable(
                f"the agent at {self.endpoint} answered as {strategy.name!r}, not {self.name!r}"
            )
        return strategy

    def send_assignment(self, document: dict[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", "/assignment", document))

    def round_record(self, round_id: int) -> dict[str, Any]:
        return dict(self._request("GET", f"/rounds/{round_id}"))


class HttpResponder:
    """A :class:`~fl_node.strategy_phase.Responder` backed by a :class:`SiloLink`.

    Named for its first link, a silo daemon's agent over HTTP; any link works.
    """

    def __init__(self, client: SiloLink, round_id: int) -> None:
        self.client = client
        self.round_id = round_id
        self.last_error: str | None = None

    @property
    def name(self) -> str:
        return self.client.name

    def respond(self, others_total: float) -> Any:
        try:
            return self.client.best_response(self.round_id, others_total)
        except AgentRejected as exc:
            self.last_error = str(exc)
            raise AgentUnavailable(str(exc)) from None
        except AgentUnavailable as exc:
            self.last_error = str(exc)
            raise
