"""The silo side: its settings (from the SuperNode's node config), its data, and the handlers.

The handlers are plain functions of a :class:`LocalSilo` and a :class:`Request`; the Flower
ClientApp and the in-process transport both call them, so a silo computes the same thing in the
embedded runtime and on the deployment engine.

Node config keys (``flower-supernode --node-config "partition-id=0 num-partitions=3 ..."``):

``partition-id`` (int, required), ``num-partitions`` (int, required)
    Which share of the bundled dataset this silo holds (also its default name and seed offset).
``dataset`` (str, default ``"digits"``), ``partition-scheme`` (``"dirichlet"``), ``alpha`` (0.5),
``data-seed`` (0), ``test-fraction`` (0.25)
    How the bundled dataset is split and partitioned; every silo and the coordinator must agree.
``data-file`` (str, optional)
    The silo's own ``.npz``/``.csv`` training data, used as is instead of a bundled partition.
``market-split`` (``"clusters"`` or ``"dirichlet"``, optional)
    The market's silos (:func:`fl_node.market.build_silos` of ``dataset`` into
    ``num-partitions`` silos, seed ``data-seed``, Dirichlet ``alpha``): the silo holds silo
    ``partition-id``'s training set and its own test split (:attr:`LocalSilo.test`), on which
    it scores its personalized model (:func:`fl_node.market.handle_market_train`).
``silo-name`` (str), ``address`` (str, optional)
    Reported by the identity query (``address``: the silo's chain account, if any).
``num-threads`` (int, optional)
    torch threads for local training (1 is right when several silos share a small machine).
``agent`` (``"module:callable"``, optional)
    Answers ``query.agent`` messages (best-response queries): called as
    ``agent(payload: dict, silo: LocalSilo) -> Mapping[str, int | float | str | bool]``.
Other keys (e.g. ``silo-config``) are kept in :attr:`LocalSilo.node_config` for the agent.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fl_node.data import ArrayDataset, DatasetMeta, get_source, partition
from fl_node.flower._protocol import (
    EVALUATE_METRIC_KEYS,
    TRAIN_METRIC_KEYS,
    ConfigValue,
    Reply,
    Request,
)

__all__ = [
    "AgentHandler",
    "LocalSilo",
    "SiloConfigError",
    "handle_agent",
    "handle_evaluate",
    "handle_identity",
    "handle_train",
    "load_silo",
    "local_silos",
]

AgentHandler = Callable[[dict[str, ConfigValue], "LocalSilo"], Mapping[str, ConfigValue]]


class SiloConfigError(ValueError):
    """A node config or message config value is missing or invalid; the message names it."""


@dataclass(frozen=True)
class LocalSilo:
    """One silo's data and settings, as loaded from its node config."""

    name: str
    partition_id: int
    data: ArrayDataset
    meta: DatasetMeta
    node_config: dict[str, ConfigValue] = field(default_factory=dict)
    num_threads: int | None = None
    agent: AgentHandler | None = None
    #: the silo's own test split (the market's personalized accuracy), if it has one
    test: ArrayDataset | None = None


def _get(config: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
    if key not in config:
        if default is None:
            raise SiloConfigError(
                f"node config lacks {key!r}; start the SuperNode with "
                f'--node-config "{key}=..." (or add it to the silo\'s settings)'
            )
        return default
    value = config[key]
    try:
        if kind is int and (isinstance(value, bool) or float(value) != int(value)):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise SiloConfigError(
            f"config value {key}={value!r} must be of type {kind.__name__}"
        ) from None


def _load_agent(ref: str) -> AgentHandler:
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise SiloConfigError(f"agent={ref!r} must have the form 'package.module:callable'")
    try:
        target: Any = importlib.import_module(module)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise SiloConfigError(f"agent={ref!r} cannot be loaded: {exc}") from None
    if not callable(target):
        raise SiloConfigError(f"agent={ref!r} is not callable")
    agent: AgentHandler = target
    return agent


_cache: dict[tuple[tuple[str, Any], ...], LocalSilo] = {}
_cache_lock = threading.Lock()


def load_silo(node_config: Mapping[str, Any], *, agent: AgentHandler | None = None) -> LocalSilo:
    """Build a :class:`LocalSilo` from node config values (see the module docstring for keys).

    Results are cached per distinct config, so a long-lived process (simulation, in-process
    runner) loads and partitions its data once.

    Parameters
    ----------
    node_config : mapping
        The SuperNode's node config (``Context.node_config``) or an equivalent dict.
    agent : callable, optional
        Agent handler to use instead of the ``agent`` node config reference.
    """
    key = tuple(sorted((str(k), v) for k, v in node_config.items()))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and agent is None:
        return cached
    pid = _get(node_config, "partition-id", int)
    data, test, meta = _load_data(node_config, pid)
    ref = node_config.get("agent")
    silo = LocalSilo(
        name=_get(node_config, "silo-name", str, f"silo-{pid}"),
        partition_id=pid,
        data=data,
        meta=meta,
        node_config={str(k): v for k, v in node_config.items()},
        num_threads=_get(node_config, "num-threads", int, 0) or None,
        agent=agent if agent is not None else (_load_agent(str(ref)) if ref else None),
        test=test,
    )
    if agent is None:
        with _cache_lock:
            _cache[key] = silo
    return silo


Loaded = tuple[ArrayDataset, ArrayDataset | None, DatasetMeta]
"""A silo's training data, its own test split (market silos only) and the dataset metadata."""


def _partition_data(node_config: Mapping[str, Any], pid: int) -> Loaded:
    if "data-file" in node_config:
        x, y, meta = get_source(str(node_config["data-file"])).load()
        return ArrayDataset(x.astype("float32"), y.astype("int64")), None, meta
    n_parts = _get(node_config, "num-partitions", int)
    if not 0 <= pid < n_parts:
        raise SiloConfigError(
            f"partition-id={pid} must be in 0 .. num-partitions-1 = {n_parts - 1}"
        )
    if "market-split" in node_config:
        from fl_node.data import DataError
        from fl_node.market._silos import build_silos

        try:
            market = build_silos(
                str(node_config["market-split"]),
                n_parts,
                seed=_get(node_config, "data-seed", int, 0),
                alpha=_get(node_config, "alpha", float, 0.5),
                dataset=_get(node_config, "dataset", str, "digits"),
            )
        except DataError as exc:
            raise SiloConfigError(f"node config market-split: {exc}") from None
        own = market.silos[pid]
        return own.train, own.test, market.meta
    split = get_source(_get(node_config, "dataset", str, "digits")).split(
        test_fraction=_get(node_config, "test-fraction", float, 0.25),
        seed=_get(node_config, "data-seed", int, 0),
    )
    parts = partition(
        split.train.y,
        n_parts,
        scheme=_get(node_config, "partition-scheme", str, "dirichlet"),
        seed=_get(node_config, "data-seed", int, 0),
        alpha=_get(node_config, "alpha", float, 0.5),
    )
    return split.train.subset(parts[pid]), None, split.meta


_DATA_KEYS = (
    "data-file", "dataset", "test-fraction", "data-seed", "num-partitions",
    "partition-scheme", "alpha", "partition-id", "market-split",
)  # fmt: skip


def _load_data(node_config: Mapping[str, Any], pid: int) -> Loaded:
    """The silo's data, through an ``.npz`` cache in ``cache-dir`` when that key is set.

    On the deployment engine every message starts a fresh ClientApp process; the cache spares
    each one re-loading and re-partitioning the source (and importing scikit-learn).
    """
    if "cache-dir" not in node_config:
        return _partition_data(node_config, pid)
    spec = json.dumps({k: str(node_config.get(k)) for k in _DATA_KEYS}, sort_keys=True)
    path = Path(str(node_config["cache-dir"])) / (
        f"silo-{hashlib.sha256(spec.encode()).hexdigest()[:16]}.npz"
    )
    if path.is_file():
        with np.load(path) as z:
            raw = json.loads(str(z["meta"]))
            shape = raw["image_shape"]
            meta = DatasetMeta(
                name=raw["name"],
                n_features=raw["n_features"],
                n_classes=raw["n_classes"],
                image_shape=None if shape is None else (shape[0], shape[1], shape[2]),
                class_names=tuple(raw["class_names"]),
            )
            test = ArrayDataset(z["x_test"], z["y_test"]) if "x_test" in z else None
            return ArrayDataset(z["x"], z["y"]), test, meta
    data, test, meta = _partition_data(node_config, pid)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    meta_json = json.dumps(
        {
            "name": meta.name,
            "n_features": meta.n_features,
            "n_classes": meta.n_classes,
            "image_shape": meta.image_shape,
            "class_names": list(meta.class_names),
        }
    )
    if test is None:
        np.savez(tmp, x=data.x, y=data.y, meta=np.array(meta_json))
    else:
        np.savez(tmp, x=data.x, y=data.y, meta=np.array(meta_json), x_test=test.x, y_test=test.y)
    tmp.replace(path)  # atomic: a concurrent reader sees the old state or the whole file
    return data, test, meta


def handle_identity(silo: LocalSilo, request: Request) -> Reply:
    """Who this silo is: name, partition, data size ``s_i`` and optional chain address."""
    info: dict[str, ConfigValue] = {
        "silo-name": silo.name,
        "partition-id": silo.partition_id,
        "num-examples": len(silo.data),
        "dataset": silo.meta.name,
    }
    if "address" in silo.node_config:
        info["address"] = str(silo.node_config["address"])
    return Reply(metrics={"num-examples": float(len(silo.data))}, info=info)


def _require_arrays(request: Request, kind: str) -> list[Any]:
    if request.arrays is None:
        raise SiloConfigError(f"a {kind} message must carry the global model arrays")
    return request.arrays


def handle_train(silo: LocalSilo, request: Request) -> Reply:
    """Train the received global model on exactly a ``d`` fraction of the silo's data.

    Message config: ``round``, ``d`` (fraction in (0, 1]), ``f`` (compute level in samples/s,
    0 for unpaced), ``epochs``, ``lr``, ``batch-size``, ``seed`` (the silo adds its
    partition id, so each silo keeps its own fixed subset), ``model-kind``. With ``synthetic``
    > 0 (the cogen mechanism) the silo trains on its real data plus exactly that many samples
    of its own generator (:func:`fl_node.mechanisms.cogen.mixed_training_data`). With
    ``mechanism = "market"`` the message is a market round's
    (:func:`fl_node.market.handle_market_train`: the silo's own model or prox center in, its
    personalized model out).
    """
    cfg = request.config
    if cfg.get("mechanism") == "market":
        from fl_node.market._client import handle_market_train

        return handle_market_train(silo, request)
    from fl_node.models import build_model  # torch loads only where a model is needed
    from fl_node.training import train_local

    arrays = _require_arrays(request, "train")
    f = _get(cfg, "f", float, 0.0)
    data = silo.data
    if _get(cfg, "synthetic", int, 0) > 0:
        from fl_node.mechanisms.cogen import mixed_training_data

        data = mixed_training_data(silo, cfg).data
    model = build_model(silo.meta, _get(cfg, "model-kind", str, "auto"))
    result = train_local(
        model,
        arrays,
        data,
        d_fraction=_get(cfg, "d", float),
        compute_level=f if f > 0 else None,
        epochs=_get(cfg, "epochs", int, 1),
        lr=_get(cfg, "lr", float, 0.05),
        batch_size=_get(cfg, "batch-size", int, 32),
        seed=_get(cfg, "seed", int, 0) + silo.partition_id,
        round_index=_get(cfg, "round", int, 0),
        num_threads=silo.num_threads,
    )
    metrics = {
        "num-examples-used": float(result.num_samples),
        "num-examples-total": float(len(data)),
        "train-loss": result.train_loss,
        "train-seconds": result.seconds,
        "samples-processed": float(result.samples_processed),
        "steps": float(result.steps),
        "achieved-rate": result.achieved_rate,
        "d": _get(cfg, "d", float),
        "f": f,
        "round": float(_get(cfg, "round", int, 0)),
    }
    assert tuple(metrics) == TRAIN_METRIC_KEYS
    return Reply(metrics=metrics, info={"silo-name": silo.name}, arrays=result.parameters)


def handle_evaluate(silo: LocalSilo, request: Request) -> Reply:
    """Evaluate the received global model on the silo's local data."""
    from fl_node.models import build_model
    from fl_node.training import evaluate

    arrays = _require_arrays(request, "evaluate")
    model = build_model(silo.meta, _get(request.config, "model-kind", str, "auto"))
    ev = evaluate(model, silo.data, arrays)
    metrics = {
        "eval-accuracy": ev.accuracy,
        "eval-loss": ev.loss,
        "num-examples": float(ev.num_samples),
        "round": float(_get(request.config, "round", int, 0)),
    }
    assert tuple(metrics) == EVALUATE_METRIC_KEYS
    return Reply(metrics=metrics, info={"silo-name": silo.name})


def handle_agent(silo: LocalSilo, request: Request) -> Reply:
    """Forward a ``query.agent`` payload to the silo's agent (e.g. a best-response query)."""
    if silo.agent is None:
        raise SiloConfigError(
            f"silo {silo.name!r} has no agent; set node config agent='module:callable'"
        )
    answer = dict(silo.agent(dict(request.config), silo))
    metrics = {
        k: float(v)
        for k, v in answer.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    return Reply(metrics=metrics, info=answer)


def local_silos(
    num_partitions: int,
    *,
    node_config: Mapping[str, Any] | None = None,
    first_node_id: int = 1,
) -> dict[int, LocalSilo]:
    """Load ``num_partitions`` silos of one bundled dataset, keyed by consecutive node ids.

    ``node_config`` holds the keys shared by all silos (``dataset``, ``alpha``, ``data-seed``,
    ...); ``partition-id`` and ``num-partitions`` are filled in.
    """
    if num_partitions < 1:
        raise SiloConfigError(f"num_partitions must be >= 1; got {num_partitions}")
    shared = dict(node_config or {})
    return {
        first_node_id + i: load_silo(
            {**shared, "partition-id": i, "num-partitions": num_partitions}
        )
        for i in range(num_partitions)
    }
