"""The plain-tensor SGD step trains bitwise the weights torch.optim.SGD trains, without dynamo."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from torch import nn

from fl_node.data import ArrayDataset, DataSplit
from fl_node.models import build_model, get_parameters
from fl_node.training import MomentumSGD, select_subset, train_local


def _reference(
    model: nn.Module, data: ArrayDataset, *, d: float, epochs: int, lr: float, seed: int
) -> list[NDArray[Any]]:
    """train_local's loop as it was, with torch.optim.SGD(momentum=0.9)."""
    indices = select_subset(len(data), d, seed)
    local = copy.deepcopy(model)
    x, y = torch.from_numpy(data.x), torch.from_numpy(data.y)
    rng = np.random.default_rng([seed, 0, 1])
    opt = torch.optim.SGD(local.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        order = rng.permutation(indices)
        for lo in range(0, order.shape[0], 32):
            bt = torch.from_numpy(order[lo : lo + 32])
            opt.zero_grad(set_to_none=True)
            loss_fn(local(x[bt]), y[bt]).backward()
            opt.step()
    return get_parameters(local)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_trained_weights_are_bitwise_those_of_torch_optim_sgd(
    digits_split: DataSplit, kind: str
) -> None:
    data = digits_split.train.subset(np.arange(400))
    model = build_model(digits_split.meta, kind, seed=3)
    ours = train_local(model, None, data, d_fraction=0.7, epochs=3, lr=0.05, seed=5)
    theirs = _reference(model, data, d=0.7, epochs=3, lr=0.05, seed=5)
    assert ours.steps == 3 * -(-280 // 32)
    assert len(ours.parameters) == len(theirs)
    for a, b in zip(ours.parameters, theirs, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)  # bitwise, not approximately
    start = get_parameters(model)
    assert not all(np.array_equal(a, b) for a, b in zip(start, theirs, strict=True))


def test_parameters_without_gradient_are_left_alone() -> None:
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    opt = MomentumSGD([a, b], lr=0.5, momentum=0.9)
    (a * 3).sum().backward()
    opt.step()
    opt.step()  # the second step adds momentum: 1 - 0.5 * 3 - 0.5 * (0.9 * 3 + 3)
    assert torch.equal(b, torch.ones(2))
    assert torch.allclose(a, torch.full((2,), 1 - 1.5 - 0.5 * 5.7))
    opt.zero_grad()
    assert a.grad is None


def test_a_silo_trains_without_importing_torch_dynamo() -> None:
    code = (
        "import sys\n"
        "import fl_node.flower.client_app\n"
        "from fl_node.flower import load_silo\n"
        "from fl_node.models import build_model\n"
        "from fl_node.training import train_local\n"
        "silo = load_silo({'dataset': 'digits', 'partition-id': 0, 'num-partitions': 3})\n"
        "train_local(build_model(silo.meta, 'auto'), None, silo.data, d_fraction=0.5)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torch._dynamo', 'torch.optim'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "torch._dynamo" not in done.stdout, done.stdout
