"""Models: selection by dataset, deterministic init, parameter <-> numpy round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fl_node.data import DatasetMeta, DataSplit
from fl_node.models import (
    MLP,
    ParameterMismatchError,
    SmallCNN,
    build_model,
    get_parameters,
    set_parameters,
)


def test_auto_picks_cnn_for_images_and_mlp_for_tables(
    digits_split: DataSplit, cancer_split: DataSplit
) -> None:
    cnn = build_model(digits_split.meta)
    mlp = build_model(cancer_split.meta)
    assert isinstance(cnn, SmallCNN) and isinstance(mlp, MLP)
    assert isinstance(build_model(digits_split.meta, "mlp"), MLP)
    out = cnn(torch.from_numpy(digits_split.test.x[:7]))
    assert out.shape == (7, 10)
    assert mlp(torch.from_numpy(cancer_split.test.x[:3])).shape == (3, 2)
    with pytest.raises(ValueError, match="has no image shape, so model kind 'cnn'"):
        build_model(cancer_split.meta, "cnn")
    with pytest.raises(ValueError, match="model kind 'resnet' is unknown"):
        build_model(cancer_split.meta, "resnet")


def test_init_is_deterministic_and_leaves_global_rng_alone() -> None:
    meta = DatasetMeta(name="t", n_features=64, n_classes=10, image_shape=(1, 8, 8))
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = get_parameters(build_model(meta, seed=5))
    assert torch.equal(torch.rand(3), expected_next)
    b = get_parameters(build_model(meta, seed=5))
    c = get_parameters(build_model(meta, seed=6))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_parameters_round_trip_and_mismatch_errors(digits_split: DataSplit) -> None:
    src = build_model(digits_split.meta, seed=1)
    dst = build_model(digits_split.meta, seed=2)
    arrays = get_parameters(src)
    assert all(isinstance(a, np.ndarray) for a in arrays)
    arrays[0][...] = 0.25  # copies: editing them must not touch the source model
    assert not np.allclose(get_parameters(src)[0], 0.25)
    set_parameters(dst, arrays)
    assert all(np.array_equal(x, y) for x, y in zip(get_parameters(dst), arrays, strict=True))
    with pytest.raises(ParameterMismatchError, match=r"got 3 arrays but the model has 8"):
        set_parameters(dst, arrays[:3])
    bad = [*arrays]
    bad[2] = np.zeros((5, 5), dtype=np.float32)
    with pytest.raises(
        ParameterMismatchError, match=r"array 2 \(features.2.weight\) has shape \(5, 5\)"
    ):
        set_parameters(dst, bad)
