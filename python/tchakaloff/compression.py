"""Universal compression (the paper's Algorithm 1): compact cells, each reduced to at most
N = C(m + k, k) of its own objects with the same moments up to degree k."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import as_degree, as_points, as_weights, weight_scale
from .reduction import n_moments


@dataclass(frozen=True)
class Compression:
    """A weighted subset of the objects that keeps every cell's moments up to `degree`.

    Attributes
    ----------
    indices : (s,) int64
        Sorted input rows kept, s <= size.
    weights : (s,) float64
        Their weights, all > 0, with the input's total (the number of objects by default:
        weights are multiplicities).
    labels : (n,) int64
        The cell of every input object.
    degree : int
    moment_error : float
        Largest moment residual over the cells, relative to the cell's weight, with each cell
        mapped onto [-1, 1]^m.
    """

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    labels: NDArray[np.int64]
    degree: int
    moment_error: float

    def __len__(self) -> int:
        return len(self.indices)


def _as_size(size: object, n: int) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise ValueError(
            f"size must be an int (objects to keep) or a float in (0, 1], got {size!r}"
        )
    if isinstance(size, numbers.Integral):
        if size < 1:
            raise ValueError(f"size must be at least 1 object, got {size}")
        return int(size)
    if not 0 < size <= 1:
        raise ValueError(f"a fractional size must lie in (0, 1], got {size}")
    return max(1, int(np.floor(size * n)))


def compress(
    objects: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    size: float,
    degree: int,
    n_jobs: int | None = None,
) -> Compression:
    """Keep at most `size` objects, re-weighted so that each cell's moments up to `degree` stay.

    The objects are cut into ``size // N`` balanced k-d cells (median splits of the widest
    coordinate, in units of the bounding box), and every cell is reduced on its own by
    :func:`tchakaloff.reduce`'s algorithm, in parallel over cells in C++. For a smooth
    symmetric function of the objects the error shrinks like the cells' diameter to the
    power ``degree + 1``.

    Parameters
    ----------
    objects : (n, m) array
    weights : (n,) array, optional
        Non-negative, all ones by default.
    size : int or float
        Objects to keep (int >= N), or a fraction of n (float in (0, 1]).
    degree : int
        Moments matched inside every cell.
    n_jobs : int, optional
        Threads (default: OpenMP's default, all cores). The result does not depend on it.

    Raises
    ------
    ValueError
        Bad input, or `size` below N = C(m + k, k).
    """
    x = as_points(objects, "objects")
    w = as_weights(weights, len(x))
    k = as_degree(degree)
    target = _as_size(size, len(x))
    n = n_moments(x.shape[1], k)
    if target < n and target < len(x):
        raise ValueError(
            f"size {target} is below N = {n}, the number of moments of degree <= {k} in "
            f"{x.shape[1]} dimensions; raise size or lower the degree"
        )
    previous = _core.max_threads()
    if n_jobs is not None:
        _core.set_threads(int(n_jobs))
    scale = weight_scale(w)
    try:
        result = _core.compress(x, w if scale == 1.0 else w / scale, k, target, False)
    finally:
        _core.set_threads(previous)
    return Compression(
        indices=result["indices"],
        weights=result["weights"] * scale,
        labels=result["labels"],
        degree=k,
        moment_error=result["moment_error"],
    )
