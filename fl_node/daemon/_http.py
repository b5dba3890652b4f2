"""The agent's HTTP API (stdlib ``ThreadingHTTPServer``; routes in :mod:`fl_node.daemon._wire`)."""

from __future__ import annotations

import json
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fl_node.daemon._service import AgentRequestError, AgentService

__all__ = ["AgentHTTPServer"]

#: bodies above this size are refused (a terms document for 100 silos is ~100 kB)
MAX_BODY = 4 * 1024 * 1024

_ROUND = re.compile(r"^/rounds/(\d+)$")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every meaningful request is logged by the service as an action

    def _send(self, status: int, body: Any) -> None:
        blob = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(blob)))
        self.end_headers()
        self.wfile.write(blob)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise AgentRequestError(413, f"body of {length} bytes exceeds {MAX_BODY}")
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise AgentRequestError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise AgentRequestError(400, "the body must be a JSON object")
        return body

    def _dispatch(self, method: str) -> None:
        service = self.server.service
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            if method == "GET" and path == "/health":
                result = service.health()
            elif method == "GET" and _ROUND.match(path):
                result = service.round_record(int(_ROUND.match(path).group(1)))  # type: ignore[union-attr]
            elif method == "POST" and path == "/terms":
                result = service.accept_terms(self._body())
            elif method == "POST" and path == "/best-response":
                result = service.best_response(self._body())
            elif method == "POST" and path == "/assignment":
                result = service.accept_assignment(self._body())
            elif method == "POST" and path == "/round-closed":
                result = service.round_closed(self._body())
            else:
                raise AgentRequestError(404, f"no route {method} {path}")
        except AgentRequestError as exc:
            self._send(exc.status, {"error": str(exc)})
            return
        except Exception as exc:  # the server must answer, not drop the connection
            service.log("agent-error", path=path, error=repr(exc))
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": repr(exc)})
            return
        self._send(HTTPStatus.OK, result)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], service: AgentService) -> None:
        super().__init__(address, _Handler)
        self.service = service

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One action line instead of socketserver's traceback on stderr.

        A client that hangs up mid-request (a coordinator killed or timed out) is routine: its
        connection error is logged as ``agent-client-gone``; anything else as ``agent-error``.
        """
        exc = sys.exc_info()[1]
        peer = f"{client_address[0]}:{client_address[1]}" if client_address else "?"
        if isinstance(exc, ConnectionError | TimeoutError):
            self.service.log("agent-client-gone", client=peer, error=repr(exc))
        else:
            self.service.log("agent-error", client=peer, error=repr(exc))


class AgentHTTPServer:
    """Serve an :class:`AgentService` on ``host:port`` from a background thread.

    ``port = 0`` binds any free port; :attr:`port` holds the bound one.
    """

    def __init__(self, service: AgentService, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            self._server = _Server((host, port), service)
        except OSError as exc:
            raise OSError(
                f"the agent cannot listen on {host}:{port} ({exc}); change [agent].port or "
                "[agent].host in node.toml"
            ) from exc
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> AgentHTTPServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> AgentHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
