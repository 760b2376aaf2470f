"""The Tchakaloff step: moments of a weighted point set, and its reduction to at most
N = C(m + k, k) of its own points with the same moments up to degree k."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._native import core as _core
from ._native import options
from ._threads import core_threads
from ._validation import (
    as_array,
    as_degree,
    as_int,
    as_points,
    as_weights,
    check_mass,
    weight_scale,
)

ReductionError = _core.ReductionError
ReductionError.__doc__ = (
    "The reduction broke down numerically (an ArithmeticError): lower the degree, or remove "
    "near-duplicate points."
)


def n_moments(m: int, degree: int) -> int:
    """Number of monomials of total degree <= `degree` in `m` variables, C(m + k, k).

    The constant monomial is included, so matching all of them preserves the total weight.
    """
    return int(_core.n_moments(as_int(m, "m"), as_degree(degree)))


def exponents(m: int, degree: int) -> NDArray[np.int64]:
    """Exponents of every monomial of total degree <= `degree` in `m` variables.

    Returns an (N, m) int64 array in graded order: degree 0 first, then each degree in
    descending lexicographic order (for m = 2: 1, x, y, x^2, xy, y^2, ...). This is the order
    of :func:`moments`.
    """
    return np.asarray(_core.exponents(as_int(m, "m"), as_degree(degree)))


def moments(
    points: ArrayLike, weights: ArrayLike | None = None, *, degree: int
) -> NDArray[np.float64]:
    """Raw moments sum_i w_i prod_v x_iv^alpha_v for every alpha of :func:`exponents`.

    Parameters
    ----------
    points : (n, m) array
    weights : (n,) array, optional
        Non-negative; all ones by default.
    degree : int
        Largest total degree k.

    Returns
    -------
    (N,) float64 array, N = C(m + k, k). The sum is taken in a fixed order, so the result is
    the same for any number of threads.
    """
    x = as_points(points)
    return np.asarray(_core.moments(x, as_weights(weights, len(x)), as_degree(degree)))


@dataclass(frozen=True)
class Reduction:
    """A weighted subset with the same moments as the input.

    Attributes
    ----------
    indices : (s,) int64
        Sorted rows of the input that are kept, s <= N.
    weights : (s,) float64
        Their new weights, all > 0, with the input's total.
    moment_error : float
        Largest moment residual after the reduction, relative to the total weight, measured
        with the points mapped onto [-1, 1]^m by their bounding box (in the product Chebyshev
        basis the core works in). With ``features``: the largest residual of a feature's
        weighted sum, relative to the weighted sum of its absolute values.
    degree : int or None
        None when test functions (``features``) were matched instead of moments.
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    moment_error: float
    degree: int | None

    def __len__(self) -> int:
        return len(self.indices)


Features = Union[ArrayLike, Callable[[NDArray[np.float64]], ArrayLike]]
# A callable's features are evaluated on blocks of about this many entries (32 MB).
_FEATURE_BLOCK_ENTRIES = 1 << 22


def reduce(
    points: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    degree: int | None = None,
    features: Features | None = None,
    n_jobs: int | None = None,
) -> Reduction:
    """Keep at most N = C(m + k, k) input points, re-weighted, with the same moments up to
    `degree`; or at most r + 1 with the same weighted sums of r test functions (`features`).

    Recursive Caratheodory reduction in C++: the points are split into groups, the group
    barycentres reduced by one null-space elimination, and the surviving groups split again.
    Time O(n N + N^3 log(n / N)); no n x N matrix is stored.

    Parameters
    ----------
    points : (n, m) array
        Any real dtype, any memory layout (converted once to contiguous float64).
    weights : (n,) array, optional
        Non-negative with a positive total; all ones by default. Zero-weight points are never
        kept.
    degree : int
        Largest total degree k of the matched moments. Give either `degree` or `features`.
    features : (n, r) array or callable, optional
        Test functions to match instead of moments: their values at every point, or a
        function taking a block of rows of `points` and returning their (rows, r) values. A
        callable is evaluated block by block and the blocks are reduced one after another
        (merge and reduce, exact at every step), so memory stays O(n + r^2) and the n x r
        matrix never exists. Moments of degree k are one choice of features; kernel features
        give data summaries in any dimension (:func:`tchakaloff.summarize`).
    n_jobs : int, optional
        Threads for this call; by default the cores not busy with other processes (see
        :func:`tchakaloff.compress`). The result does not depend on it.

    Returns
    -------
    Reduction
        When at most N (or r + 1) points have positive weight, those points with their weights.

    Raises
    ------
    ValueError
        NaN or inf, negative or all-zero weights, wrong shapes, or N too large.
    ReductionError
        The moments could not be kept to 1e-6 (extremely ill-conditioned input).
    """
    x = as_points(points)
    w = as_weights(weights, len(x))
    if degree is None and features is None:
        raise ValueError(
            "degree must be a non-negative integer, the moments to match (or pass features= "
            "to match test functions instead)"
        )
    if degree is not None and features is not None:
        raise ValueError("give degree= (moments) or features= (test functions), not both")
    if features is not None:
        check_mass(w)  # here: the blocks drop zero weights before the core sees them
        threads = core_threads(n_jobs)
        if callable(features):
            return _reduce_streamed(x, w, features, threads)
        values = _as_features(features, len(x))
        indices, kept = _reduce_features(values, w, threads)
        full, absolute = _weighted_sum(values, w), _weighted_sum(np.abs(values), w)
        return _feature_reduction(indices, kept, values[indices], full, absolute)
    k = as_degree(degree)
    indices, kept, error = _core_reduce(x, w, k, core_threads(n_jobs))
    return Reduction(indices=indices, weights=kept, moment_error=error, degree=k)


def _core_reduce(
    x: NDArray[np.float64], w: NDArray[np.float64] | None, degree: int, threads: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], float]:
    """The core's reduction with the weights brought near 1 by a power of two (and back):
    kept rows, their weights, the moment error."""
    scale = weight_scale(w)
    result = _core.reduce(
        x,
        w if w is None or scale == 1.0 else w / scale,
        degree,
        options(_core.ReduceOptions, threads=threads),
    )
    return np.asarray(result.indices), result.weights * scale, result.moment_error


def _as_features(values: ArrayLike, n: int, r: int | None = None) -> NDArray[np.float64]:
    """Feature values as a finite, contiguous float64 (n, r) array."""
    array = as_array(values, "features")
    if array.ndim != 2 or array.shape[0] != n or (r is not None and array.shape[1] != r):
        want = f"({n}, {'r' if r is None else r})"
        raise ValueError(f"features must have shape {want}, one row per point; got {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.float64)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"features must be real numbers, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("features contain NaN or inf; pass finite values")
    return array


def _reduce_features(
    values: NDArray[np.float64], w: NDArray[np.float64] | None, threads: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The core's degree-1 reduction of the features as coordinates: their weighted sums and
    the total are exactly its moments."""
    if values.shape[1] == 0:
        raise ValueError("features has no columns; pass at least one test function")
    indices, kept, _ = _core_reduce(values, w, 1, threads)
    return indices, kept


def _feature_reduction(
    indices: NDArray[np.int64],
    kept: NDArray[np.float64],
    kept_values: NDArray[np.float64],
    full: NDArray[np.float64],
    absolute: NDArray[np.float64],
) -> Reduction:
    """The result, with each feature's residual relative to the weighted sum of |feature|."""
    residual = np.abs(kept @ kept_values - full)
    relative = np.divide(residual, absolute, out=np.zeros_like(residual), where=absolute > 0)
    return Reduction(
        indices=indices, weights=kept, moment_error=float(relative.max(initial=0.0)), degree=None
    )


def _weighted_sum(
    values: NDArray[np.float64], w: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    total: NDArray[np.float64] = values.sum(axis=0) if w is None else w @ values
    return total


def _reduce_streamed(
    x: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    features: Callable[[NDArray[np.float64]], ArrayLike],
    threads: int,
) -> Reduction:
    """Merge and reduce over blocks of rows: the points kept so far plus the next block are
    reduced to at most r + 1, which keeps every feature sum of everything seen so far."""
    n = len(x)
    block, r = 1024, None  # the first block tells r, and with it the block size
    rows, kept, values = np.empty(0, dtype=np.int64), np.empty(0), np.empty((0, 0))
    start = 0
    while start < n:
        stop = min(n, start + block)
        new = _as_features(features(x[start:stop]), stop - start, r)
        if r is None:
            r = new.shape[1]
            full, absolute, values = np.zeros(r), np.zeros(r), np.empty((0, r))
            block = max(block, _FEATURE_BLOCK_ENTRIES // max(r, 1))
        new_weights = np.ones(stop - start) if w is None else w[start:stop]
        full += new_weights @ new
        absolute += new_weights @ np.abs(new)
        positive = new_weights > 0
        rows = np.concatenate([rows, np.arange(start, stop)[positive]])
        kept = np.concatenate([kept, new_weights[positive]])
        values = np.vstack([values, new[positive]])
        if len(rows) > r + 1:
            keep, kept = _reduce_features(values, kept, threads)
            rows, values = rows[keep], values[keep]
        start = stop
    order = np.argsort(rows)
    return _feature_reduction(rows[order], kept[order], values[order], full, absolute)
