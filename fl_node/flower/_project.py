"""The generated Flower app project and the result of one ``flwr run``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RunResult", "toml_value", "write_app_project"]


def toml_value(value: Any) -> str:
    """Format a scalar as a TOML value (what ``--node-config`` and ``pyproject.toml`` need)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value))  # a JSON string is a valid TOML basic string
    raise TypeError(f"{value!r} is not a TOML scalar; use bool, int, float or str")


def write_app_project(app_dir: Path, run_config: Mapping[str, Any]) -> Path:
    """Write a Flower app project (``pyproject.toml`` only) pointing at the installed apps.

    Parameters
    ----------
    app_dir : Path
        Directory to create; ``flwr run`` packs it into the app bundle.
    run_config : mapping
        ``[tool.flwr.app.config]`` values: the coordinator's run config plus any keys the
        session hooks read.

    Returns
    -------
    Path
        ``app_dir``.
    """
    app_dir = Path(app_dir)
    app_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "[build-system]",
        'requires = ["hatchling"]',
        'build-backend = "hatchling.build"',
        "",
        "[project]",
        'name = "fedsettle-fl"',
        'version = "0.1.0"',
        'description = "fedsettle federated training (apps from the installed fl_node package)"',
        'license = "Apache-2.0"',
        "dependencies = []",
        "",
        "[tool.flwr.app]",
        'publisher = "fedsettle"',
        "",
        "[tool.flwr.app.components]",
        'serverapp = "fl_node.flower.server_app:app"',
        'clientapp = "fl_node.flower.client_app:app"',
        "",
        "[tool.flwr.app.config]",
        *(f'"{k}" = {toml_value(v)}' for k, v in run_config.items()),
        "",
    ]
    (app_dir / "pyproject.toml").write_text("\n".join(lines), encoding="utf-8")
    return app_dir


@dataclass
class RunResult:
    """Outcome of one ``flwr run``: exit code, wall time, run id, the ServerApp's summary."""

    returncode: int
    seconds: float
    run_id: int | None
    out_dir: Path
    log_path: Path

    @property
    def summary(self) -> dict[str, Any]:
        """``result.json`` written by the ServerApp (raises if the run produced none)."""
        path = self.out_dir / "result.json"
        if not path.is_file():
            raise RuntimeError(
                f"the run wrote no {path} (exit code {self.returncode}); see {self.log_path}"
            )
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def events(self) -> list[dict[str, Any]]:
        """Progress events the ServerApp appended so far (``progress.jsonl``)."""
        path = self.out_dir / "progress.jsonl"
        if not path.is_file():
            return []
        events = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                break  # the last line is still being written
        return events
