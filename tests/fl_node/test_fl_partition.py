"""Non-IID partitioning: reproducible, exact cover, minimum sizes, measurable skew."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fl_node.data import (
    DataError,
    DataSplit,
    dirichlet_label_partition,
    iid_partition,
    label_histograms,
    partition,
    partition_report,
    quantity_skew_partition,
)


def _assert_exact_cover(parts: list[np.ndarray], n: int) -> None:
    joined = np.concatenate(parts)
    assert joined.shape == (n,)
    assert np.array_equal(np.sort(joined), np.arange(n))
    assert all(p.dtype == np.int64 and np.all(np.diff(p) > 0) for p in parts if p.size > 1)


def test_dirichlet_reproducible_by_seed_and_differs_across_seeds(digits_split: DataSplit) -> None:
    y = digits_split.train.y
    a = dirichlet_label_partition(y, 5, 0.5, seed=7)
    b = dirichlet_label_partition(y, 5, 0.5, seed=7)
    c = dirichlet_label_partition(y, 5, 0.5, seed=8)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c, strict=True))
    _assert_exact_cover(a, len(y))
    _assert_exact_cover(c, len(y))


def test_dirichlet_respects_min_size_at_extreme_skew(digits_split: DataSplit) -> None:
    y = digits_split.train.y
    raw = dirichlet_label_partition(y, 20, 0.01, seed=0, min_size=1)
    # alpha=0.01 piles each class onto ~one silo, so the min-size repair has real work to do.
    assert sum(p.size < 30 for p in raw) > 0
    parts = dirichlet_label_partition(y, 20, 0.01, seed=0, min_size=30)
    assert min(p.size for p in parts) >= 30
    _assert_exact_cover(parts, len(y))


def test_small_alpha_skews_labels_far_more_than_iid(digits_split: DataSplit) -> None:
    y = digits_split.train.y
    skewed = partition_report(y, dirichlet_label_partition(y, 5, 0.1, seed=0), 10)
    mild = partition_report(y, dirichlet_label_partition(y, 5, 100.0, seed=0), 10)
    iid = partition_report(y, iid_partition(len(y), 5, seed=0), 10)
    assert iid.label_skew < 0.08
    assert mild.label_skew < 0.1
    assert skewed.label_skew > 0.5
    # Under strong skew most silos miss several classes entirely.
    assert sum(row.count(0) >= 3 for row in skewed.histograms) >= 3


def test_quantity_skew_sizes_differ_labels_stay_mixed(digits_split: DataSplit) -> None:
    y = digits_split.train.y
    parts = quantity_skew_partition(len(y), 5, seed=0, power=1.5, min_size=20)
    _assert_exact_cover(parts, len(y))
    rep = partition_report(y, parts, 10)
    assert min(rep.sizes) >= 20
    assert rep.size_ratio > 5
    assert np.array_equal(
        quantity_skew_partition(len(y), 5, seed=0, power=1.5, min_size=20)[3], parts[3]
    )
    dirichlet_sizes = partition_report(
        y, quantity_skew_partition(len(y), 5, seed=1, alpha=0.3), 10
    ).size_ratio
    assert dirichlet_sizes > 2
    equal = quantity_skew_partition(len(y), 4, seed=0, power=0.0)
    assert max(p.size for p in equal) - min(p.size for p in equal) <= 1
    big = int(np.argmax(rep.sizes))
    assert rep.histograms[big].count(0) == 0


def test_histograms_and_report_agree_with_the_partition() -> None:
    y = np.array([0, 0, 1, 2, 2, 2])
    parts = [np.array([0, 3]), np.array([1, 2, 4, 5])]
    hist = label_histograms(y, parts, 3)
    assert hist.tolist() == [[1, 0, 1], [1, 1, 2]]
    rep = partition_report(y, parts, 3)
    assert rep.sizes == [2, 4] and rep.size_ratio == 2.0
    # pooled (2,1,3)/6; silo 0 (1,0,1)/2 -> TV 1/6; silo 1 (1,1,2)/4 -> TV 1/12
    assert rep.label_skew == pytest.approx((1 / 6 + 1 / 12) / 2)
    assert rep.to_dict()["histograms"] == hist.tolist()
    assert rep.table().splitlines()[2].split() == ["1", "1", "1", "2", "4"]


def test_partition_errors_name_the_field() -> None:
    y = np.arange(10) % 2
    with pytest.raises(DataError, match="cannot give 6 silos at least 2 each"):
        partition(y, 6, min_size=2)
    with pytest.raises(DataError, match="alpha must be > 0"):
        partition(y, 2, alpha=0.0)
    with pytest.raises(DataError, match="unknown partition scheme 'zipf'"):
        partition(y, 2, scheme="zipf")
    with pytest.raises(DataError, match="min_size must be >= 1"):
        partition(y, 2, min_size=0)
    with pytest.raises(DataError, match="power must be >= 0"):
        partition(y, 2, scheme="quantity", power=-1.0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 300),
    n_silos=st.integers(1, 12),
    n_classes=st.integers(1, 6),
    alpha=st.floats(0.01, 50.0),
    min_size=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    scheme=st.sampled_from(["dirichlet", "quantity", "iid"]),
)
def test_every_scheme_covers_once_and_respects_min_size(
    n: int, n_silos: int, n_classes: int, alpha: float, min_size: int, seed: int, scheme: str
) -> None:
    y = np.random.default_rng(seed).integers(0, n_classes, size=n)
    if n < n_silos * min_size:
        with pytest.raises(DataError):
            partition(y, n_silos, scheme=scheme, alpha=alpha, seed=seed, min_size=min_size)
        return
    parts = partition(y, n_silos, scheme=scheme, alpha=alpha, seed=seed, min_size=min_size)
    assert len(parts) == n_silos
    _assert_exact_cover(parts, n)
    assert min(p.size for p in parts) >= min_size
