"""The silo's side of a market round: one stateless train message in, its model out.

A market train message is a ``train`` message with ``mechanism = "market"`` (the silo handler
:func:`fl_node.flower.handle_train` dispatches it here), so the Flower ClientApp and the
in-process transport run this same function. It carries everything the silo needs, so a
restarted or freshly forked ClientApp keeps no state between rounds:

arrays
    One flat float64 vector: the model to start from (the coordinator's prox center u_i for an
    importer, else the silo's own last upload; theta0 in round 0).
config
    ``round``, ``seed`` (of this silo's local solve), ``epochs``, ``lr``, ``batch-size``,
    ``model-kind`` and ``hidden`` (the architecture, e.g. ``"32"``; comma-separated widths),
    ``prox-mu`` (the weight mu = lambda_prox/eta of the prox term ``mu/2 ||theta - u_i||^2``
    around the received model; 0: plain local training).

The silo minimizes its loss plus the prox term from the received model
(:func:`fl_node.market.train_prox`) and answers with its upload (one flat float64 vector) and,
if it holds its own test split (:attr:`fl_node.flower.LocalSilo.test`), the ``accuracy`` of its
personalized model on it. Its node config key ``market-behaviour`` (``honest``, ``free_rider``,
``sign_flip``; :data:`fl_node.market.BEHAVIOURS`) makes it upload what it received or the
negated update instead (robustness runs).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from torch import nn

from fl_node.data import DatasetMeta
from fl_node.flower._protocol import ConfigValue, Reply, Request
from fl_node.flower._silo import LocalSilo, SiloConfigError
from fl_node.market._baselines import BEHAVIOURS, upload
from fl_node.market._local import LocalTraining, accuracy, train_prox
from fl_node.market._silos import Silo

__all__ = [
    "MARKET",
    "MARKET_METRIC_KEYS",
    "architecture",
    "handle_market_train",
    "market_local_silo",
    "market_node_config",
]

#: the ``mechanism`` config value of a market train message
MARKET = "market"
#: the metrics of every market train reply (``accuracy`` only if the silo has a test split)
MARKET_METRIC_KEYS = ("round", "num-examples", "train-seconds", "accuracy")


def _value(config: Mapping[str, ConfigValue], key: str, kind: type) -> Any:
    if key not in config:
        raise SiloConfigError(f"market train message lacks config {key!r}")
    value = config[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise SiloConfigError(
            f"market train message config {key}={value!r} must be of type {kind.__name__}"
        )
    return value


def _hidden(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SiloConfigError(
            f"market train message config hidden={text!r} must be comma-separated widths"
        ) from None


def architecture(model: nn.Module) -> tuple[str, tuple[int, ...], DatasetMeta]:
    """``(model-kind, hidden widths, metadata)`` that rebuild ``model``'s architecture with
    :func:`fl_node.models.build_model` (the metadata names only its input and output sizes)."""
    from fl_node.models import MLP, SmallCNN

    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if isinstance(model, MLP):
        kind, hidden = "mlp", tuple(m.out_features for m in linear[:-1])
        shape = None
        n_features = linear[0].in_features
    elif isinstance(model, SmallCNN):
        kind, hidden, shape = "cnn", (), model.image_shape
        n_features = int(np.prod(shape))
    else:
        raise ValueError(
            f"the market trains fl_node.models' MLP or SmallCNN; got {type(model).__name__}"
        )
    n_classes = linear[-1].out_features
    meta = DatasetMeta("market", n_features, n_classes, shape, tuple(map(str, range(n_classes))))
    return kind, hidden, meta


def market_node_config(
    split: str, n: int, partition_id: int, *, dataset: str, alpha: float, seed: int
) -> dict[str, ConfigValue]:
    """The node config of a SuperNode holding market silo ``partition_id`` of ``n``: the silos
    :func:`fl_node.market.build_silos` makes of ``dataset`` (``split``, ``alpha``, ``seed``)."""
    return {
        "dataset": dataset,
        "market-split": split,
        "num-partitions": n,
        "partition-id": partition_id,
        "alpha": alpha,
        "data-seed": seed,
    }


def market_local_silo(silo: Silo, index: int, meta: DatasetMeta, behaviour: str) -> LocalSilo:
    """An in-process :class:`~fl_node.flower.LocalSilo` holding ``silo``'s train and test data."""
    return LocalSilo(
        name=silo.name,
        partition_id=index,
        data=silo.train,
        meta=meta,
        node_config={"market-behaviour": behaviour},
        test=silo.test,
    )


def handle_market_train(silo: LocalSilo, request: Request) -> Reply:
    """One market round on ``silo`` (see the module docstring for the message)."""
    import torch

    from fl_node.models import build_model

    cfg = request.config
    behaviour = str(silo.node_config.get("market-behaviour", "honest"))
    if behaviour not in BEHAVIOURS:
        raise SiloConfigError(
            f"node config market-behaviour={behaviour!r} is unknown; use one of {BEHAVIOURS}"
        )
    if request.arrays is None or len(request.arrays) != 1:
        raise SiloConfigError("a market train message must carry exactly one flat model vector")
    start = np.asarray(request.arrays[0], dtype=np.float64)
    model = build_model(
        silo.meta, _value(cfg, "model-kind", str), hidden=_hidden(_value(cfg, "hidden", str))
    )
    size = sum(p.numel() for p in model.parameters())
    if start.shape != (size,):
        raise SiloConfigError(
            f"the market model vector has shape {start.shape}; this silo's architecture "
            f"({cfg['model-kind']}, hidden {cfg['hidden']}) has {size} parameters"
        )
    mu = _value(cfg, "prox-mu", float)
    hp = LocalTraining(
        epochs=_value(cfg, "epochs", int),
        lr=_value(cfg, "lr", float),
        batch_size=_value(cfg, "batch-size", int),
    )
    if silo.num_threads:
        torch.set_num_threads(silo.num_threads)
    t0 = time.perf_counter()
    trained = train_prox(
        model,
        start,
        silo.data,
        center=start if mu > 0 else None,
        mu=mu,
        hp=hp,
        seed=_value(cfg, "seed", int),
    )
    metrics = {
        "round": float(_value(cfg, "round", int)),
        "num-examples": float(len(silo.data)),
        "train-seconds": time.perf_counter() - t0,
    }
    if silo.test is not None:
        metrics["accuracy"] = accuracy(model, trained, silo.test)
    return Reply(
        metrics=metrics,
        info={"silo-name": silo.name},
        arrays=[upload(behaviour, trained, start)],
    )
