"""Submit a Flower run through the SuperLink's Control API from this process (no ``flwr`` CLI).

``flwr run <app> <connection> --stream`` is a new process that imports flwr's CLI (2-10 s on a
busy small machine), builds the app bundle (FAB), sends ``StartRun`` and streams the run's log
until the run finishes. :func:`start_run` does the same three calls with flwr's own functions
(``build_fab_from_disk``, the Control API's ``StartRun`` and ``StreamLogs``) in a background
thread of the calling process, and returns a :class:`RunHandle` that behaves like the CLI's
``Popen`` (``poll``/``wait``/``kill``/``returncode``). The log file gets the CLI's
``Successfully started run N`` line and the streamed ServerApp log.

The return code is 0 when the run finished with the sub-status ``completed``, 1 otherwise (the
CLI exits 0 even for a failed run; callers read the ServerApp's ``result.json`` either way).
``FEDSETTLE_SERVERAPP_ISOLATION=subprocess`` makes the callers use the ``flwr run`` CLI.

:func:`register_supernode` is ``flwr supernode register`` the same way: one ``RegisterNode``
call instead of a CLI process per key (1.5-2 s each here).
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import traceback
from pathlib import Path
from typing import IO, Any

__all__ = ["RunHandle", "prefetch_imports", "register_supernode", "start_run"]

#: what a submission imports (flwr's CLI package among them: seconds on a busy machine), and the
#: coordinator's own Flower side (its hooks and run config), which it imports only when it trains
_IMPORTS = (
    "fl_node.coordinator.flower_hooks",
    "flwr.cli.build",
    "flwr.common.serde",
    "flwr.proto.control_pb2",
    "flwr.supercore.control.control_http_client",
    "flwr.supercore.fab",
    "flwr.supercore.interceptors",
)


def prefetch_imports() -> threading.Thread:
    """Import what :func:`start_run` needs in a background thread; return the thread.

    A coordinator calls it when it starts, so the imports overlap its waits for the chain
    (deposits, the strategy phase) instead of delaying the Flower run.
    """
    import importlib

    def _import() -> None:
        for module in _IMPORTS:
            importlib.import_module(module)

    thread = threading.Thread(target=_import, name="flower-submit-imports", daemon=True)
    thread.start()
    return thread


def _control_client(address: str, root_certificates: Path | None) -> Any:
    from flwr.supercore.control.control_http_client import ControlHttpClient
    from flwr.supercore.interceptors import RuntimeVersionHttpInterceptor

    return ControlHttpClient.from_server_address(
        server_address=address,
        insecure=root_certificates is None,
        root_certificates=None
        if root_certificates is None
        else Path(root_certificates).read_bytes(),
        interceptors=[RuntimeVersionHttpInterceptor(component_name="flwr CLI")],
    )


class RunHandle:
    """A run submitted by :func:`start_run`, with the ``Popen`` methods the callers use."""

    def __init__(self, address: str, root_certificates: Path | None, app: Path, log_path: Path):
        self.args = ["StartRun", str(app), address]
        self.returncode: int | None = None
        self.run_id: int | None = None
        self._address = address
        self._certs = root_certificates
        self._app = Path(app)
        self._log_path = Path(log_path)
        self._stopped = False
        self._thread = threading.Thread(target=self._main, name="flower-run", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        code = 1
        with self._log_path.open("w", encoding="utf-8") as log:
            try:
                code = self._submit_and_stream(log)
            except Exception as exc:  # the log names it; the caller sees the exit code
                log.write(traceback.format_exc())
                log.write(
                    f"submitting {self._app} to the SuperLink at {self._address} failed: {exc}; "
                    "check that the SuperLink runs there (and its TLS certificate)\n"
                )
            finally:
                log.flush()
        self.returncode = code

    def _submit_and_stream(self, log: IO[str]) -> int:
        from flwr.cli.build import build_fab_from_disk
        from flwr.common.serde import fab_to_proto, user_config_to_proto
        from flwr.proto.control_pb2 import ListRunsRequest, StartRunRequest, StreamLogsRequest
        from flwr.supercore.fab import Fab

        fab_bytes = build_fab_from_disk(self._app)
        fab = Fab(hashlib.sha256(fab_bytes).hexdigest(), fab_bytes, {})
        client = _control_client(self._address, self._certs)
        try:
            res = client.StartRun(
                StartRunRequest(fab=fab_to_proto(fab), override_config=user_config_to_proto({}))
            )
            if not res.HasField("run_id"):
                log.write(f"the SuperLink started no run: {res}\n")
                return 1
            self.run_id = int(res.run_id)
            log.write(f"Successfully started run {self.run_id}\n")
            log.flush()
            for chunk in client.StreamLogs(StreamLogsRequest(run_id=self.run_id)):
                log.write(chunk.log_output)
                log.flush()
            runs = client.ListRuns(ListRunsRequest(run_id=self.run_id)).run_dict
            status = runs[self.run_id].status if self.run_id in runs else None
            log.write(f"run {self.run_id}: {status.status if status else '?'}, "
                      f"{status.sub_status if status else '?'}\n")  # fmt: skip
            return 0 if status is not None and status.sub_status == "completed" else 1
        finally:
            client.close()

    def poll(self) -> int | None:
        """The return code once the run finished, else None."""
        return self.returncode if not self._thread.is_alive() else None

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the run to finish (``subprocess.TimeoutExpired`` after ``timeout`` s)."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        """Stop the run on the SuperLink (``StopRun``); the stream then ends."""
        if self.run_id is None or self._stopped:
            return
        from flwr.proto.control_pb2 import StopRunRequest

        self._stopped = True
        client = _control_client(self._address, self._certs)
        try:
            client.StopRun(StopRunRequest(run_id=self.run_id))
        finally:
            client.close()


def start_run(address: str, root_certificates: Path | None, app: Path, log_path: Path) -> RunHandle:
    """Build ``app``'s FAB and start it on the SuperLink's Control API at ``address``.

    Parameters
    ----------
    address : str
        ``host:port`` of the SuperLink (the connection's ``address``).
    root_certificates : Path, optional
        CA certificate of a TLS SuperLink; None: plain HTTP (``insecure``).
    app : Path
        The app project (see :func:`~fl_node.flower._project.write_app_project`).
    log_path : Path
        Receives ``Successfully started run N`` and the streamed ServerApp log.
    """
    return RunHandle(address, root_certificates, app, log_path)


def register_supernode(
    address: str, root_certificates: Path | None, public_key: Path
) -> int | None:
    """Register a SuperNode's public key with the SuperLink's Control API at ``address``.

    What ``flwr supernode register <key> <connection>`` does, from this process. Returns the new
    node id, or None when the SuperLink already has the key.

    Raises
    ------
    ValueError
        If ``public_key`` is not an EC public key in OpenSSH format (``flwr`` writes them so).
    RuntimeError
        If the SuperLink refused the key (its answer) or did not answer.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from flwr.proto.control_pb2 import RegisterNodeRequest
    from flwr.supercore.primitives.asymmetric import public_key_to_bytes

    try:
        key = serialization.load_ssh_public_key(Path(public_key).read_bytes())
    except (OSError, ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"{public_key}: not a readable OpenSSH public key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError(f"{public_key}: a SuperNode key must be an EC key, not {type(key)}")
    client = _control_client(address, root_certificates)
    try:
        res = client.RegisterNode(RegisterNodeRequest(public_key=public_key_to_bytes(key)))
    except Exception as exc:
        # the SuperLink's reason is in the body of its HTTP answer (412 for a known key)
        answer = str(getattr(getattr(exc, "response", None), "text", "") or "")
        if "already in use" in answer.lower():
            return None
        raise RuntimeError(
            f"the SuperLink at {address} did not register {public_key}: {exc} {answer}".strip()
        ) from exc
    finally:
        client.close()
    if not res.node_id:
        raise RuntimeError(f"the SuperLink at {address} registered {public_key} with no node id")
    return int(res.node_id)
