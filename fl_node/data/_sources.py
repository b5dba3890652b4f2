"""Data sources: a small abstract interface with bundled (scikit-learn) and file-based sources."""

from __future__ import annotations

import csv
import math
import zipfile
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fl_node.data._dataset import DatasetMeta, DataSplit, make_split
from fl_node.data._errors import DataError

__all__ = [
    "BUILTIN_DATASETS",
    "CsvSource",
    "DataSource",
    "NpzSource",
    "SklearnSource",
    "get_source",
]

RawData = tuple[NDArray[np.float64], NDArray[np.int64], DatasetMeta]

# name -> (sklearn loader name, image shape of the flattened features or None)
BUILTIN_DATASETS: dict[str, tuple[str, tuple[int, int, int] | None]] = {
    "digits": ("load_digits", (1, 8, 8)),
    "breast_cancer": ("load_breast_cancer", None),
    "wine": ("load_wine", None),
    "iris": ("load_iris", None),
}


class DataSource(ABC):
    """Where a silo's samples come from.

    Subclasses implement :meth:`load`, returning raw (unstandardized) features, integer labels
    ``0 .. n_classes - 1`` and the dataset's metadata. :meth:`split` is shared.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """Short name used in reports."""

    @abstractmethod
    def load(self) -> RawData:
        """Return ``(x, y, meta)``: features ``(n, n_features)``, labels ``(n,)`` and metadata."""

    def split(self, *, test_fraction: float = 0.25, seed: int = 0) -> DataSplit:
        """Load and split into standardized train/test sets (statistics from train only).

        Parameters
        ----------
        test_fraction : float
            Held-out fraction, in (0, 1).
        seed : int
            Seed of the stratified split.
        """
        x, y, meta = self.load()
        return make_split(x, y, meta, test_fraction=test_fraction, seed=seed)


class SklearnSource(DataSource):
    """A dataset bundled in the scikit-learn wheel (no download): one of :data:`BUILTIN_DATASETS`."""

    def __init__(self, name: str = "digits") -> None:
        if name not in BUILTIN_DATASETS:
            raise DataError(
                f"unknown bundled dataset {name!r}; choose one of {sorted(BUILTIN_DATASETS)} "
                "or give a path to a .npz or .csv file"
            )
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def load(self) -> RawData:
        import sklearn.datasets

        loader_name, image_shape = BUILTIN_DATASETS[self._name]
        bunch = getattr(sklearn.datasets, loader_name)()
        x = np.asarray(bunch.data, dtype=np.float64)
        y = np.asarray(bunch.target, dtype=np.int64)
        names = tuple(str(t) for t in getattr(bunch, "target_names", np.unique(y)))
        meta = DatasetMeta(
            name=self._name,
            n_features=x.shape[1],
            n_classes=int(y.max()) + 1,
            image_shape=image_shape,
            class_names=names,
        )
        return x, y, meta


class NpzSource(DataSource):
    """User data in a NumPy ``.npz`` archive with a feature array and a label array.

    Features may be 2-D ``(n, features)``, 3-D ``(n, height, width)`` or 4-D
    ``(n, channels, height, width)``; images are flattened and their shape kept in the metadata.
    Labels may be integers or strings; they are encoded as ``0 .. n_classes - 1`` in sorted order.
    """

    def __init__(self, path: str | Path, *, x_key: str = "x", y_key: str = "y") -> None:
        self.path = Path(path)
        self.x_key = x_key
        self.y_key = y_key

    @property
    def name(self) -> str:
        return self.path.stem

    def load(self) -> RawData:
        if not self.path.is_file():
            raise DataError(f"{self.path}: no such file; check the data path in the silo config")
        try:
            archive = np.load(self.path, allow_pickle=False)
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise DataError(
                f"{self.path}: not a readable .npz archive ({exc}); save it with "
                f"numpy.savez(path, {self.x_key}=features, {self.y_key}=labels)"
            ) from exc
        with archive:
            for key in (self.x_key, self.y_key):
                if key not in archive.files:
                    raise DataError(
                        f"{self.path}: array {key!r} not found (arrays present: "
                        f"{sorted(archive.files)}); save it with numpy.savez(path, "
                        f"{self.x_key}=features, {self.y_key}=labels) or set the key name"
                    )
            x_raw = archive[self.x_key]
            y_raw = archive[self.y_key]
        where = f"{self.path}: array {self.x_key!r}"
        if x_raw.ndim not in (2, 3, 4) or x_raw.shape[0] == 0:
            raise DataError(
                f"{where} must have shape (n, features), (n, h, w) or (n, c, h, w) with n >= 1; "
                f"got {x_raw.shape}"
            )
        image_shape: tuple[int, int, int] | None = None
        if x_raw.ndim == 3:
            image_shape = (1, int(x_raw.shape[1]), int(x_raw.shape[2]))
        elif x_raw.ndim == 4:
            image_shape = (int(x_raw.shape[1]), int(x_raw.shape[2]), int(x_raw.shape[3]))
        if not np.issubdtype(x_raw.dtype, np.number) or np.issubdtype(
            x_raw.dtype, np.complexfloating
        ):
            raise DataError(f"{where} must be real numbers; got dtype {x_raw.dtype}")
        x = x_raw.reshape(x_raw.shape[0], -1).astype(np.float64)
        if not np.all(np.isfinite(x)):
            bad = int(np.argwhere(~np.isfinite(x))[0][0])
            raise DataError(
                f"{where} has NaN or infinite values (first at sample {bad}); clean them"
            )
        if y_raw.ndim != 1 or y_raw.shape[0] != x.shape[0]:
            raise DataError(
                f"{self.path}: array {self.y_key!r} must be 1-D with one label per sample "
                f"({x.shape[0]}); got shape {y_raw.shape}"
            )
        y, names = _encode_labels(y_raw, f"{self.path}: array {self.y_key!r}")
        meta = DatasetMeta(
            name=self.name,
            n_features=x.shape[1],
            n_classes=len(names),
            image_shape=image_shape,
            class_names=names,
        )
        return x, y, meta


class CsvSource(DataSource):
    """User data in a CSV file with a header row: numeric feature columns plus one label column.

    Parameters
    ----------
    path : str or Path
    label_column : str
        Header name of the label column (default ``"label"``); labels may be numbers or strings.
    delimiter : str
    """

    def __init__(
        self, path: str | Path, *, label_column: str = "label", delimiter: str = ","
    ) -> None:
        self.path = Path(path)
        self.label_column = label_column
        self.delimiter = delimiter

    @property
    def name(self) -> str:
        return self.path.stem

    def load(self) -> RawData:
        if not self.path.is_file():
            raise DataError(f"{self.path}: no such file; check the data path in the silo config")
        # utf-8-sig: spreadsheet exports often start with a byte-order mark.
        with self.path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            header = next(reader, None)
            if header is None:
                raise DataError(f"{self.path}: file is empty; expected a header row then data rows")
            header = [h.strip() for h in header]
            if self.label_column not in header:
                raise DataError(
                    f"{self.path}: label column {self.label_column!r} not in the header "
                    f"{header}; rename the column or set label_column to one of these names"
                )
            label_at = header.index(self.label_column)
            feature_names = [h for i, h in enumerate(header) if i != label_at]
            if not feature_names:
                raise DataError(f"{self.path}: no feature columns besides {self.label_column!r}")
            rows: list[list[float]] = []
            labels: list[str] = []
            for line_no, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{self.path}: line {line_no} has {len(row)} fields, the header has "
                        f"{len(header)}; fix the row (check for a stray delimiter)"
                    )
                values = []
                for i, cell in enumerate(row):
                    if i == label_at:
                        continue
                    try:
                        value = float(cell)
                    except ValueError:
                        raise DataError(
                            f"{self.path}: line {line_no}, column {header[i]!r}: {cell!r} is "
                            "not a number; feature columns must be numeric (encode categories "
                            "as numbers)"
                        ) from None
                    if not math.isfinite(value):
                        raise DataError(
                            f"{self.path}: line {line_no}, column {header[i]!r}: {cell!r} is "
                            "NaN or infinite; clean or drop the row"
                        )
                    values.append(value)
                label = row[label_at].strip()
                if not label:
                    raise DataError(
                        f"{self.path}: line {line_no}: empty {self.label_column!r}; every row "
                        "needs a label"
                    )
                rows.append(values)
                labels.append(label)
        if not rows:
            raise DataError(f"{self.path}: no data rows after the header")
        x = np.asarray(rows, dtype=np.float64)
        y, names = _encode_labels(np.asarray(labels), f"{self.path}: column {self.label_column!r}")
        meta = DatasetMeta(
            name=self.name, n_features=x.shape[1], n_classes=len(names), class_names=names
        )
        return x, y, meta


def get_source(spec: str | Path, *, label_column: str = "label") -> DataSource:
    """Resolve a dataset name or file path to a :class:`DataSource`.

    Parameters
    ----------
    spec : str or Path
        A bundled dataset name (``"digits"``, ``"breast_cancer"``, ``"wine"``, ``"iris"``) or a
        path ending in ``.npz`` or ``.csv``.
    label_column : str
        Label column for CSV files.
    """
    text = str(spec)
    if text in BUILTIN_DATASETS:
        return SklearnSource(text)
    suffix = Path(text).suffix.lower()
    if suffix == ".npz":
        return NpzSource(text)
    if suffix == ".csv":
        return CsvSource(text, label_column=label_column)
    raise DataError(
        f"dataset {text!r} is neither a bundled dataset {sorted(BUILTIN_DATASETS)} nor a "
        ".npz/.csv file path"
    )


def _encode_labels(
    raw: NDArray[np.generic], where: str
) -> tuple[NDArray[np.int64], tuple[str, ...]]:
    """Map labels to ``0 .. k-1`` in sorted order; numeric strings sort numerically."""
    if raw.dtype.kind in "iub":
        values = raw.astype(np.int64)
    elif raw.dtype.kind == "f":
        floats = raw.astype(np.float64)
        if not np.all(np.isfinite(floats)) or not np.all(floats == np.round(floats)):
            raise DataError(f"{where}: labels must be integers or strings; got non-integer floats")
        values = raw.astype(np.int64)
    elif raw.dtype.kind in "US":
        strings = raw.astype(str)
        try:
            values = np.asarray([int(float(s)) for s in strings], dtype=np.int64)
            if not all(float(s) == int(float(s)) for s in strings):
                raise ValueError
        except ValueError:
            classes_s, inverse_s = np.unique(strings, return_inverse=True)
            names_s = tuple(str(c) for c in classes_s)
            _check_classes(len(names_s), where)
            return inverse_s.astype(np.int64), names_s
    else:
        raise DataError(f"{where}: labels must be integers or strings; got dtype {raw.dtype}")
    classes, inverse = np.unique(values, return_inverse=True)
    _check_classes(len(classes), where)
    return inverse.astype(np.int64), tuple(str(c) for c in classes)


def _check_classes(k: int, where: str) -> None:
    if k < 2:
        raise DataError(f"{where}: found {k} distinct label(s); classification needs at least 2")
