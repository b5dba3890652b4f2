"""Reading validated TOML config files: every error names the file, the field and the fix.

A :class:`Table` wraps one TOML table with its location (``node.toml: [chain]``) and typed
getters; a getter that finds a missing or malformed value raises :class:`ConfigFileError` with a
message of the form ``node.toml: [chain].rpc_url is missing; set it to the JSON-RPC URL of the
chain, e.g. http://127.0.0.1:8545``. Unknown keys are errors too (a typo must not be ignored).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from eth_utils import is_address, to_checksum_address

__all__ = ["ConfigFileError", "Table", "read_toml"]

_MISSING: Any = object()


class ConfigFileError(ValueError):
    """A config file is unreadable or one of its fields is missing or invalid.

    The message names the file, the field (``[table].key``) and how to fix it.
    """


def read_toml(path: str | Path) -> Table:
    """Parse the TOML file at ``path`` into its root :class:`Table`.

    Relative paths inside the file are resolved against the file's directory.

    Raises
    ------
    ConfigFileError
        If the file does not exist or is not valid TOML.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigFileError(f"{path}: no such config file; pass the path of an existing file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path.name}: not valid TOML ({exc}); fix the syntax") from None
    return Table(path.name, "", data, path.resolve().parent)


@dataclass(frozen=True)
class Table:
    """One TOML table: ``file`` (for messages), its dotted ``name``, its ``data``, ``base_dir``."""

    file: str
    name: str
    data: Mapping[str, Any]
    base_dir: Path

    # ------------------------------------------------------------------ errors
    def where(self, key: str | None = None) -> str:
        """``file: [name].key`` (or ``file: key`` for the root table)."""
        if key is None:
            return f"{self.file}: [{self.name}]" if self.name else f"{self.file}"
        return f"{self.file}: [{self.name}].{key}" if self.name else f"{self.file}: {key}"

    def error(self, key: str | None, problem: str, fix: str) -> ConfigFileError:
        """A :class:`ConfigFileError` about ``key``: ``<where> <problem>; <fix>``."""
        return ConfigFileError(f"{self.where(key)} {problem}; {fix}")

    def _missing(self, key: str, hint: str) -> ConfigFileError:
        return self.error(key, "is missing", f"set it to {hint}")

    def _invalid(self, key: str, value: Any, why: str, hint: str) -> ConfigFileError:
        return self.error(key, f"= {value!r} is invalid ({why})", f"set it to {hint}")

    def check_keys(self, known: Iterable[str]) -> None:
        """Reject keys not in ``known`` (suggesting the closest known key)."""
        known = list(known)
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                fix = f"did you mean {close[0]}?" if close else f"known fields: {', '.join(known)}"
                raise self.error(key, "is not a known field", f"remove it ({fix})")

    def has(self, key: str) -> bool:
        return key in self.data

    def _raw(self, key: str, default: Any, hint: str) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise self._missing(key, hint)
            return default
        return self.data[key]

    # ------------------------------------------------------------------ tables
    def table(self, key: str, hint: str, *, required: bool = True) -> Table | None:
        """Sub-table ``[name.key]`` (``None`` if absent and not ``required``)."""
        sub = f"{self.name}.{key}" if self.name else key
        if key not in self.data:
            if required:
                raise ConfigFileError(f"{self.file}: [{sub}] is missing; add it with {hint}")
            return None
        value = self.data[key]
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table", f"write it as [{sub}] with {hint}")
        return Table(self.file, sub, value, self.base_dir)

    def tables(self, key: str, hint: str) -> list[Table]:
        """An array of tables ``[[key]]`` (at least one)."""
        value = self.data.get(key)
        if not value:
            raise ConfigFileError(f"{self.file}: [[{key}]] is missing; add one [[{key}]] {hint}")
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(key, "must be an array of tables", f"write one [[{key}]] per entry")
        return [Table(self.file, f"{key}][{i}", v, self.base_dir) for i, v in enumerate(value)]

    # ------------------------------------------------------------------ scalars
    def text(self, key: str, hint: str, *, default: Any = _MISSING) -> Any:
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self._invalid(key, value, "expected a non-empty string", hint)
        return value.strip()

    def choice(self, key: str, choices: Iterable[str], *, default: Any = _MISSING) -> Any:
        options = list(choices)
        hint = " or ".join(repr(c) for c in options)
        value = self._raw(key, default, hint)
        if value not in options:
            raise self._invalid(key, value, "not one of the options", hint)
        return value

    def flag(self, key: str, hint: str, *, default: Any = _MISSING) -> Any:
        value = self._raw(key, default, hint)
        if not isinstance(value, bool):
            raise self._invalid(key, value, "expected true or false", hint)
        return value

    def integer(
        self,
        key: str,
        hint: str,
        *,
        default: Any = _MISSING,
        min: int | None = None,
        max: int | None = None,
    ) -> Any:
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._invalid(key, value, "expected an integer", hint)
        if min is not None and value < min:
            raise self._invalid(key, value, f"must be >= {min}", hint)
        if max is not None and value > max:
            raise self._invalid(key, value, f"must be <= {max}", hint)
        return value

    def number(
        self,
        key: str,
        hint: str,
        *,
        default: Any = _MISSING,
        min: float | None = None,
        above: float | None = None,
        max: float | None = None,
    ) -> Any:
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        return self._number(key, value, hint, min=min, above=above, max=max)

    def _number(
        self,
        key: str,
        value: Any,
        hint: str,
        *,
        min: float | None = None,
        above: float | None = None,
        max: float | None = None,
    ) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self._invalid(key, value, "expected a finite number", hint)
        number = float(value)
        if min is not None and number < min:
            raise self._invalid(key, value, f"must be >= {min}", hint)
        if above is not None and number <= above:
            raise self._invalid(key, value, f"must be > {above}", hint)
        if max is not None and number > max:
            raise self._invalid(key, value, f"must be <= {max}", hint)
        return number

    def numbers(self, key: str, hint: str, *, above: float | None = None) -> tuple[float, ...]:
        """A non-empty array of numbers."""
        value = self._raw(key, _MISSING, hint)
        if not isinstance(value, list) or not value:
            raise self._invalid(key, value, "expected a non-empty array of numbers", hint)
        return tuple(self._number(key, v, hint, above=above) for v in value)

    def matrix(self, key: str, hint: str) -> tuple[tuple[float, ...], ...]:
        """A non-empty array of equally long arrays of numbers."""
        value = self._raw(key, _MISSING, hint)
        if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
            raise self._invalid(key, value, "expected an array of arrays of numbers", hint)
        rows = tuple(tuple(self._number(key, v, hint) for v in row) for row in value)
        if any(len(r) != len(rows) for r in rows):
            raise self._invalid(key, value, f"must be square ({len(rows)} rows)", hint)
        return rows

    def wei(self, key: str, hint: str, *, default: Any = _MISSING) -> Any:
        """A non-negative integer amount of wei: a TOML integer or a decimal string (> 2**63)."""
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise self._invalid(key, value, "expected a non-negative integer or decimal string", hint)

    def path(self, key: str, hint: str, *, default: Any = _MISSING, exists: bool = False) -> Any:
        """A path, resolved against the config file's directory."""
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self._invalid(key, value, "expected a path string", hint)
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        if exists and not path.exists():
            raise self.error(key, f"= {value!r}: {path} does not exist", f"set it to {hint}")
        return path

    def address(self, key: str, hint: str, *, default: Any = _MISSING) -> Any:
        """A 20-byte hex address, returned checksummed."""
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not is_address(value):
            raise self._invalid(key, value, "not a 20-byte hex address, 0x + 40 hex digits", hint)
        return to_checksum_address(value)

    def url(self, key: str, hint: str, *, default: Any = _MISSING) -> Any:
        """An http(s) URL with a host."""
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        parsed = urlparse(value) if isinstance(value, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise self._invalid(key, value, "expected an http:// or https:// URL with a host", hint)
        try:
            parsed.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise self._invalid(key, value, "the port is not a number", hint) from None
        return value.rstrip("/")

    def host_port(self, key: str, hint: str, *, default: Any = _MISSING) -> Any:
        """``host:port`` (no scheme)."""
        value = self._raw(key, default, hint)
        if value is default and default is not _MISSING:
            return value
        host, sep, port = value.rpartition(":") if isinstance(value, str) else ("", "", "")
        if not sep or not host or "/" in value or not port.isdigit() or not 0 < int(port) < 65536:
            raise self._invalid(key, value, "expected host:port without a scheme", hint)
        return value
