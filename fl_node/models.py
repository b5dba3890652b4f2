"""torch models for silo data, deterministic construction, and parameter <-> numpy conversion.

All models take flattened float features ``(batch, n_features)``; the CNN reshapes them to its
image shape, so data handling is the same for every model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from fl_node.data import DatasetMeta

__all__ = [
    "MLP",
    "MODEL_KINDS",
    "ParameterMismatchError",
    "SmallCNN",
    "build_model",
    "get_parameters",
    "set_parameters",
]

MODEL_KINDS = ("auto", "mlp", "cnn")


class ParameterMismatchError(ValueError):
    """A list of arrays does not fit a model (count, shape or dtype); the message names which."""


class MLP(nn.Module):
    """Fully connected classifier: ``n_features -> hidden... -> n_classes`` with ReLU."""

    def __init__(self, n_features: int, n_classes: int, hidden: Sequence[int] = (64,)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """Two 3x3 convolutions, one 2x2 max-pool, two linear layers; sized for 8x8 digit images."""

    def __init__(self, image_shape: tuple[int, int, int], n_classes: int) -> None:
        super().__init__()
        c, h, w = image_shape
        if h < 2 or w < 2:
            raise ValueError(
                f"image_shape {image_shape} is too small for SmallCNN (need h, w >= 2)"
            )
        self.image_shape = image_shape
        self.features = nn.Sequential(
            nn.Conv2d(c, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * (h // 2) * (w // 2), 64),
            nn.ReLU(),
            nn.Linear(64, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.view(-1, *self.image_shape)))


def build_model(
    meta: DatasetMeta, kind: str = "auto", *, seed: int = 0, hidden: Sequence[int] = (64,)
) -> nn.Module:
    """Build a classifier for ``meta`` with weights initialized deterministically from ``seed``.

    Parameters
    ----------
    meta : DatasetMeta
    kind : {"auto", "mlp", "cnn"}
        ``"auto"`` picks the CNN when ``meta.image_shape`` is set, else the MLP.
    seed : int
        The same seed gives bit-identical initial weights (the global torch RNG is not touched).
    hidden : sequence of int
        Hidden layer widths of the MLP.

    Returns
    -------
    torch.nn.Module
    """
    if kind not in MODEL_KINDS:
        raise ValueError(f"model kind {kind!r} is unknown; use one of {MODEL_KINDS}")
    if kind == "auto":
        kind = "cnn" if meta.image_shape is not None else "mlp"
    if kind == "cnn" and meta.image_shape is None:
        raise ValueError(
            f"dataset {meta.name!r} has no image shape, so model kind 'cnn' cannot be used; "
            "use kind='mlp' (or give image-shaped arrays in the .npz file)"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if kind == "cnn":
            assert meta.image_shape is not None
            model: nn.Module = SmallCNN(meta.image_shape, meta.n_classes)
        else:
            model = MLP(meta.n_features, meta.n_classes, hidden)
    return model


def get_parameters(model: nn.Module) -> list[NDArray[Any]]:
    """Return the model's state (parameters and buffers) as numpy copies, in ``state_dict`` order."""
    return [t.detach().cpu().numpy().copy() for t in model.state_dict().values()]


def set_parameters(model: nn.Module, arrays: Sequence[NDArray[np.generic]]) -> None:
    """Load ``arrays`` (as produced by :func:`get_parameters`) into ``model`` in place.

    Raises
    ------
    ParameterMismatchError
        If the number of arrays or any shape differs from the model's state.
    """
    state = model.state_dict()
    if len(arrays) != len(state):
        raise ParameterMismatchError(
            f"got {len(arrays)} arrays but the model has {len(state)} tensors "
            f"({list(state)}); were they produced by the same model kind and dataset?"
        )
    new_state = {}
    for i, ((name, ref), arr) in enumerate(zip(state.items(), arrays, strict=True)):
        a = np.asarray(arr)
        if tuple(a.shape) != tuple(ref.shape):
            raise ParameterMismatchError(
                f"array {i} ({name}) has shape {a.shape}, the model expects {tuple(ref.shape)}"
            )
        new_state[name] = torch.as_tensor(a, dtype=ref.dtype).clone()
    model.load_state_dict(new_state)
