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

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._native import core as _core
from ._native import options
from ._threads import blas_on_one_thread
from ._validation import within_double_range
from .reduction import exponents, n_moments

# Components of the test functions below this fraction of the largest singular value are
# rounding, not functions: matching them would spend objects on noise.
_FUNCTION_RTOL = 1e-10
# A cell's Gram matrix is solved by its Cholesky factor while the factor's diagonal spans
# less than this ratio (a condition number below ~1e14), by lstsq beyond.
_GRAM_RTOL = 1e-7
# The reduction runs on one dense (objects x size) matrix of features.
_MAX_FEATURE_ENTRIES = 2e8
# The spare budget of a k-d compression may match moments up to degree k + this.
_MAX_EXTRA_DEGREES = 4
# Rounds of fill_cells: cells that cannot take their share hand it to the next ones.
_REFILL_ROUNDS = 8
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


def _leading_components(
    functions: NDArray[np.float64], weights: NDArray[np.float64], limit: int
) -> NDArray[np.float64]:
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
    leading: NDArray[np.float64] = functions @ basis[:, keep]
    return leading


def _cell_frame(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """The cell's points mapped onto [-1, 1]^m by its bounding box (flat columns to 0)."""
    low, high = points.min(axis=0), points.max(axis=0)
    half = (high - low) / 2
    frame: NDArray[np.float64] = (points - (low + high) / 2) / np.where(half > 0, half, 1.0)
    return frame


def _monomials(z: NDArray[np.float64], powers: NDArray[np.int64]) -> NDArray[np.float64]:
    """(n, M) values of the monomials z^powers[j], by products of a table of powers (far
    faster than a broadcast float power)."""
    table = np.ones((z.shape[1], int(powers.max(initial=0)) + 1, len(z)))
    for e in range(1, table.shape[1]):
        table[:, e] = table[:, e - 1] * z.T
    values = table[0, powers[:, 0]]
    for v in range(1, z.shape[1]):
        values = values * table[v, powers[:, v]]
    columns: NDArray[np.float64] = values.T
    return columns


def _cell_features(
    x: NDArray[np.float64],
    weights: NDArray[np.float64],
    rows: NDArray[np.intp],
    low: NDArray[np.int64],
    high: NDArray[np.int64],
    scale: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A cell's monomials up to degree k (in its [-1, 1] frame) and its degree-(k + 1)
    monomials, in a frame shared by all cells (`scale`) so that their sizes compare, minus
    the part that the degree-<=k moments already fix, along their leading singular
    directions, with the singular values."""
    block = _monomials(_cell_frame(x[rows]), low)
    local = (x[rows] - x[rows].mean(axis=0)) * scale
    root = np.sqrt(weights[rows])[:, None]
    next_moments = _monomials(local, high)
    residual = next_moments - block @ _least_squares(block * root, next_moments * root)
    sigma, directions = _leading_directions(residual * root)
    return block, residual @ directions.T, sigma


def _features_of_cells(
    x: NDArray[np.float64],
    weights: NDArray[np.float64],
    members: list[NDArray[np.intp]],
    low: NDArray[np.int64],
    high: NDArray[np.int64],
    scale: NDArray[np.float64],
    threads: int,
) -> list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]]:
    """:func:`_cell_features` of every cell (rows `members[c]`). The cells' fits are
    independent and small: one BLAS thread each, the cells spread over `threads` (0: the
    idle cores)."""
    with blas_on_one_thread(), ThreadPoolExecutor(threads or max(1, _core.idle_cores())) as pool:
        return list(
            pool.map(lambda rows: _cell_features(x, weights, rows, low, high, scale), members)
        )


def _least_squares(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """argmin_c ||a c - b||: the normal equations through a Cholesky factor (4x faster than
    LAPACK's SVD-based lstsq on a cell's 5600 x 56 monomials), lstsq where the columns are
    nearly dependent. The fit only picks a cell's directions: its degree-<=k moments are
    matched exactly beside them, so their part in a feature changes nothing."""
    import scipy.linalg

    with contextlib.suppress(np.linalg.LinAlgError):
        factor = scipy.linalg.cho_factor(a.T @ a, check_finite=False)
        diagonal = np.abs(np.diag(factor[0]))
        if diagonal.min() > _GRAM_RTOL * diagonal.max():
            fit: NDArray[np.float64] = scipy.linalg.cho_solve(factor, a.T @ b, check_finite=False)
            return fit
    least, *_ = np.linalg.lstsq(a, b, rcond=None)
    return least.astype(np.float64, copy=False)


def _leading_directions(
    a: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """a's singular values and right singular vectors (rows), largest first, from the
    eigenvectors of the small a^T a (LAPACK's SVD of a did not converge on one cell's
    188 x 84 residual); values the squaring leaves at rounding (below 1e-7 of the largest)
    read as 0."""
    values, vectors = np.linalg.eigh(a.T @ a)
    sigma = np.sqrt(np.maximum(values[::-1], 0.0))
    sigma[sigma < 1e-7 * sigma.max(initial=0.0)] = 0.0
    directions: NDArray[np.float64] = vectors[:, ::-1].T
    return sigma, directions


def _powers(m: int, degree: int, spare: int = 0) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Exponents of the monomials of degree <= k, and of the next ones: those of degree
    k + 1, and of k + 2, ... as well while fewer than `spare` (a cell's share of the budget
    that its degree-(k + 1) moments cannot use up, e.g. 44 objects beside N = 56 in one cell
    at m = 3, k = 5)."""
    low = exponents(m, degree)
    return low, exponents(m, top_degree(m, degree, spare))[len(low) :]


def top_degree(m: int, degree: int, spare: int) -> int:
    """The highest degree of the moments a cell's `spare` objects match (:func:`_powers`)."""
    top = degree + 1
    while n_moments(m, top) - n_moments(m, degree) < spare and top < degree + _MAX_EXTRA_DEGREES:
        top += 1
    return top


def label_runs(labels: NDArray[np.int64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The rows sorted by label (increasing rows within a label), and where each label's
    run starts: one sort for every cell's members."""
    # numpy sorts 16-bit keys by radix (6x faster than 64-bit ones for 1e6 rows)
    few = labels.size > 0 and labels.min() >= 0 and labels.max() < 2**16
    order = np.argsort(labels.astype(np.uint16) if few else labels, kind="stable")
    return order, np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0])


def _cell_boxes(
    x: NDArray[np.float64], order: NDArray[np.intp], starts: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Every cell's lowest and highest coordinates, (cells, m) each."""
    # column by column: 4x faster than x[order] and reductions along axis 0 (1e6 x 3)
    ordered = np.take(x.T, order, axis=1)
    bottom = np.minimum.reduceat(ordered, starts, axis=1).T
    top = np.maximum.reduceat(ordered, starts, axis=1).T
    return bottom, top


def taylor_remainders(
    x: NDArray[np.float64],
    weights: NDArray[np.float64],
    order: NDArray[np.intp],
    starts: NDArray[np.intp],
    degree: int,
    scale: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Every cell's Taylor remainder, weight x diameter^(k + 1), the diameter its box's widest
    side in `scale` units (default: :func:`_shared_scale`); and the scale. The cells are the
    runs of `order` that start at `starts` (:func:`label_runs`)."""
    bottom, top = _cell_boxes(x, order, starts)
    if scale is None:
        scale = _shared_scale(bottom, top)
    diameter = ((top - bottom) * scale).max(axis=1)
    return np.add.reduceat(weights[order], starts) * diameter ** (degree + 1), scale


def _shared_scale(bottom: NDArray[np.float64], top: NDArray[np.float64]) -> NDArray[np.float64]:
    """2 / the data's range per column (the cells' boxes cover it), 1 on a constant one."""
    span = top.max(axis=0) - bottom.min(axis=0)
    scale: NDArray[np.float64] = 2 / np.where(span > 0, span, 1.0)
    return scale


def _spread(sigmas: list[NDArray[np.float64]], budget: int) -> NDArray[np.intp]:
    """How many leading next moments each cell matches: the `budget` largest of all."""
    values = np.concatenate(sigmas)
    owner = np.concatenate([np.full(len(s), c) for c, s in enumerate(sigmas)])
    ranked = np.argsort(values)[::-1]
    ranked = ranked[values[ranked] > _FUNCTION_RTOL * max(values.max(initial=0.0), 1e-300)]
    return np.bincount(owner[ranked[:budget]], minlength=len(sigmas))


def _moment_error(
    blocks: list[tuple[NDArray[np.intp], NDArray[np.float64]]],
    moved: NDArray[np.float64],
    weights: NDArray[np.float64],
) -> float:
    """Largest |moment residual| / cell weight over the cells (rows, degree-<=k block)."""
    error = 0.0
    for rows, block in blocks:
        residual = np.abs(block.T @ moved[rows]).max() / max(weights[rows].sum(), 1e-300)
        error = max(error, float(residual))
    return error


@dataclass(frozen=True)
class CellReduction:
    """The core's compress result, as the steps here rebuild it: kept rows (sorted) and
    their weights, every row's cell, and the largest relative residual of a cell's moments
    (in its [-1, 1] frame)."""

    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    labels: NDArray[np.int64]
    moment_error: float


def fill_cells(
    x: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    degree: int,
    spare: int,
    result: CellReduction | _core.Compression,
    threads: int = 0,
) -> CellReduction:
    """The k-d result `result` (cells of at most N objects) with `spare` more objects: the
    cells whose Taylor remainder is largest (weight x diameter^(k + 1)) re-reduced to also
    match their leading degree-(k + 1) moments (and degree k + 2, ... where those are fewer
    than `spare`). Where a cell's next moments are numerically dependent on its first ones
    (the widest cells of heavy-tailed data, at high degree), it takes fewer than its share,
    and the rest goes to the next cells by remainder, in at most _REFILL_ROUNDS rounds.
    `threads`: the core's (0: automatic)."""
    x = within_double_range(x)
    n_objects, m = x.shape
    weights = np.ones(n_objects) if w is None else w
    labels = np.asarray(result.labels)
    order, starts = label_runs(labels)
    remainder, scale = taylor_remainders(x, weights, order, starts, degree)
    ranked = np.argsort(remainder)[::-1]
    groups = np.split(order, starts[1:])
    owner = labels[result.indices]
    owned = np.bincount(owner, minlength=int(labels.max()) + 1)  # objects each cell keeps
    refilled: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
    error = float(result.moment_error)
    moved = np.zeros(n_objects)
    left, tried = spare, 0
    for _ in range(_REFILL_ROUNDS):
        if left <= 0 or tried == len(ranked):
            break
        chosen = ranked[tried : tried + left]
        tried += len(chosen)
        # higher degrees only where the cells' degree-(k + 1) moments cannot take the budget
        low, high = _powers(m, degree, -(-left // len(chosen)))
        members = [groups[c] for c in chosen]
        features = _features_of_cells(x, weights, members, low, high, scale, threads)
        counts = _spread([sigma for _, _, sigma in features], left)
        for rows, (block, leading, _), count in zip(members, features, counts):
            if count == 0:
                continue
            cell = int(labels[rows[0]])
            # the reduction adds the constant itself: the block's would be a duplicate column
            stacked = np.ascontiguousarray(np.hstack([block[:, 1:], leading[:, :count]]))
            own = int(owned[cell])
            try:
                reduced = _core.reduce(
                    stacked,
                    None if w is None else w[rows],
                    1,
                    options(_core.ReduceOptions, threads=threads),
                )
            except _core.ReductionError:
                continue
            # A cell whose degree-k reduction kept fewer than N (degenerate points) may keep
            # up to N + count now: more than its share of the budget. It keeps its old one.
            if len(reduced.indices) > own + count:
                continue
            refilled[cell] = (rows[reduced.indices], reduced.weights)
            left -= len(reduced.indices) - own
            moved[rows[reduced.indices]] = reduced.weights
            moved[rows] -= weights[rows]
            error = max(error, _moment_error([(rows, block)], moved, weights))
    keep = ~np.isin(owner, np.fromiter(refilled, dtype=np.int64, count=len(refilled)))
    indices = [result.indices[keep], *(r for r, _ in refilled.values())]
    kept = [result.weights[keep], *(v for _, v in refilled.values())]
    indices_all = np.concatenate(indices)
    sort = np.argsort(indices_all)
    return CellReduction(
        indices_all[sort], np.concatenate(kept)[sort], np.asarray(result.labels), error
    )


def recombine(
    x: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    degree: int,
    size: int,
    functions: NDArray[np.float64],
    cut: NDArray[np.float64] | None,
    threads: int = 0,
) -> CellReduction:
    """At most `size` objects matching the cells' moments, the functions and the leading next
    moments (labels: the cells)."""
    x = within_double_range(x)
    n_objects, m = x.shape
    weights = np.ones(n_objects) if w is None else w
    low, high = _powers(m, degree)
    n = len(low)
    if size < n:
        raise ValueError(
            f"size {size} is below N = {n}, the number of moments of degree <= {degree} in "
            f"{m} dimensions; raise size or lower the degree"
        )
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
        else _core.compress(
            x,
            w,
            degree,
            cells * n,
            options(_core.CompressOptions, metric=cut, threads=threads, refine_steps=0),
        ).labels
    )
    order, starts = label_runs(labels)
    scale = _shared_scale(*_cell_boxes(x, order, starts))
    members = np.split(order, starts[1:])  # cell c's rows, c = 0 .. cells - 1
    features = _features_of_cells(x, weights, members, low, high, scale, threads)
    # The spare budget goes to the largest of all cells' leading next moments. Features that
    # depend on the others keep fewer objects than columns: add as many columns as were
    # missing and reduce again, keeping the fullest result within the budget.
    spare = size - cells * n - components.shape[1]
    best = None
    for _ in range(_FILL_ROUNDS):
        counts = _spread([sigma for _, _, sigma in features], spare)
        stacked = np.zeros((n_objects, cells * n + int(counts.sum())))
        column = cells * n
        for cell, (rows, (block, leading, _)) in enumerate(zip(members, features)):
            stacked[rows, cell * n : (cell + 1) * n] = block
            stacked[rows, column : column + counts[cell]] = leading[:, : counts[cell]]
            column += counts[cell]
        # the reduction adds the constant itself, the sum of the cells' indicator columns:
        # the first of these would be a dependent column
        features_all = np.hstack([components, stacked[:, 1:]])
        result = _core.reduce(
            np.ascontiguousarray(features_all), w, 1, options(_core.ReduceOptions, threads=threads)
        )
        kept = len(result.indices)
        if kept <= size and (best is None or kept > len(best.indices)):
            best = result
        if kept == size or counts.sum() < spare:
            break
        spare += size - kept
    if best is None:  # rounding kept more objects than there are features
        raise _core.ReductionError(
            f"the cells, functions and next moments kept more than {size} objects; lower the "
            "degree or pass fewer functions"
        )
    moved = np.zeros(n_objects)
    moved[best.indices] = best.weights
    moved -= weights
    blocks = [(rows, block) for rows, (block, _, _) in zip(members, features)]
    return CellReduction(
        np.asarray(best.indices),
        np.asarray(best.weights),
        labels,
        _moment_error(blocks, moved, weights),
    )
