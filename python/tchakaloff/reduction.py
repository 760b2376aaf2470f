"""The Tchakaloff step: moments of a weighted point set, and its reduction to at most
N = C(m + k, k) of its own points with the same moments up to degree k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._native import core as _core
from ._threads import core_threads
from ._validation import as_degree, as_int, as_points, as_weights, weight_scale

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


def moments(points: ArrayLike, weights: ArrayLike | None = None, *, degree: int) -> NDArray:
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
        basis the core works in).
    degree : int
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    moment_error: float
    degree: int

    def __len__(self) -> int:
        return len(self.indices)


def reduce(
    points: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    degree: int,
    n_jobs: int | None = None,
) -> Reduction:
    """Keep at most N = C(m + k, k) input points, re-weighted, with the same moments up to `degree`.

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
        Largest total degree k of the matched moments.
    n_jobs : int, optional
        Threads for this call; by default the cores not busy with other processes (see
        :func:`tchakaloff.compress`). The result does not depend on it.

    Returns
    -------
    Reduction
        When at most N points have positive weight, those points with their weights.

    Raises
    ------
    ValueError
        NaN or inf, negative or all-zero weights, wrong shapes, or N too large.
    ReductionError
        The moments could not be kept to 1e-6 (extremely ill-conditioned input).
    """
    x = as_points(points)
    w = as_weights(weights, len(x))
    k = as_degree(degree)
    scale = weight_scale(w)
    threads = core_threads(n_jobs)
    result = _core.reduce(x, w if scale == 1.0 else w / scale, k, threads=threads)
    return Reduction(
        indices=result["indices"],
        weights=result["weights"] * scale,
        moment_error=result["moment_error"],
        degree=k,
    )
