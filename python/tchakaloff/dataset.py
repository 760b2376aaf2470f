"""Compression of a training set: a weighted subset of its own rows with the same moments.

A training loss ``L(theta) = (1/d) sum_i l(theta; x_i, y_i)`` is a symmetric function of the
rows (x_i, y_i). :func:`compress_dataset` keeps a few of the rows and gives them weights c_j
whose moments up to degree k equal those of the whole set, cell by cell
(:func:`tchakaloff.compress`), so that ``sum_j c_j l(theta; x_j, y_j) / sum_j c_j`` stays
close to ``L(theta)`` for every theta, and equals it exactly when l is a polynomial of degree
<= k in (x, y). The kept rows are real rows with their own labels; nothing is synthesised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._threads import core_threads
from ._validation import (
    as_degree,
    as_points,
    as_rng,
    as_size,
    as_weights,
    check_mass,
    power_of_two_scale,
)
from .compression import auto_degree, compress_converted
from .kernel import prefers_kernel, summarize
from .reduction import n_moments

logger = logging.getLogger(__name__)

REPRESENTATIONS = ("auto", "moments", "kernel")
# dtype kinds read as class labels when `discrete` is left to None: bool, strings, Python
# objects. Numbers, integers included, are regression targets (counts, ratings, years):
# integer class labels are common too, but reading counts as classes fails silently (every
# value its own class), while classes read as numbers are asked for with discrete=True.
_DISCRETE_KINDS = "bUSO"


@dataclass(frozen=True)
class DatasetCompression:
    """The kept rows of a data set and their weights.

    Attributes
    ----------
    indices : (s,) int64
        Sorted rows of the input that are kept.
    weights : (s,) float64
        Their weights, all > 0, with the input's total: the number of rows by default (the
        weights are multiplicities), ``sample_weight.sum()`` when sample weights were given.
        With discrete labels every class keeps its own total.
    X : (s, p) float64
        The kept rows of X, ``X[indices]``.
    y : (s,) or (s, q) array
        Their own labels, ``y[indices]``, with the input's dtype.
    cells : (n,) int64
        The cell of every input row (cells never mix classes; -1 for the rows of a class
        whose total weight is 0, which keeps no row).
    degree : int or None
        Moments matched inside every cell (None with kernel features).
    discrete : bool
        Whether y was treated as class labels (each class compressed on its own).
    moment_error : float
        Largest moment residual over the cells, relative to the cell's weight (see
        :class:`tchakaloff.Compression`); with kernel features, the largest residual of a
        matched feature (see :class:`tchakaloff.Summary`).
    representation : {"moments", "kernel"}
        What the kept rows match: the moments of cells, or kernel features of the
        standardised rows (:func:`tchakaloff.summarize`).

    Notes
    -----
    Hand the weights on as they are: ``estimator.fit(res.X, res.y, sample_weight=res.weights)``
    (or :meth:`fit`) in scikit-learn; in PyTorch, :func:`tchakaloff.torch.weighted_loss` for
    full-batch training and :func:`tchakaloff.torch.weighted_loader` (rows drawn with
    probability proportional to the weights) for mini-batches.
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    X: NDArray[np.float64]
    y: NDArray[Any]
    cells: NDArray[np.int64]
    degree: int | None
    discrete: bool
    moment_error: float
    representation: str = "moments"

    def __len__(self) -> int:
        return len(self.indices)

    def fit(self, estimator: Any, **fit_params: Any) -> Any:
        """``estimator.fit(X, y, sample_weight=weights, **fit_params)`` on the kept rows.

        Works with every scikit-learn estimator whose ``fit`` takes ``sample_weight``, and
        with a ``Pipeline`` whose last step does (the weights go to that step, as
        ``<step>__sample_weight``, unless metadata routing is enabled, which routes them
        itself); returns what ``fit`` returns (the fitted estimator).

        Raises
        ------
        ValueError
            The estimator (or the pipeline's last step) cannot take sample weights: the kept
            rows mean nothing without their weights.
        """
        import sklearn
        from sklearn.utils.validation import has_fit_parameter

        steps = getattr(estimator, "steps", None)
        final = steps[-1][1] if steps else estimator
        if final is None or final == "passthrough" or not has_fit_parameter(final, "sample_weight"):
            raise ValueError(
                f"{type(final).__name__}.fit does not take sample_weight, and the kept rows "
                "only stand for the data set with their weights; use an estimator that takes "
                "them (most linear models, trees, boosting, SVMs, k-means)"
            )
        if steps and not sklearn.get_config().get("enable_metadata_routing", False):
            fit_params = {f"{steps[-1][0]}__sample_weight": self.weights, **fit_params}
        else:
            fit_params = {"sample_weight": self.weights, **fit_params}
        return estimator.fit(self.X, self.y, **fit_params)


def _check_finite(array: NDArray[np.float64], name: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise ValueError(
            f"{name} contains NaN or inf (first at row {row}); remove or impute those rows "
            "before compressing"
        )


def _as_labels(y: ArrayLike, n: int, discrete: bool | None) -> tuple[NDArray[Any], bool]:
    labels = np.asarray(y)
    if labels.ndim == 0 or labels.ndim > 2:
        raise ValueError(f"y must have shape ({n},) or ({n}, q), got {labels.shape}")
    if len(labels) != n:
        raise ValueError(
            f"X has {n} rows but y has {len(labels)}; pass one label (or target row) per row"
        )
    if discrete is None:
        discrete = labels.dtype.kind in _DISCRETE_KINDS
    if discrete:
        if labels.ndim != 1:
            raise ValueError(
                f"discrete labels must be 1-d (one class per row), got shape {labels.shape}; "
                "pass discrete=False for a multi-output regression target"
            )
        if labels.dtype.kind == "f":
            _check_finite(labels.reshape(-1, 1), "y")
        elif labels.dtype.kind == "O" and any(label is None for label in labels):
            raise ValueError("y contains None; remove or label those rows before compressing")
    return labels, bool(discrete)


def _spread(z: NDArray[np.float64], w: NDArray[np.float64] | None) -> NDArray[np.float64]:
    """Weighted standard deviation of every column (1 for a constant column).

    Summed over blocks of rows with matrix products: numpy's column sums and full-size
    temporaries took a tenth of the compression's own time at 1e6 rows."""
    block = 65536
    ones = np.ones(min(len(z), block))
    total = len(z) if w is None else w.sum()

    def column_sums(
        transform: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    ) -> NDArray[np.float64]:
        sums = np.zeros(z.shape[1])
        for start in range(0, len(z), block):
            rows = transform(z[start : start + block])
            sums += (ones[: len(rows)] if w is None else w[start : start + block]) @ rows
        return sums

    with np.errstate(over="ignore", invalid="ignore"):
        centre = column_sums(lambda rows: rows) / total
        spread = np.sqrt(column_sums(lambda rows: (rows - centre) ** 2) / total)
    if not np.all(np.isfinite(spread)):  # sums or squares beyond the double range (|z| > 1e154)
        unit = power_of_two_scale(z)
        return _spread(z / unit, w) * unit
    spread[~(spread > 0)] = 1.0
    return spread


def _class_sizes(
    counts: NDArray[np.int64], mass: NDArray[np.float64], size: int, need: int
) -> NDArray[np.int64]:
    """Rows to keep per class, `size` in all: shared in proportion to the class masses, but never
    fewer than N (a cell needs N rows to keep its moments) nor more than the class has.

    Classes pushed to a bound are fixed there and the rest of the budget is shared again among
    the others, until no share crosses a bound. A class of zero mass keeps nothing."""
    low = np.where(mass > 0, np.minimum(counts, need), 0)
    high = np.where(mass > 0, counts, 0)
    if low.sum() > size:
        raise ValueError(
            f"size {size} is too small for {len(counts)} classes at this degree: every class "
            f"keeps min(its rows, N = {need}) rows, {int(low.sum())} in all; raise size to "
            f"at least {int(low.sum())} or lower the degree"
        )
    sizes = np.zeros(len(counts), dtype=np.int64)
    free = mass > 0
    while free.any():
        share = (size - sizes[~free].sum()) * mass / mass[free].sum()
        below, above = free & (share < low), free & (share > high)
        if not (below.any() or above.any()):
            shared = np.flatnonzero(free)
            floor = np.floor(share[shared]).astype(np.int64)
            # the rows the floors leave go to the largest remainders (Hamilton's method):
            # the classes keep `size` rows in all, and none goes past ceil(share) <= high
            left = int(size - sizes[~free].sum() - floor.sum())
            floor[np.argsort(floor - share[shared], kind="stable")[: max(left, 0)]] += 1
            sizes[shared] = floor
            break
        sizes[below], sizes[above] = low[below], high[above]
        free &= ~(below | above)
    return sizes


def compress_dataset(
    X: ArrayLike,
    y: ArrayLike,
    *,
    size: float,
    degree: int | str = "auto",
    representation: str = "auto",
    sample_weight: ArrayLike | None = None,
    standardize: bool = True,
    cells: str = "x",
    discrete: bool | None = None,
    partition: str = "kd",
    rng: np.random.Generator | int | None = None,
    n_jobs: int | None = None,
) -> DatasetCompression:
    """Keep at most `size` rows of (X, y), re-weighted so that every cell's moments up to
    `degree` in the joint rows (x, y) stay those of the whole data set.

    Every weighted loss ``sum_j c_j l(theta; x_j, y_j) / sum_j c_j`` on the kept rows then
    equals the full-data loss exactly when l is a polynomial of degree <= `degree` in (x, y)
    (for instance the squared error of any polynomial model of degree <= `degree` / 2), and
    closely for smooth losses: the error shrinks like the cells' diameter to the power
    ``degree + 1``.

    Parameters
    ----------
    X : (n, p) array
        Features.
    y : (n,) or (n, q) array
        Targets. Floats are regression targets: the objects are the joint rows (x, y), so
        m = p + q; integers too (counts). Class labels (bools, strings, objects; integer
        classes with ``discrete=True``) are not
        moments of anything: each class is compressed on its own in x alone (m = p) and keeps
        its total weight, so the class proportions do not change.
    size : int or float
        Rows to keep (an int <= n), or a fraction of n (a float in (0, 1]). Each cell keeps at
        most N = C(m + k, k) rows, so size // N cells are cut (per class, in proportion to
        the class's weight).
    degree : int or "auto", default "auto"
        k, the largest total degree of the moments kept. Needs N = C(m + k, k) <= size.
        ``"auto"``: the largest k whose N fits the size (per class for class labels), as in
        :func:`tchakaloff.compress`.
    representation : {"auto", "moments", "kernel"}, default "auto"
        What the kept rows match. "moments": every cell's moments up to `degree` (exact for
        polynomial losses; best in low dimension). "kernel": the leading features of a
        Gaussian kernel on the standardised rows (:func:`tchakaloff.summarize`; best where
        full moments are too coarse for the budget). "auto" takes "kernel" when the degree
        is "auto" and the rows have 4 or more columns (x and y together for a regression
        target, x alone for class labels; :func:`tchakaloff.kernel.prefers_kernel`, measured
        in bench/compare_summaries.py), and "moments" otherwise.
    sample_weight : (n,) array, optional
        Non-negative weights of the rows (all ones by default). The kept weights have the
        same total.
    standardize : bool, default True
        Measure every column in units of its weighted standard deviation when the cells are
        cut (the `metric` of :func:`tchakaloff.compress` is 1 / std). The error grows like the
        cells' diameter to the power k + 1, so the cells must be small in every column they
        are cut along, and "small" must mean the same in each: in raw units a feature in
        thousands beside others in [0, 1] takes every cut and leaves the cells wide in the
        rest. Standard deviations rather than ranges: one outlier would otherwise shrink its
        whole column. Only the cells depend on this; the moments are matched in every column
        either way. Pass False to cut in the raw units, when the columns already share a
        meaningful scale.
    cells : {"x", "all"}, default "x"
        Columns the cells are cut along. The moments are always those of the joint rows
        (x, y). A loss that is a polynomial of low degree in y (squared error: degree 2;
        cross-entropy with soft labels: degree 1) only needs cells that are small in x: its
        terms y^a g(x) are matched up to the Taylor remainder of g in x, whatever y's spread
        in the cell, so cutting along y as well only makes the cells wider in x ("x" gives
        1.5x and 2.7x lower loss error than "all" in range and in standard-deviation units
        on the Fig. 3 task). Pass "all" for losses that are not polynomial in y (absolute
        error, Huber). Class labels are not columns: their cells are always in x.
    discrete : bool, optional
        Treat y as class labels. By default: y's dtype is bool, string or object; numbers,
        integers included, are regression targets. Pass True for integer class labels
        (``discrete=True`` with digits' 0-9, say), False to read bools as numbers.
    partition : {"kd", "greedy"}
        How the cells are built, passed on to :func:`tchakaloff.compress`: balanced k-d cells
        (fastest) or the paper's greedy smallest balls (lower error, slower; the Fig. 3
        reproduction uses it).
    rng : numpy.random.Generator or int, optional
        Passed on to :func:`tchakaloff.compress` (it picks among the many valid subsets);
        None keeps the input order, and the result is then deterministic.
    n_jobs : int, optional
        Threads of the C++ core (default: as in :func:`tchakaloff.compress`). The result does
        not depend on it.

    Returns
    -------
    DatasetCompression
        ``indices``, ``weights`` (> 0, total n or ``sample_weight.sum()``), the kept rows
        ``X`` and ``y``, and what is needed to check them.

    Raises
    ------
    ValueError
        NaN or inf in X, y or the weights; X and y of different lengths; a degree whose
        N = C(m + k, k) exceeds size (per class for class labels).

    Examples
    --------
    >>> import numpy as np
    >>> import tchakaloff
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(10_000, 2))
    >>> y = np.sin(3 * X[:, 0]) * X[:, 1] + 0.1 * rng.normal(size=len(X))
    >>> res = tchakaloff.compress_dataset(X, y, size=1000, degree=5)
    >>> len(res) <= 1000, bool(np.isclose(res.weights.sum(), 10_000))
    (True, True)
    """
    x = as_points(X, "X")
    _check_finite(x, "X")
    n = len(x)
    labels, discrete = _as_labels(y, n, discrete)
    w = as_weights(sample_weight, n)
    if w is not None:
        _check_finite(w.reshape(-1, 1), "sample_weight")  # names the row
        check_mass(w, "sample_weight", "rows")
    target = min(as_size(size, n, "row"), n)  # as in compress: size >= n keeps every row
    threads = core_threads(n_jobs)
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    automatic = isinstance(degree, str) and degree == "auto"
    k: int | None = None  # None: automatic, or kernel features (which have no degree)
    if not automatic:
        k = as_degree(degree)
        if representation == "kernel":
            raise ValueError(
                "degree sets the moments; kernel features have none: leave degree at 'auto' "
                "with representation='kernel'"
            )

    if discrete:
        objects = x
    else:
        columns = labels.reshape(n, -1)
        if columns.dtype.kind not in "biuf":
            raise ValueError(f"a regression target must be numeric, got dtype {labels.dtype}")
        targets = np.asarray(columns, dtype=np.float64)
        _check_finite(targets, "y")
        objects = np.hstack([x, targets])
    m = objects.shape[1]
    if cells not in ("x", "all"):
        raise ValueError(f'cells must be "x" or "all", got {cells!r}')
    spread = _spread(objects, w) if standardize else np.ones(m)

    # The parts compressed on their own: the whole data set, or each class.
    if discrete:
        classes, inverse = np.unique(labels, return_inverse=True)
        inverse = inverse.reshape(-1)
        part_rows = [np.flatnonzero(inverse == c) for c in range(len(classes))]
    else:
        part_rows = [np.arange(n)]
    counts = np.array([len(rows) for rows in part_rows])
    mass = counts.astype(np.float64) if w is None else np.array([w[r].sum() for r in part_rows])
    typical = max(1, target // max(1, int(np.count_nonzero(mass))))
    if representation == "auto":
        representation = "kernel" if automatic and prefers_kernel(m) else "moments"
    if representation == "moments":
        if k is None:
            k = auto_degree(m, typical)
        need = n_moments(m, k)
        metric = 1 / spread
        if cells == "x":
            metric[x.shape[1] :] = 0.0  # the target columns (none for class labels)
    else:
        k, need = None, 1
    if not discrete and need > target and target < n:
        raise ValueError(
            f"degree {k} is too high for size {target}: the joint rows (x, y) have "
            f"m = {m} columns, so every cell keeps N = C(m + k, k) = {need} rows; lower "
            f"the degree or raise size to at least {need}"
        )
    sizes = _class_sizes(counts, mass, target, need) if discrete else np.array([target])

    def compress_part(
        rows: NDArray[np.intp], part_size: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], float]:
        """(kept rows within the part, weights, cell labels, error) of one part."""
        part_weights = None if w is None else w[rows]
        if representation == "kernel":
            summary = summarize(
                objects[rows] / spread, part_weights, size=part_size, rng=rng, n_jobs=n_jobs
            )
            return summary.indices, summary.weights, summary.cells, summary.feature_error
        assert k is not None  # the moments have a degree by now
        result = compress_converted(
            objects[rows],
            part_weights,
            part_size,
            k,
            partition=partition,
            metric=metric,
            order=None if rng is None else as_rng(rng).permutation(len(rows)),
            threads=threads,
        )
        return result.indices, result.weights, result.labels, result.moment_error

    parts, part_weights = [], []
    cell_of = np.empty(n, dtype=np.int64)
    error, offset = 0.0, 0
    for rows, part_size, part_mass in zip(part_rows, sizes, mass):
        if part_mass == 0:  # a class of zero weight keeps no row
            cell_of[rows] = -1
            continue
        kept, kept_weights, part_cells, part_error = compress_part(rows, int(part_size))
        parts.append(rows[kept])
        part_weights.append(kept_weights)
        cell_of[rows] = part_cells + offset
        offset += int(part_cells.max()) + 1
        error = max(error, part_error)
    order = np.argsort(np.concatenate(parts), kind="stable")
    indices = np.concatenate(parts)[order]
    weights = np.concatenate(part_weights)[order]
    logger.info(
        "compressed %d rows to %d (%s, m = %d, %s)",
        n,
        len(indices),
        f"degree {k}" if representation == "moments" else "kernel features",
        m,
        "per class" if discrete else "joint (x, y)",
    )
    return DatasetCompression(
        indices=np.asarray(indices, dtype=np.int64),
        weights=np.asarray(weights, dtype=np.float64),
        X=x[indices],
        y=labels[indices],
        cells=cell_of,
        degree=k,
        discrete=discrete,
        moment_error=float(error),
        representation=representation,
    )
