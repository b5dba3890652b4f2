"""What the coordinator hands the market's round loop, on either runtime, as one document.

:class:`MarketTraining` is what every market train message carries besides the model (local
solver, seed, architecture); :class:`MarketPlan` adds the accepted market, the market parameters,
the number of rounds and the initial model's seed. The deployment coordinator writes the plan
as JSON (:meth:`MarketPlan.write`) for the Flower ServerApp (run config ``market-file``); all
floats round-trip exactly, so the ServerApp solves the same market the coordinator accepted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fl_node.flower._protocol import ConfigValue
from fl_node.market._client import MARKET
from fl_node.market._local import LocalTraining, train_seed
from fl_node.market._market import MarketParams
from solver.market import Market

if TYPE_CHECKING:
    from torch import nn

    from fl_node.data import DatasetMeta

__all__ = ["MarketPlan", "MarketTraining"]


@dataclass(frozen=True)
class MarketTraining:
    """What every market train message carries besides the model: the local solver, the seed
    and the architecture (:func:`fl_node.models.build_model` ``kind`` and MLP ``hidden``)."""

    hp: LocalTraining = field(default_factory=LocalTraining)
    seed: int = 0
    model_kind: str = "mlp"
    hidden: tuple[int, ...] = (32,)

    def message_config(self, rnd: int, slot: int, mu: float) -> dict[str, ConfigValue]:
        """The config of slot ``slot``'s train message in round ``rnd`` (prox weight ``mu``)."""
        return {
            "mechanism": MARKET,
            "round": rnd,
            "seed": train_seed(self.seed, rnd, slot),
            "epochs": self.hp.epochs,
            "lr": self.hp.lr,
            "batch-size": self.hp.batch_size,
            "model-kind": self.model_kind,
            "hidden": ",".join(map(str, self.hidden)),
            "prox-mu": float(mu),
        }


@dataclass(frozen=True, eq=False)
class MarketPlan:
    """A market session: the accepted reports, the parameters, the rounds and the training.

    Attributes
    ----------
    market : Market
        The reports the coordinator solves every round (slot order).
    params : MarketParams
    rounds : int
        Rounds in all, the local round 0 included.
    training : MarketTraining
    model_seed : int
        theta0 is :meth:`initial_model`'s weights.
    dataset : str
        The bundled dataset (or file) whose metadata sizes the model.
    """

    market: Market
    params: MarketParams
    rounds: int
    training: MarketTraining
    model_seed: int = 0
    dataset: str = "digits"

    def initial_model(self, meta: DatasetMeta) -> nn.Module:
        """The model whose weights are theta0."""
        from fl_node.models import build_model

        t = self.training
        return build_model(meta, t.model_kind, seed=self.model_seed, hidden=t.hidden)

    def to_json(self) -> dict[str, Any]:
        m = self.market
        return {
            "market": {
                "names": list(m.names),
                "N": m.N.tolist(),
                "c": m.c.tolist(),
                "K": m.K.tolist(),
                "lambda_pay": float(m.lambda_pay),
            },
            "params": asdict(self.params),
            "rounds": self.rounds,
            "training": {**asdict(self.training), "hidden": list(self.training.hidden)},
            "model_seed": self.model_seed,
            "dataset": self.dataset,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MarketPlan:
        missing = sorted({"market", "params", "rounds", "training"} - set(doc))
        if missing:
            raise ValueError(f"the market plan lacks {missing}; the coordinator writes them all")
        params = dict(doc["params"])
        params["cost"] = tuple(params["cost"])
        t = doc["training"]
        return cls(
            market=Market(**doc["market"]),
            params=MarketParams(**params),
            rounds=int(doc["rounds"]),
            training=MarketTraining(
                LocalTraining(**t["hp"]),
                int(t["seed"]),
                str(t["model_kind"]),
                tuple(int(h) for h in t["hidden"]),
            ),
            model_seed=int(doc.get("model_seed", 0)),
            dataset=str(doc.get("dataset", "digits")),
        )

    def write(self, path: Path) -> None:
        """Write the plan where the ServerApp reads it (:meth:`read`)."""
        Path(path).write_text(json.dumps(self.to_json()), encoding="utf-8")

    @classmethod
    def read(cls, path: Path | str) -> MarketPlan:
        """Read a plan written by :meth:`write`; a missing file raises naming it."""
        p = Path(path)
        if not p.is_file():
            raise ValueError(
                f"run config market-file={str(p)!r} is not a file; the coordinator writes the "
                "market plan there before it submits the run"
            )
        return cls.from_json(json.loads(p.read_text(encoding="utf-8")))
