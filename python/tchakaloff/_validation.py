"""Input checks shared by the public functions: one conversion at the boundary, and errors
that say what to do."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_array(values: object, name: str) -> np.ndarray:
    """np.asarray, also for a torch tensor that requires grad (an ``nn.Parameter``), which
    numpy cannot read directly (its values, detached and on the CPU), and with a message
    that says what to pass for ragged nested lists."""
    detach = getattr(values, "detach", None)
    if callable(detach) and hasattr(values, "requires_grad"):
        values = detach().cpu()
    try:
        return np.asarray(values)
    except ValueError as error:  # ragged nested lists
        raise ValueError(
            f"{name} must be a rectangular array, one row per item: {error}"
        ) from error


def as_points(points: ArrayLike, name: str = "points") -> NDArray[np.float64]:
    """Return `points` as a C-contiguous float64 array of shape (n, m), n >= 1, m >= 1."""
    array = as_array(points, name)
    if array.dtype == bool:
        array = array.astype(np.float64)
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


def _real_vector(values: ArrayLike, length: int, name: str, each: str) -> NDArray[np.float64]:
    """`values` as a contiguous float64 (length,) array of real numbers (bools as 0 and 1)."""
    array = as_array(values, name)
    if array.dtype == bool:
        array = array.astype(np.float64)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"{name} must be real numbers, got dtype {array.dtype}")
    if array.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), {each}; got {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float64)


def as_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64] | None:
    """Return weights as a contiguous float64 (n,) array (None stays None: all ones)."""
    return None if weights is None else _real_vector(weights, n, "weights", "one per point")


def check_mass(
    w: NDArray[np.float64] | None, name: str = "weights", items: str = "points"
) -> NDArray[np.float64] | None:
    """Converted weights checked here to be finite and >= 0 with a positive, finite total
    (for the paths that do not hand them to the core as they are); `name` and `items` are
    the caller's words for them."""
    if w is None:
        return w
    with np.errstate(over="ignore"):
        total = w.sum()
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and 0 < total < np.inf):
        raise ValueError(
            f"{name} must be finite and >= 0 with a positive, finite total; drop the {items} "
            "of weight 0 instead of passing negative weights, and scale weights whose total "
            "overflows"
        )
    return w


def as_metric(metric: ArrayLike | None, m: int) -> NDArray[np.float64] | None:
    """Return a cell metric as a float64 (m,) array of finite factors >= 0, not all 0."""
    if metric is None:
        return None
    array = _real_vector(metric, m, "metric", "one factor per column")
    if not np.all(np.isfinite(array)) or np.any(array < 0) or not np.any(array > 0):
        raise ValueError(
            "metric must be finite and >= 0 with at least one positive factor (0 leaves a "
            f"column out of the cells); got {array}"
        )
    return array


def as_rng(rng: object) -> np.random.Generator:
    """numpy's Generator for `rng` (a Generator, a seed, or None), or a ValueError that says
    what is accepted (numpy's own is a TypeError about SeedSequence)."""
    try:
        return np.random.default_rng(rng)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"rng must be a numpy Generator, a non-negative integer seed or None, got {rng!r}"
        ) from error


def seeded_rng(rng: object) -> np.random.Generator:
    """:func:`as_rng` with None read as seed 0, for the randomised steps of a compression
    (sampled bandwidths, pivots, eigen-features, output directions): a call without `rng`
    then gives the same result every time, as :func:`tchakaloff.compress` does (where None
    keeps the input order). Only the random baselines draw fresh numbers for None."""
    return as_rng(0 if rng is None else rng)


def weight_scale(weights: NDArray[np.float64] | None) -> float:
    """A power of two that brings the largest weight near 1, so that very small or very large
    weights lose no precision in the core (only their ratios matter). 1 when not needed."""
    if weights is None or weights.size == 0:
        return 1.0
    largest = float(np.max(weights))
    if not np.isfinite(largest) or largest <= 0 or 1e-100 < largest < 1e100:
        return 1.0  # also leaves bad weights for the core to report
    scale = float(2.0 ** np.round(np.log2(largest)))
    with np.errstate(over="ignore"):
        total = float(np.sum(weights / scale)) * scale
    return scale if np.isfinite(total) else 1.0  # an overflowing total is the core's to refuse


# The core's integers are 64-bit (thread counts 32-bit): larger ones would fail in the
# binding with a TypeError that does not say why.
_INT64 = 2**63


def as_int(value: object, name: str, limit: int = _INT64) -> int:
    """Return value as an int below `limit` in absolute value (the core checks the rest)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if abs(int(value)) >= limit:
        raise ValueError(f"{name} = {value} is too large; pass a value below {limit}")
    return int(value)


def as_degree(degree: object) -> int:
    """Return degree as a non-negative int."""
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)):
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    return as_int(degree, "degree")


def as_size(size: object, n: int, unit: str = "object") -> int:
    """Return how many of n `unit`s to keep: an int >= 1 as it is, or a fraction in (0, 1] of
    n (at least 1)."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise ValueError(
            f"size must be an int ({unit}s to keep) or a float in (0, 1] (a fraction of the "
            f"{unit}s), got {size!r}"
        )
    if isinstance(size, numbers.Integral):
        count = as_int(size, "size")
        if count < 1:
            raise ValueError(f"size must be at least 1 {unit}, got {size}")
        return count
    fraction = float(size)  # numbers.Real is opaque to the type checker
    if not 0 < fraction <= 1:
        raise ValueError(f"a fractional size must lie in (0, 1], got {size}")
    return max(1, int(np.floor(fraction * n)))


def power_of_two_scale(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per column of `x`, the power of two at or just below its largest |value| (2^-1 for a
    zero column; 2^1024 would overflow): dividing by it is exact and brings the column into
    [-2, 2], where sums and squares cannot overflow."""
    scale: NDArray[np.float64] = np.ldexp(1.0, np.frexp(np.abs(x).max(axis=0))[1] - 1)
    return scale


def within_double_range(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """`x` as it is, or, when values beyond 1e150 would overflow the squares and sums of
    numpy helpers, with each column divided by its power_of_two_scale. Moments matched in
    scaled columns are matched in the original ones (a scaling per column is affine), and
    the rows kept are the same."""
    if np.abs(x).max(initial=0.0) < 1e150:
        return x
    return x / power_of_two_scale(x)
