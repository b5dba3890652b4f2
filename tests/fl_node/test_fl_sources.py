"""Data sources: bundled datasets, .npz/.csv user files, their errors, the standardized split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fl_node.data import (
    CsvSource,
    DataError,
    DatasetMeta,
    DataSplit,
    NpzSource,
    SklearnSource,
    get_source,
    make_split,
)


def test_digits_is_bundled_images(digits_split: DataSplit) -> None:
    meta = digits_split.meta
    assert (meta.n_features, meta.n_classes, meta.image_shape) == (64, 10, (1, 8, 8))
    assert len(digits_split.train) + len(digits_split.test) == 1797
    assert len(digits_split.test) == round(1797 * 0.25)
    assert digits_split.train.x.dtype == np.float32 and digits_split.train.y.dtype == np.int64


def test_breast_cancer_is_tabular(cancer_split: DataSplit) -> None:
    meta = cancer_split.meta
    assert (meta.n_features, meta.n_classes, meta.image_shape) == (30, 2, None)
    assert len(cancer_split.train) + len(cancer_split.test) == 569


def test_standardization_uses_train_statistics_only(digits_split: DataSplit) -> None:
    train = digits_split.train
    assert np.allclose(train.x.mean(axis=0), 0.0, atol=1e-5)
    assert np.allclose(train.x[:, digits_split.std > 1].std(axis=0), 1.0, atol=1e-4)
    # Column 0 is a row id, so each split row can be traced back to its raw row.
    rng = np.random.default_rng(3)
    raw = np.column_stack([np.arange(200.0), rng.exponential(5.0, 200), np.full(200, 7.0)])
    labels = np.arange(200) % 4
    meta = DatasetMeta(name="t", n_features=3, n_classes=4)
    split = make_split(raw, labels, meta, test_fraction=0.3, seed=0)
    back_train = split.train.x * split.std + split.mean
    back_test = split.test.x * split.std + split.mean
    train_ids = np.round(back_train[:, 0]).astype(int)
    test_ids = np.round(back_test[:, 0]).astype(int)
    assert sorted([*train_ids, *test_ids]) == list(range(200))
    assert np.allclose(back_test, raw[test_ids], atol=1e-3)
    assert np.allclose(split.mean, raw[train_ids].mean(axis=0))
    assert not np.allclose(split.mean[1], raw[:, 1].mean())
    assert split.std[2] == 1.0 and np.all(split.train.x[:, 2] == 0.0)
    assert np.array_equal(split.test.y, labels[test_ids])


def test_split_is_seeded_and_stratified() -> None:
    src = SklearnSource("digits")
    a, b, c = src.split(seed=1), src.split(seed=1), src.split(seed=2)
    assert np.array_equal(a.test.y, b.test.y) and np.array_equal(a.test.x, b.test.x)
    assert not np.array_equal(a.test.x, c.test.x)
    share_train = np.bincount(a.train.y) / len(a.train)
    share_test = np.bincount(a.test.y) / len(a.test)
    assert np.abs(share_train - share_test).max() < 0.01


def test_npz_round_trip_with_images_and_string_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5, 5))
    y = np.array(["cat", "dog"] * 20)
    path = tmp_path / "silo.npz"
    np.savez(path, x=x, y=y)
    x2, y2, meta = NpzSource(path).load()
    assert x2.shape == (40, 25) and np.allclose(x2, x.reshape(40, 25))
    assert meta.image_shape == (1, 5, 5) and meta.class_names == ("cat", "dog")
    assert np.array_equal(y2, (y == "dog").astype(np.int64))
    split = get_source(path).split(test_fraction=0.25, seed=0)
    assert len(split.train) == 30 and split.meta.name == "silo"


def test_npz_sparse_integer_labels_are_encoded(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.ones((6, 2)), y=np.array([3, 7, 3, 9, 7, 9]))
    _, y, meta = NpzSource(path).load()
    assert y.tolist() == [0, 1, 0, 2, 1, 2] and meta.class_names == ("3", "7", "9")


def test_npz_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nope.npz"
    with pytest.raises(DataError, match=r"nope\.npz: no such file"):
        NpzSource(missing).load()
    no_y = tmp_path / "no_y.npz"
    np.savez(no_y, x=np.ones((4, 2)), labels=np.arange(4))
    with pytest.raises(
        DataError, match=r"array 'y' not found \(arrays present: \['labels', 'x'\]\)"
    ):
        NpzSource(no_y).load()
    assert NpzSource(no_y, y_key="labels").load()[2].n_classes == 4
    bad_len = tmp_path / "bad_len.npz"
    np.savez(bad_len, x=np.ones((4, 2)), y=np.arange(3))
    with pytest.raises(DataError, match=r"'y' must be 1-D with one label per sample \(4\)"):
        NpzSource(bad_len).load()
    nan = tmp_path / "nan.npz"
    xs = np.ones((4, 2))
    xs[2, 1] = np.nan
    np.savez(nan, x=xs, y=np.arange(4) % 2)
    with pytest.raises(DataError, match="NaN or infinite values \\(first at sample 2\\)"):
        NpzSource(nan).load()
    one_class = tmp_path / "one.npz"
    np.savez(one_class, x=np.ones((4, 2)), y=np.zeros(4, dtype=int))
    with pytest.raises(DataError, match="found 1 distinct label"):
        NpzSource(one_class).load()
    not_zip = tmp_path / "text.npz"
    not_zip.write_text("hello")
    with pytest.raises(DataError, match=r"text\.npz: not a readable \.npz archive"):
        NpzSource(not_zip).load()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_round_trip(tmp_path: Path) -> None:
    path = _write(tmp_path / "bank.csv", "a,label,b\n1,yes,2\n3,no,4\n5,yes,6.5\n\n7,no,8\n")
    x, y, meta = CsvSource(path).load()
    assert x.tolist() == [[1, 2], [3, 4], [5, 6.5], [7, 8]]
    assert y.tolist() == [1, 0, 1, 0] and meta.class_names == ("no", "yes")
    custom = _write(tmp_path / "c.csv", "f1,f2,target\n0.5,1,0\n1.5,2,1\n")
    x, y, meta = get_source(custom, label_column="target").load()
    assert meta.n_features == 2 and y.tolist() == [0, 1]


def test_csv_errors_name_the_file_field_and_fix(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "a,b,class\n1,2,0\n")
    with pytest.raises(
        DataError, match=r"label column 'label' not in the header \['a', 'b', 'class'\]"
    ):
        CsvSource(path).load()
    bad_num = _write(tmp_path / "n.csv", "a,label\n1,0\nfoo,1\n")
    with pytest.raises(DataError, match=r"line 3, column 'a': 'foo' is not a number"):
        CsvSource(bad_num).load()
    bad_len = _write(tmp_path / "l.csv", "a,b,label\n1,2,0\n1,2,3,0\n")
    with pytest.raises(DataError, match=r"line 3 has 4 fields, the header has 3"):
        CsvSource(bad_len).load()
    empty = _write(tmp_path / "e.csv", "")
    with pytest.raises(DataError, match="file is empty"):
        CsvSource(empty).load()
    header_only = _write(tmp_path / "h.csv", "a,label\n")
    with pytest.raises(DataError, match="no data rows"):
        CsvSource(header_only).load()
    no_label = _write(tmp_path / "nl.csv", "a,label\n1,\n")
    with pytest.raises(DataError, match="line 2: empty 'label'"):
        CsvSource(no_label).load()
    with pytest.raises(DataError, match=r"missing\.csv: no such file"):
        CsvSource(tmp_path / "missing.csv").load()


def test_get_source_dispatch_and_errors() -> None:
    assert isinstance(get_source("digits"), SklearnSource)
    assert isinstance(get_source("a/b.CSV"), CsvSource)
    with pytest.raises(DataError, match="neither a bundled dataset"):
        get_source("mnist")
    with pytest.raises(DataError, match="unknown bundled dataset 'mnist'"):
        SklearnSource("mnist")
    with pytest.raises(DataError, match="test_fraction must be in"):
        SklearnSource("iris").split(test_fraction=1.5)
