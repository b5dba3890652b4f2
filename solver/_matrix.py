"""Matrix-valued configuration fields (``rho``, and other mechanisms' ``gamma``, ``distance``).

Nobody writes a 1,000 x 1,000 matrix into a TOML file by hand, and parsing one takes seconds, so
wherever a schema takes an n x n matrix it accepts any of these forms::

    rho = [[0.0, 0.01], [0.01, 0.0]]          # inline rows: small games
    rho = "rho.npy"                           # a file, relative to the config file's directory:
    rho = "rho.csv"                           #   .npy (float array) or .csv (no header)
    rho = { form = "uniform", value = 0.01 }  # every off-diagonal entry equal
    rho = { form = "block", sizes = [3, 7], means = [[0.02, 0.005], [0.005, 0.01]] }
    rho = { form = "block", labels = [0, 0, 1, ...], means = [[...], [...]] }
    rho = { form = "pairs", pairs = [[0, 1, 0.02], [2, 5, 0.01]] }   # or pairs = "pairs.csv"

``block``: organization i is in cluster ``labels[i]`` (or the clusters are consecutive runs of
``sizes``), and entry (i, j) is ``means[label_i][label_j]``. ``pairs``: rows ``[i, j, value]``
with 0-based [[org]] indices (inline, or a .csv/.npy file with three columns); every other
off-diagonal entry is ``fill`` (default 0), and with ``symmetric = true`` (the default) each
pair also sets (j, i). Structured forms take ``diagonal`` (default 0). Every error names the
field and, for a file, the file. With ``structured=True``, ``uniform`` and ``block`` come back as a
:class:`solver.BlockMatrix` (n labels and a k x k table) instead of a dense n x n array.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from solver._block import BlockMatrix
from solver._errors import ConfigError

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["MATRIX_FORMS", "load_matrix"]

FloatArray = NDArray[np.float64]

#: the ``form`` values of a table-valued matrix field
MATRIX_FORMS = ("uniform", "block", "pairs")
_KEYS = {
    "uniform": ({"form", "value"}, {"diagonal"}),
    "block": ({"form", "means"}, {"sizes", "labels", "diagonal"}),
    "pairs": ({"form", "pairs"}, {"symmetric", "fill", "diagonal"}),
}


@overload
def load_matrix(
    value: Any,
    *,
    field: str,
    n: int,
    base_dir: Path,
    sparse: Literal[False] = False,
    structured: Literal[False] = False,
) -> FloatArray: ...


@overload
def load_matrix(
    value: Any,
    *,
    field: str,
    n: int,
    base_dir: Path,
    sparse: bool,
    structured: Literal[False] = False,
) -> FloatArray | sp.csr_matrix: ...


@overload
def load_matrix(
    value: Any, *, field: str, n: int, base_dir: Path, sparse: bool = False, structured: bool
) -> FloatArray | sp.csr_matrix | BlockMatrix: ...


def load_matrix(
    value: Any,
    *,
    field: str,
    n: int,
    base_dir: Path,
    sparse: bool = False,
    structured: bool = False,
) -> FloatArray | sp.csr_matrix | BlockMatrix:
    """Read an n x n float matrix given in any of the module docstring's forms.

    Parameters
    ----------
    value
        The parsed TOML value of the field: a list of rows, a path string, or a table with a
        ``form`` key (``uniform``, ``block``, ``pairs``).
    field
        The field's name in error messages, e.g. ``"game.rho"``.
    n
        Required size (the number of [[org]] tables).
    base_dir
        Directory that relative paths are resolved against (the config file's directory).
    sparse
        Return the ``pairs`` form with ``fill = 0`` as a ``scipy.sparse.csr_matrix`` instead of
        a dense array.
    structured
        Return the ``uniform`` and ``block`` forms as a :class:`solver.BlockMatrix`.

    Returns
    -------
    numpy.ndarray, scipy.sparse.csr_matrix or solver.BlockMatrix
        Shape (n, n), dtype float64, entries finite. Range, symmetry and diagonal rules of the
        field are the caller's to check.

    Raises
    ------
    ConfigError
        ``field`` is set to ``field``; the message names the file where there is one.

    Examples
    --------
    >>> from pathlib import Path
    >>> load_matrix({"form": "uniform", "value": 0.5}, field="rho", n=2, base_dir=Path("."))
    array([[0. , 0.5],
           [0.5, 0. ]])
    """
    if isinstance(value, str):
        return _checked(_read_file(value, field, base_dir, columns=None), field, n, where=value)
    if isinstance(value, Mapping):
        return _structured(value, field, n, base_dir, sparse, structured)
    if isinstance(value, list):
        return _checked(_inline(value, field), field, n, where=None)
    raise ConfigError(
        f"must be a matrix: a list of rows, a .npy/.csv file name, or a table with form in "
        f"{list(MATRIX_FORMS)}; got {type(value).__name__}",
        field=field,
    )


def _inline(rows: list[Any], field: str) -> FloatArray:
    try:
        mat = np.array(rows, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError("must be a list of equally long rows of numbers", field=field) from None
    if any(v is True or v is False for row in rows if isinstance(row, list) for v in row):
        raise ConfigError("entries must be numbers, not true/false", field=field)
    return mat


def _read_file(name: str, field: str, base_dir: Path, columns: int | None) -> FloatArray:
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise ConfigError(
            f"file {str(path)!r} must end in .npy (a float array) or .csv (no header)",
            field=field,
        )
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
            if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
                raise ConfigError(
                    f"file {str(path)!r} holds a {arr.dtype} array; it must be a float array",
                    field=field,
                )
            arr = arr.astype(float, copy=False)
        else:
            arr = np.loadtxt(path, delimiter=",", dtype=float, ndmin=2, encoding="utf-8")
    except ConfigError:
        raise
    except FileNotFoundError:
        raise ConfigError(
            f"no such file {str(path)!r} (paths are relative to the config file)", field=field
        ) from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file {str(path)!r}: {exc}", field=field) from None
    if columns is not None and (arr.ndim != 2 or arr.shape[1] != columns):
        raise ConfigError(
            f"file {str(path)!r} must have {columns} columns (i, j, value), got shape {arr.shape}",
            field=field,
        )
    return arr


def _checked(mat: FloatArray, field: str, n: int, where: str | None) -> FloatArray:
    src = f" in file {where!r}" if where else ""
    if mat.ndim != 2 or mat.shape != (n, n):
        raise ConfigError(
            f"must be a {n} x {n} matrix (one row per [[org]]), got shape {mat.shape}{src}",
            field=field,
        )
    bad = np.flatnonzero(~np.isfinite(mat))
    if bad.size:
        i, j = divmod(int(bad[0]), n)
        raise ConfigError(f"entry [{i}][{j}]{src} is {mat[i, j]!s}, not finite", field=field)
    return mat


def _number(v: Any, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"must be a finite number, got {v!r}", field=field)
    return float(v)


def _structured(
    spec: Mapping[str, Any], field: str, n: int, base_dir: Path, sparse: bool, structured: bool
) -> FloatArray | sp.csr_matrix | BlockMatrix:
    form = spec.get("form")
    if form not in _KEYS:
        raise ConfigError(
            f"a table-valued matrix needs form = one of {list(MATRIX_FORMS)}, got {form!r}",
            field=f"{field}.form",
        )
    required, optional = _KEYS[form]
    missing = sorted(required - set(spec))
    if missing:
        raise ConfigError(f"form {form!r} needs key(s) {missing}", field=f"{field}.{missing[0]}")
    extra = sorted(set(spec) - required - optional)
    if extra:
        raise ConfigError(
            f"unknown key(s) {extra} for form {form!r}; allowed: {sorted(required | optional)}",
            field=f"{field}.{extra[0]}",
        )
    diagonal = _number(spec.get("diagonal", 0.0), f"{field}.diagonal")
    if form == "pairs":
        return _pairs(spec, field, n, base_dir, sparse, diagonal)
    if form == "uniform":
        labels = np.zeros(n, dtype=np.intp)
        means = np.array([[_number(spec["value"], f"{field}.value")]])
    else:
        labels, means = _block(spec, field, n)
    block = BlockMatrix(labels, means, diagonal)
    return block if structured else block.toarray()


def _block(spec: Mapping[str, Any], field: str, n: int) -> tuple[NDArray[np.intp], FloatArray]:
    if ("sizes" in spec) == ("labels" in spec):
        raise ConfigError(
            "form 'block' needs exactly one of 'sizes' (cluster sizes in [[org]] order) or "
            "'labels' (one cluster index per [[org]])",
            field=f"{field}.sizes",
        )
    means = _inline(spec["means"], f"{field}.means")
    k = means.shape[0] if means.ndim == 2 else -1
    if means.ndim != 2 or means.shape != (k, k) or not np.all(np.isfinite(means)):
        raise ConfigError(
            f"must be a square matrix of finite numbers (clusters x clusters), got shape "
            f"{means.shape}",
            field=f"{field}.means",
        )
    if "sizes" in spec:
        sizes = _ints(spec["sizes"], f"{field}.sizes", lo=1)
        if len(sizes) != k or int(sizes.sum()) != n:
            raise ConfigError(
                f"needs {k} sizes (one per row of means) adding up to {n} organizations, got "
                f"{sizes.tolist()} (sum {int(sizes.sum())})",
                field=f"{field}.sizes",
            )
        labels = np.repeat(np.arange(k), sizes)
    else:
        labels = _ints(spec["labels"], f"{field}.labels", lo=0)
        if labels.size != n or (labels.size and int(labels.max()) >= k):
            raise ConfigError(
                f"needs {n} labels (one per [[org]]), each in 0..{k - 1}, got {labels.size} "
                f"labels with largest {int(labels.max()) if labels.size else None}",
                field=f"{field}.labels",
            )
    return labels, means


def _ints(values: Any, field: str, lo: int) -> NDArray[np.intp]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise ConfigError("must be a list of integers", field=field)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < lo for v in values):
        raise ConfigError(f"must be a list of integers >= {lo}, got {list(values)}", field=field)
    return np.asarray(values, dtype=np.intp)


def _pairs(
    spec: Mapping[str, Any],
    field: str,
    n: int,
    base_dir: Path,
    sparse: bool,
    diagonal: float,
) -> FloatArray | sp.csr_matrix:
    src = spec["pairs"]
    where = ""
    if isinstance(src, str):
        arr = _read_file(src, f"{field}.pairs", base_dir, columns=3)
        where = f" in file {src!r}"
    else:
        arr = np.empty((0, 3)) if src == [] else np.empty(0)
        if isinstance(src, list) and src:
            arr = _inline(src, f"{field}.pairs")
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise ConfigError(
                "must be a list of [i, j, value] rows or a .csv/.npy file name",
                field=f"{field}.pairs",
            )
    symmetric = spec.get("symmetric", True)
    if not isinstance(symmetric, bool):
        raise ConfigError(f"must be true or false, got {symmetric!r}", field=f"{field}.symmetric")
    fill = _number(spec.get("fill", 0.0), f"{field}.fill")
    idx, val = arr[:, :2], arr[:, 2]
    bad = np.flatnonzero(
        (idx != np.round(idx)).any(axis=1) | (idx < 0).any(axis=1) | (idx >= n).any(axis=1)
    )
    if bad.size:
        k = int(bad[0])
        raise ConfigError(
            f"row {k}{where}: indices {idx[k].tolist()} must be integers in 0..{n - 1} "
            "(0-based [[org]] positions)",
            field=f"{field}.pairs",
        )
    bad = np.flatnonzero(~np.isfinite(val))
    if bad.size:
        raise ConfigError(
            f"row {int(bad[0])}{where}: value {val[bad[0]]} is not finite", field=f"{field}.pairs"
        )
    i, j = idx[:, 0].astype(np.intp), idx[:, 1].astype(np.intp)
    on_diag = np.flatnonzero(i == j)
    if on_diag.size:
        raise ConfigError(
            f"row {int(on_diag[0])}{where}: a pair must join two different organizations "
            "(set the diagonal with 'diagonal')",
            field=f"{field}.pairs",
        )
    if symmetric:
        i, j, val = np.concatenate((i, j)), np.concatenate((j, i)), np.concatenate((val, val))
    order = np.lexsort((j, i))
    i, j, val = i[order], j[order], val[order]
    dup = np.flatnonzero((i[1:] == i[:-1]) & (j[1:] == j[:-1]))
    if dup.size:
        k = int(dup[0])
        if val[k] != val[k + 1] or not symmetric:
            raise ConfigError(
                f"entry [{i[k]}][{j[k]}]{where} is given twice ({val[k]:.6g} and {val[k + 1]:.6g})",
                field=f"{field}.pairs",
            )
        keep = np.ones(i.size, dtype=bool)
        keep[dup + 1] = False
        i, j, val = i[keep], j[keep], val[keep]
    if sparse and fill == 0.0 and diagonal == 0.0:
        import scipy.sparse as sp

        return sp.csr_matrix((val, (i, j)), shape=(n, n))
    mat = np.full((n, n), fill)
    np.fill_diagonal(mat, diagonal)
    mat[i, j] = val
    return mat
