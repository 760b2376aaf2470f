"""Input checks shared by the public functions: one conversion at the boundary, and errors
that say what to do."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_points(points: ArrayLike, name: str = "points") -> NDArray[np.float64]:
    """Return `points` as a C-contiguous float64 array of shape (n, m), n >= 1, m >= 1."""
    array = np.asarray(points)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got complex values")
    if array.ndim == 1:
        raise ValueError(
            f"{name} must be 2-d (n, m); for n scalar objects pass {name}.reshape(-1, 1)"
        )
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-d (n, m), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty; pass at least one row")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no columns; each object needs at least one coordinate")
    return np.ascontiguousarray(array, dtype=np.float64)


def as_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64] | None:
    """Return weights as a contiguous float64 (n,) array (None stays None: all ones)."""
    if weights is None:
        return None
    array = np.asarray(weights)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"weights must be real numbers, got dtype {array.dtype}")
    if array.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), one per point; got {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float64)


def as_degree(degree: object) -> int:
    """Return degree as a non-negative int."""
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)):
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    return int(degree)
