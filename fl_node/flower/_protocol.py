"""What the coordinator and the silos exchange, independent of the runtime that carries it.

A :class:`Request` (config values plus optional model arrays) goes to one silo; a :class:`Reply`
(numeric metrics, non-numeric info, optional arrays) comes back. The Flower apps convert these to
and from ``flwr.app.RecordDict``; the in-process transport passes them unchanged, so both runtimes
run the same handler code on the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, MetricRecord, RecordDict
from numpy.typing import NDArray

__all__ = [
    "EVALUATE",
    "EVALUATE_METRIC_KEYS",
    "QUERY_AGENT",
    "QUERY_IDENTITY",
    "TRAIN",
    "TRAIN_METRIC_KEYS",
    "ConfigValue",
    "Reply",
    "Request",
    "record_dict_to_reply",
    "record_dict_to_request",
    "reply_to_record_dict",
    "request_to_record_dict",
]

# Flower message types ("<category>.<action>"); the in-process transport routes on them too.
TRAIN = "train"
EVALUATE = "evaluate"
QUERY_IDENTITY = "query.identity"
QUERY_AGENT = "query.agent"

# Every train reply carries exactly these metrics, so replies aggregate without key checks.
TRAIN_METRIC_KEYS = (
    "num-examples-used",
    "num-examples-total",
    "train-loss",
    "train-seconds",
    "samples-processed",
    "steps",
    "achieved-rate",
    "d",
    "f",
    "round",
)
EVALUATE_METRIC_KEYS = ("eval-accuracy", "eval-loss", "num-examples", "round")

ConfigValue = int | float | str | bool

_ARRAYS, _CONFIG, _METRICS, _INFO = "arrays", "config", "metrics", "info"


@dataclass(frozen=True)
class Request:
    """A message to one silo: config values and, for train/evaluate, the global model."""

    config: dict[str, ConfigValue] = field(default_factory=dict)
    arrays: list[NDArray[Any]] | None = None


@dataclass(frozen=True)
class Reply:
    """A silo's answer: numeric metrics, non-numeric info and, for train, the trained model."""

    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, ConfigValue] = field(default_factory=dict)
    arrays: list[NDArray[Any]] | None = None


def _plain(value: Any) -> ConfigValue:
    # numpy scalars are not accepted by Flower records.
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"config value {value!r} of type {type(value).__name__} cannot be sent; "
        "use int, float, str or bool"
    )


def _metric(key: str, value: Any) -> float:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"metric {key!r} must be a number; got {value!r}")
    return float(value)


def _config_record(values: Mapping[str, Any]) -> ConfigRecord:
    return ConfigRecord({k: _plain(v) for k, v in values.items()})


def _arrays_record(arrays: list[NDArray[Any]]) -> ArrayRecord:
    return ArrayRecord([np.ascontiguousarray(a) for a in arrays])


def _config_values(record: ConfigRecord) -> dict[str, ConfigValue]:
    out: dict[str, ConfigValue] = {}
    for k, v in record.items():
        if isinstance(v, (bool, int, float, str)):
            out[k] = v
    return out


def request_to_record_dict(request: Request) -> RecordDict:
    """Encode a :class:`Request` as Flower message content."""
    content = RecordDict({_CONFIG: _config_record(request.config)})
    if request.arrays is not None:
        content[_ARRAYS] = _arrays_record(request.arrays)
    return content


def record_dict_to_request(content: RecordDict) -> Request:
    """Decode Flower message content produced by :func:`request_to_record_dict`."""
    config = content.config_records.get(_CONFIG)
    arrays = content.array_records.get(_ARRAYS)
    return Request(
        config=_config_values(config) if config is not None else {},
        arrays=arrays.to_numpy_ndarrays() if arrays is not None else None,
    )


def reply_to_record_dict(reply: Reply) -> RecordDict:
    """Encode a :class:`Reply` as Flower message content."""
    content = RecordDict(
        {
            _METRICS: MetricRecord({k: _metric(k, v) for k, v in reply.metrics.items()}),
            _INFO: _config_record(reply.info),
        }
    )
    if reply.arrays is not None:
        content[_ARRAYS] = _arrays_record(reply.arrays)
    return content


def record_dict_to_reply(content: RecordDict) -> Reply:
    """Decode Flower message content produced by :func:`reply_to_record_dict`."""
    metrics = content.metric_records.get(_METRICS)
    info = content.config_records.get(_INFO)
    arrays = content.array_records.get(_ARRAYS)
    return Reply(
        metrics={k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
        if metrics is not None
        else {},
        info=_config_values(info) if info is not None else {},
        arrays=arrays.to_numpy_ndarrays() if arrays is not None else None,
    )
