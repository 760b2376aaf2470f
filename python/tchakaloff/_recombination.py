"""Cells and test functions in one recombination: ``compress(..., functions=...)``.

The k-d cells keep their moments up to degree k, as in :func:`tchakaloff.compress`, and in the
same reduction the kept objects also match, over all objects, the given test functions (say
each head's output on calibration inputs) and, with whatever budget is left, the leading
degree-(k + 1) moments of the cells. Every one of these is a linear constraint on the weights,
so one Caratheodory reduction on the stacked features keeps them all exactly, with weights
> 0, on at most as many objects as there are features: the budget is spent to the last object
whenever the features are independent.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._native import core as _core
from .reduction import exponents

# Components of the test functions below this fraction of the largest singular value are
# rounding, not functions: matching them would spend objects on noise.
_FUNCTION_RTOL = 1e-10
# The reduction runs on one dense (objects x size) matrix of features.
_MAX_FEATURE_ENTRIES = 2e8
# Reductions tried when dependent features leave part of the budget unused.
_FILL_ROUNDS = 3


def as_functions(functions: object, n: int) -> NDArray[np.float64]:
    """The test functions as a finite (n, F) float64 array."""
    array = np.asarray(functions, dtype=np.float64) if functions is not None else None
    if array is None or array.ndim != 2 or array.shape[0] != n or array.shape[1] == 0:
        shape = None if array is None else array.shape
        raise ValueError(
            f"functions must be an (n, F) array with one row per object (n = {n}); got {shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("functions contain NaN or inf; pass finite values")
    return array


def _leading_components(functions: NDArray, weights: NDArray, limit: int) -> NDArray[np.float64]:
    """At most `limit` columns spanning the weighted leading directions of the functions."""
    scaled = functions * np.sqrt(weights)[:, None]
    if functions.shape[1] <= functions.shape[0]:
        values, vectors = np.linalg.eigh(scaled.T @ scaled)
        basis = vectors
    else:  # more functions than objects: the same directions from the objects' side
        values, vectors = np.linalg.eigh(scaled @ scaled.T)
        basis = scaled.T @ vectors
    order = np.argsort(values)[::-1]
    largest = max(float(values[order[0]]), np.finfo(float).tiny)
    keep = order[values[order] > _FUNCTION_RTOL**2 * largest][:limit]
    return functions @ basis[:, keep]


def _cell_frame(points: NDArray) -> NDArray:
    """The cell's points mapped onto [-1, 1]^m by its bounding box (flat columns to 0)."""
    low, high = points.min(axis=0), points.max(axis=0)
    half = (high - low) / 2
    return (points - (low + high) / 2) / np.where(half > 0, half, 1.0)


def _monomials(z: NDArray, powers: NDArray) -> NDArray:
    return np.prod(z[:, None, :] ** powers[None], axis=2)


def recombine(
    x: NDArray,
    w: NDArray | None,
    degree: int,
    size: int,
    functions: NDArray,
    cut: NDArray | None,
) -> dict[str, object]:
    """At most `size` objects matching the cells' moments, the functions and the leading next
    moments, as the core's compress reports them: indices, weights, labels (the cells) and
    moment_error (the largest relative residual of a cell's moments, in its [-1, 1] frame)."""
    n_objects, m = x.shape
    weights = np.ones(n_objects) if w is None else w
    low = exponents(m, degree)
    n = len(low)
    components = _leading_components(functions, weights, size - n)
    cells = max(1, (size - components.shape[1]) // n)
    if n_objects * size > _MAX_FEATURE_ENTRIES:
        raise ValueError(
            f"matching functions as well keeps {size} objects in one reduction over "
            f"{n_objects} objects ({n_objects * size * 8 / 1e9:.1f} GB of features); lower "
            "size, or compress without functions"
        )
    labels = (
        np.zeros(n_objects, dtype=np.int64)
        if cells == 1
        else _core.compress(x, w, degree, cells * n, False, "kd", 1, 0.0, None, cut)["labels"]
    )
    # Degree k + 1 in every cell, in one frame for all cells so that their sizes compare:
    # the part that the cell's degree-<=k moments do not already fix, by its leading
    # singular directions.
    span = np.ptp(x, axis=0)
    global_frame = x / np.where(span > 0, span / 2, 1.0)
    high = exponents(m, degree + 1)[n:]
    blocks, residuals = [], []
    for cell in range(cells):
        rows = np.flatnonzero(labels == cell)
        block = _monomials(_cell_frame(x[rows]), low)
        local = global_frame[rows] - global_frame[rows].mean(axis=0)
        root = np.sqrt(weights[rows])[:, None]
        next_moments = _monomials(local, high)
        fit, *_ = np.linalg.lstsq(block * root, next_moments * root, rcond=None)
        residual = next_moments - block @ fit
        _, sigma, directions = np.linalg.svd(residual * root, full_matrices=False)
        blocks.append((rows, block))
        residuals.append((rows, residual @ directions.T, sigma))
    # The spare budget goes to the largest of all cells' leading next moments. Features that
    # depend on the others keep fewer objects than columns: add as many columns as were
    # missing and reduce again, keeping the fullest result within the budget.
    sigmas = np.concatenate([sigma for _, _, sigma in residuals])
    owner = np.concatenate([np.full(len(r[2]), c) for c, r in enumerate(residuals)])
    ranked = np.argsort(sigmas)[::-1]
    ranked = ranked[sigmas[ranked] > _FUNCTION_RTOL * max(sigmas.max(initial=0.0), 1e-300)]
    spare = size - cells * n - components.shape[1]
    best = None
    for _ in range(_FILL_ROUNDS):
        counts = np.bincount(owner[ranked[:spare]], minlength=cells)
        features = np.zeros((n_objects, cells * n + int(counts.sum())))
        column = cells * n
        for cell, ((rows, block), (_, leading, _)) in enumerate(zip(blocks, residuals)):
            features[rows, cell * n : (cell + 1) * n] = block
            features[rows, column : column + counts[cell]] = leading[:, : counts[cell]]
            column += counts[cell]
        result = _core.reduce(np.ascontiguousarray(np.hstack([components, features])), w, 1)
        kept = len(result["indices"])
        if kept <= size and (best is None or kept > len(best["indices"])):
            best = result
        if kept == size or spare >= len(ranked):
            break
        spare += size - kept
    assert best is not None  # the first round has at most `size` independent columns
    indices, kept = best["indices"], best["weights"]
    moved = np.zeros(n_objects)
    moved[indices] = kept
    moved -= weights
    error = 0.0
    for rows, block in blocks:
        residual = np.abs(block.T @ moved[rows]).max() / max(weights[rows].sum(), 1e-300)
        error = max(error, float(residual))
    return {"indices": indices, "weights": kept, "labels": labels, "moment_error": error}
